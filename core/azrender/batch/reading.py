"""A Batch job as azrender's JobStatus: task states, failure reasons, preparation failures.

Batch says a task failed with an exit code; the reason an artist can act on is in
the task's ``stderr.txt`` (on the node while it lives, else in the uploaded log)
or, for an exit code the node watcher uses (:data:`azrender.node.contract.EXIT_CODES`),
in the watcher's own reason line. A failed job preparation task leaves the job's
tasks waiting forever (``waitForSuccess``), so its failure is read too and shown
on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from azure.batch import BatchClient
from azure.batch import models as bm
from azure.core.exceptions import AzureError, ResourceNotFoundError

from azrender.batch.payload import mask_secrets
from azrender.errors import JobError, UsageError
from azrender.model import FrameRange, JobStatus, TaskStatus
from azrender.node.contract import EXIT_CODES, reason_in
from azrender.progress import Progress
from azrender.storage.client import redact

R = TypeVar("R")



class Caller(Protocol):
    """Calls the service: ``call(what, fn)`` retries throttling and makes errors one line."""

    def __call__(self, what: str, fn: Callable[[], R]) -> R: ...


#: A wait reads the full status at least this often (in polls) even when the counts stand still.
FULL_STATUS_EVERY = 8
STDERR_TAIL_LINES = 3
STDERR_TAIL_BYTES = 4096


class JobReader:
    """Reads jobs and tasks through ``client()``; one per backend (it remembers failure reasons)."""

    def __init__(
        self,
        client: Callable[[], BatchClient],
        call: Caller,
        *,
        account: str,
        secrets: Callable[[], tuple[str, ...]] = lambda: (),
        stderr_fetcher: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self._client = client
        self._call = call
        self.account = account
        self.secrets = secrets
        self.stderr_fetcher = stderr_fetcher
        self._failures: dict[tuple[str, str, str, int], str] = {}  # failure reason per task attempt

    @property
    def client(self) -> BatchClient:
        return self._client()

    def status(self, job_id: str) -> JobStatus:
        try:
            job = self._call(f"reading job {job_id}", lambda: self.client.get_job(job_id))
        except JobError as exc:
            if isinstance(exc.__cause__, ResourceNotFoundError):
                raise JobError(
                    f"no job {job_id!r} on Batch account {self.account}",
                    hint="check the job id (`azrender jobs --backend azure` lists them)",
                ) from None
            raise
        tasks = self._call(f"listing tasks of job {job_id}", lambda: list(self.client.list_tasks(job_id)))
        return self.job_status(job, tasks)

    def job_status(self, job: bm.BatchJob, tasks: list[bm.BatchTask]) -> JobStatus:
        done = wire_value(job.state) == "completed"
        preparation = self.preparation_failure(job)
        statuses = [self._task_status(job.id, t, job_done=done, preparation=preparation) for t in tasks]
        statuses.sort(key=lambda t: t.task_id)
        ended = job.execution_info.end_time if job.execution_info else None
        return JobStatus(
            job_id=job.id,
            state="completed" if done else "active",
            created=job.creation_time.timestamp(),
            tasks=statuses,
            backend="azure",
            ended=ended.timestamp() if ended else None,
        )

    def preparation_failure(self, job: bm.BatchJob) -> str | None:
        """Why the job's tasks cannot start: its preparation task failed on a node (exit code,
        stderr tail; redacted), or None.

        With ``waitForSuccess`` Batch runs none of the job's tasks on a node whose preparation
        task failed, and the tasks just wait: without this, status would show them "active".
        """
        if job.job_preparation_task is None:
            return None
        entries = self._call(
            f"reading the preparation tasks of job {job.id}",
            lambda: list(self.client.list_job_preparation_and_release_task_status(job.id)),
        )
        reasons = []
        for entry in entries:
            info = entry.job_preparation_task_execution_info
            if info is None or wire_value(info.state) != "completed" or wire_value(info.result) != "failure":
                continue
            reason = f"preparation task failed on node {entry.node_id}"
            if info.exit_code is not None:
                reason += f": exit code {info.exit_code}"
            elif info.failure_info and info.failure_info.message:
                reason += f": {info.failure_info.message}"
            tail = self._node_stderr_tail(entry.pool_id, entry.node_id, info.task_root_directory)
            if tail:
                reason += f"; stderr: {tail}"
            reasons.append(reason)
        if not reasons:
            return None
        more = f" (and {len(reasons) - 1} more node(s))" if len(reasons) > 1 else ""
        return mask_secrets(reasons[0] + more, self.secrets())

    def _node_stderr_tail(self, pool_id: str | None, node_id: str | None, root: str | None) -> str | None:
        if not (pool_id and node_id and root):
            return None
        path = root.replace("\\", "/").strip("/") + "/stderr.txt"
        try:
            data = b"".join(self.client.download_node_file(pool_id, node_id, path))
        except AzureError:
            return None  # the node may be gone; the exit code still says enough
        return _tail(data[-STDERR_TAIL_BYTES:].decode("utf-8", "replace"))

    def _task_status(
        self, job_id: str, task: bm.BatchTask, *, job_done: bool, preparation: str | None = None
    ) -> TaskStatus:
        info = task.execution_info
        state = wire_value(task.state)
        status = TaskStatus(task_id=task.id, frames=_frames(task.display_name))
        if info is not None:
            status.started = info.start_time.timestamp() if info.start_time else None
            status.ended = info.end_time.timestamp() if info.end_time else None
            status.exit_code = info.exit_code
        if state == "completed":
            status.state = "completed"
            status.result = wire_value(info.result) if info and info.result else "failure"
            if status.result == "failure":
                status.failure = self._failure(job_id, task)
        elif job_done:
            # Batch leaves unstarted tasks "active" in a terminated job: they will never run.
            status.state, status.result = "completed", "failure"
            status.failure = f"not run: {preparation}" if preparation else (
                "not run: the job ended (cancelled or past its time limit)"
            )
        else:
            status.state = "running" if state in ("running", "preparing") else "active"
            if preparation and status.state == "active":
                status.failure = f"waiting: {preparation}"
        return status

    def _failure(self, job_id: str, task: bm.BatchTask) -> str:
        """Why the task failed, read once per attempt: a wait polls every few seconds and
        must not download every failed task's stderr each time."""
        info = task.execution_info
        key = (job_id, task.id, str(info.end_time if info else None), info.retry_count if info else 0)
        if key not in self._failures:
            self._failures[key] = self._read_failure(job_id, task)
        return self._failures[key]

    def _read_failure(self, job_id: str, task: bm.BatchTask) -> str:
        info = task.execution_info
        if info and info.exit_code in EXIT_CODES:
            # The watcher ended the renderer: its own one-line reason says why, better than
            # "exit code 64"; the code's meaning when the log cannot be read.
            text = self._stderr_text(job_id, task.id)
            reason = reason_in(text) if text else None
            return redact(reason or f"{EXIT_CODES[info.exit_code]} (exit code {info.exit_code})")
        parts = []
        if info and info.failure_info and info.failure_info.message:
            parts.append(info.failure_info.message)
        elif info and info.exit_code is not None:
            parts.append(f"exit code {info.exit_code}")
        tail = self.stderr_tail(job_id, task.id)
        if tail:
            parts.append(f"stderr: {tail}")
        return redact("; ".join(parts) or "failed")

    def stderr_tail(self, job_id: str, task_id: str) -> str | None:
        """The last lines of the task's stderr.txt: from the node, else from the uploaded log."""
        text = self._stderr_text(job_id, task_id)
        return _tail(text) if text else None

    def _stderr_text(self, job_id: str, task_id: str) -> str | None:
        """The end of the task's stderr.txt: from the node, else from the uploaded log."""
        try:
            data = b"".join(self.client.download_task_file(job_id, task_id, "stderr.txt"))
            return data[-STDERR_TAIL_BYTES:].decode("utf-8", "replace")
        except AzureError:
            if self.stderr_fetcher is not None:
                return self.stderr_fetcher(job_id, task_id)
        return None

    def task_counts(self, job_id: str) -> tuple[str, int, int, int] | None:
        """(job state, active, running, completed tasks) from two small requests (Get Job and
        Get Task Counts), or None when the service cannot say (then a full status is read)."""
        try:
            job = self._call(f"reading job {job_id}", lambda: self.client.get_job(job_id))
            counts = self._call(
                f"counting the tasks of job {job_id}", lambda: self.client.get_job_task_counts(job_id)
            ).task_counts
        except JobError:
            return None
        return wire_value(job.state), counts.active, counts.running, counts.completed

    def follow(
        self,
        job_id: str,
        *,
        polls: int,
        poll_seconds: float,
        sleep: Callable[[float], None],
        progress: Progress,
    ) -> JobStatus:
        """Poll until the job has completed, at most ``polls`` times, reporting on ``progress``.

        Each poll asks for the job's state and task counts; the full status (every task,
        failure reasons) is read only when those change, and every
        :data:`FULL_STATUS_EVERY` polls for a preparation task that fails while nothing moves.
        """
        status = self.status(job_id)
        progress.begin(f"render {job_id}", total=len(status.tasks), unit="tasks")
        reported = 0
        told: set[str] = set()
        seen = self.task_counts(job_id)
        for poll in range(polls):
            for reason in sorted({t.failure for t in status.tasks if t.failure and t.failure.startswith("waiting: ")}):
                if reason not in told:
                    told.add(reason)
                    progress.note(f"[{job_id}] tasks {reason}")
            finished = sum(t.state == "completed" for t in status.tasks)
            progress.advance(finished - reported)
            reported = finished
            if status.state == "completed":
                break
            sleep(poll_seconds)
            counts = self.task_counts(job_id)
            if counts is None or counts != seen or counts[0] == "completed" or poll % FULL_STATUS_EVERY == 0:
                status = self.status(job_id)
            seen = counts
        progress.end()
        for task in status.tasks:
            if task.result == "failure":
                progress.note(f"[{job_id}] task {task.task_id} failed: {task.failure}")
        return status


def _tail(text: str) -> str | None:
    """The last non-blank lines of a log, on one line, redacted."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return redact(" / ".join(lines[-STDERR_TAIL_LINES:])[-500:]) or None


def wire_value(value: object) -> str:
    """An SDK enum member or plain string as its wire value (``"completed"``)."""
    return str(getattr(value, "value", value))


def _frames(display_name: str | None) -> list[int]:
    """Frames from a task's display name (``blender frames 1-2``)."""
    _, sep, label = (display_name or "").rpartition(" frames ")
    if not sep:
        return []
    try:
        return list(FrameRange.parse(label).frames)
    except UsageError:
        return []
