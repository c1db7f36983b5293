"""Run a job on this machine exactly the way an Azure Batch node runs it.

Order and semantics follow Batch: the job preparation task runs once on the
node before the first task (a failure there fails every task of the job);
tasks run in parallel slots from their own command lines, without a shell,
in their own working folder; each task's output files (frames, and its
``stdout.txt``/``stderr.txt``) are uploaded per their upload condition; the job
release task runs when the job ends.
"""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azrender.errors import AzrenderError
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore, TaskState
from azrender.model import OutputFileSpec, TaskSpec, UploadCondition
from azrender.node.contract import EXIT_CODES, PREPARATION_TASK_ID, RELEASE_TASK_ID, reason_in
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import redact

# Uploads (local file, blob name) pairs to the job's outputs container.
OutputSink = Callable[[list[tuple[Path, str]]], None]
# Puts a task's resource files into its working folder; raises AzrenderError when it cannot.
ResourceFetcher = Callable[[TaskSpec, Path], None]

_WILDCARDS = set("*?[")


def expand_output_pattern(task_dir: Path, spec: OutputFileSpec) -> list[tuple[Path, str]]:
    """Files matched by a Batch ``filePattern`` and the blob name each one gets.

    As in Batch, the pattern is relative to the task's working directory. A
    pattern without wildcards names one file uploaded to exactly
    ``destination``; with wildcards, ``destination`` is a prefix to which each
    file's path below the pattern's fixed part is appended.
    """
    working_dir = task_dir / "wd"
    pattern = spec.pattern.replace("\\", "/")
    parts = pattern.split("/")
    fixed: list[str] = []
    for part in parts:
        if _WILDCARDS & set(part):
            break
        fixed.append(part)
    base = (working_dir / "/".join(fixed)).resolve() if fixed else working_dir.resolve()
    if len(fixed) == len(parts):
        single = (working_dir / pattern).resolve()
        return [(single, spec.destination)] if single.is_file() else []
    matches = sorted(glob.glob(str(working_dir / pattern), recursive=True))
    prefix = spec.destination.rstrip("/")
    found = []
    for match in matches:
        path = Path(match).resolve()
        if path.is_file():
            rel = path.relative_to(base).as_posix()
            found.append((path, f"{prefix}/{rel}" if prefix else rel))
    return found


_REASON_TAIL_BYTES = 8192


def watcher_reason(stderr_path: Path) -> str | None:
    """The last ``azrender: ...`` line of a task's stderr (the watcher's one-line reason), or None.

    Only the file's tail is read: a renderer may have written megabytes before it.
    """
    tail = _read_tail(stderr_path)
    return reason_in(tail) if tail is not None else None


# Lines of a renderer's stderr that say nothing about why it stopped: Blender's frame
# progress, a traceback's frames and source lines, pointer lines under them.
_NOISE_PREFIXES = ("Fra:", "Traceback (most recent call last)", "Saved:", "Time:", "Blender quit")


def last_meaningful_line(log: str) -> str | None:
    r"""The last line of ``log`` that can say why a renderer failed, redacted, or None.

    A Python traceback ends in its exception line; a shell says ``X: command not
    found`` last; progress and traceback frames are skipped.

    >>> last_meaningful_line("Fra:1 Mem:3M\nError: unknown engine 'FOO'\nFra:1 Mem:3M\n\n")
    "Error: unknown engine 'FOO'"
    >>> last_meaningful_line('Traceback (most recent call last):\n  File "x.py", line 1\n'
    ...                      '    boom()\n    ^^^^^^\nValueError: no camera\n')
    'ValueError: no camera'
    >>> last_meaningful_line("/bin/bash: line 1: Render: command not found\n")
    '/bin/bash: line 1: Render: command not found'
    """
    for raw in reversed(log.splitlines()):
        line = raw.strip()
        if not line or raw[:1].isspace() or line.startswith(_NOISE_PREFIXES):
            continue
        if set(line) <= set("^~ "):
            continue
        return redact(line[:300])
    return None


def failure_reason(exit_code: int, stderr_path: Path) -> str:
    """Why a task failed, in one line: the watcher's reason, else the exit code and the last
    meaningful stderr line (the artist should not have to open the log to see
    ``Render: command not found``)."""
    reason = watcher_reason(stderr_path)
    if reason is not None:
        return reason
    tail = _read_tail(stderr_path)
    line = last_meaningful_line(tail) if tail else None
    if line is None:
        return f"exit code {exit_code}; see {stderr_path}"
    return f"exit code {exit_code}: {line}"


def _read_tail(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - _REASON_TAIL_BYTES))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return None


def _condition_met(condition: UploadCondition, success: bool) -> bool:
    if condition is UploadCondition.COMPLETION:
        return True
    return success if condition is UploadCondition.SUCCESS else not success


class LocalExecutor:
    """Runs one job's tasks on an emulated node; state goes to the job store as it changes."""

    def __init__(
        self,
        layout: NodeLayout,
        store: JobStore,
        upload_outputs: OutputSink,
        *,
        slots: int = 2,
        progress: Progress = NO_PROGRESS,
        fetch_resources: ResourceFetcher | None = None,
        node_environment: dict[str, str] | None = None,
    ) -> None:
        self.layout = layout
        self.store = store
        self.upload_outputs = upload_outputs
        self.slots = max(1, slots)
        self.progress = progress
        self.fetch_resources = fetch_resources
        # What the Batch backend gives the preparation and release tasks to reach storage.
        self.node_environment = dict(node_environment or {})

    def run(self, record: JobRecord) -> JobRecord:
        job = record.job
        self.layout.create()
        record.worker_pid = os.getpid()
        self.store.save(record)
        if job.preparation is not None:
            self.progress.note(f"[{job.job_id}] job preparation: syncing assets to the node")
            self._run_task(record, job.preparation, record.preparation)
        prepared = record.preparation.result in (None, "success") or job.preparation is None
        # Only tasks that have not completed run: a retry requeues the failed ones and
        # leaves the succeeded ones (and their frames) as they are.
        open_tasks = [spec for spec in job.tasks if record.task(spec.task_id).state != "completed"]
        if not prepared:
            for spec in open_tasks:
                self._finish(record.task(spec.task_id), None, "failure", "job preparation task failed")
            self.store.save(record)
        else:
            self.progress.begin(f"render {job.job_id}", total=len(open_tasks), unit="tasks")
            with ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="slot") as pool:
                futures = [
                    pool.submit(self._run_and_count, record, spec, record.task(spec.task_id))
                    for spec in open_tasks
                ]
                for future in futures:
                    future.result()
            self.progress.end()
        if job.release is not None:
            self._run_task(record, job.release, record.release)
        record.state = "completed"
        record.ended = time.time()
        self.store.save(record)
        return record

    def _run_and_count(self, record: JobRecord, spec: TaskSpec, state: TaskState) -> None:
        self._run_task(record, spec, state)
        self.progress.advance(1)
        if state.result == "failure":
            self.progress.note(
                f"[{record.job_id}] task {spec.task_id} failed: {state.failure}"
            )

    def _run_task(self, record: JobRecord, spec: TaskSpec, state: TaskState) -> None:
        task_dir = self.layout.task_dir(record.job_id, spec.task_id)
        working_dir = task_dir / "wd"
        attempts = 1 + max(0, spec.max_retries)
        for attempt in range(attempts):
            working_dir.mkdir(parents=True, exist_ok=True)
            state.state, state.started, state.ended = "running", time.time(), None
            self.store.save(record)
            exit_code, failure = self._execute(record.job_id, spec, task_dir, record.job.environment)
            # A licence or missing plug-in failure (the watcher's 64/65) fails the same way
            # again: no retry, as the Batch job's exit conditions say too.
            if exit_code == 0 or exit_code in EXIT_CODES or attempt == attempts - 1:
                break
        success = exit_code == 0
        uploaded = self._upload(spec, task_dir, success)
        state.outputs = uploaded
        self._finish(state, exit_code, "success" if success else "failure", failure)
        self.store.save(record)

    def _execute(
        self, job_id: str, spec: TaskSpec, task_dir: Path, common: dict[str, str] | None = None
    ) -> tuple[int | None, str | None]:
        # As Batch's commonEnvironmentSettings: the job's variables for every task, the task's own win.
        extra = {**(common or {}), **spec.environment}
        if spec.task_id in (PREPARATION_TASK_ID, RELEASE_TASK_ID):
            extra = {**extra, **self.node_environment}
        env = self.layout.task_environment(job_id, spec.task_id, extra)
        if spec.resource_files:
            # As on Batch: the files are in place before the command starts, and a task whose
            # files cannot be fetched fails without running.
            if self.fetch_resources is None:
                return None, "resource files: the node has no storage to fetch them from"
            try:
                self.fetch_resources(spec, task_dir / "wd")
            except AzrenderError as exc:
                return None, f"resource files: {exc}"
        try:
            argv = shlex.split(spec.command_line)
        except ValueError as exc:
            return None, f"command line does not parse: {exc}"
        if not argv:
            return None, "empty command line"
        with open(task_dir / "stdout.txt", "ab") as out, open(task_dir / "stderr.txt", "ab") as err:
            try:
                proc = subprocess.run(
                    argv,
                    cwd=task_dir / "wd",
                    env=env,
                    stdout=out,
                    stderr=err,
                    stdin=subprocess.DEVNULL,
                    timeout=spec.max_wall_clock_seconds,
                    check=False,
                )
            except FileNotFoundError:
                return None, f"{argv[0]}: command not found on the node"
            except subprocess.TimeoutExpired:
                return None, f"exceeded its wall-clock limit of {spec.max_wall_clock_seconds}s"
        if proc.returncode != 0:
            return proc.returncode, failure_reason(proc.returncode, task_dir / "stderr.txt")
        return 0, None

    def _upload(self, spec: TaskSpec, task_dir: Path, success: bool) -> list[str]:
        items: list[tuple[Path, str]] = []
        for output in spec.output_files:
            if _condition_met(output.condition, success):
                items.extend(expand_output_pattern(task_dir, output))
        if items:
            self.upload_outputs(items)
        return [blob for _, blob in items]

    @staticmethod
    def _finish(state: TaskState, exit_code: int | None, result: str, failure: str | None) -> None:
        state.state = "completed"
        state.exit_code = exit_code
        state.result = result
        state.failure = failure
        state.ended = time.time()
        if state.started is None:
            state.started = state.ended


__all__ = [
    "LocalExecutor",
    "OutputSink",
    "expand_output_pattern",
    "watcher_reason",
]
