"""The local backend: submit a JobSpec to the emulated node on this machine.

``submit(job, wait=True)`` runs the job in this process with progress;
``wait=False`` starts a detached worker (``python -m azrender.local.worker``)
and returns at once, like a submit to Azure Batch. Either way the job record on
disk is the truth that ``status``, ``jobs`` and ``download`` read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from azrender.errors import JobError
from azrender.local.executor import LocalExecutor
from azrender.local.interpreter import python_executable, with_this_sys_path
from azrender.local.node import (
    NodeLayout,
    install_node_tools,
    link_mounts,
    local_mounts_from_env,
    missing_mount,
)
from azrender.local.state import JobRecord, JobStore, node_root
from azrender.model import JobSpec, JobStatus
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import container_client
from azrender.storage.upload import UploadItem, upload_files


class LocalBackend:
    """Runs jobs on one emulated Batch node with ``slots`` parallel task slots."""

    name = "local"

    def __init__(
        self,
        *,
        slots: int = 2,
        account_url: str | None = None,
        store: JobStore | None = None,
        layout: NodeLayout | None = None,
        mounts: dict[str, Path] | None = None,
    ) -> None:
        self.slots = slots
        self.account_url = account_url
        self.store = store or JobStore()
        self.layout = layout or NodeLayout(node_root())
        # Local folders standing in for the pool's mounts (nfs/cifs/...): AZRENDER_LOCAL_MOUNTS.
        self.mounts = local_mounts_from_env() if mounts is None else mounts

    def submit(self, job: JobSpec, *, wait: bool, progress: Progress = NO_PROGRESS) -> JobStatus:
        if self.store.path(job.job_id).exists():
            raise JobError(
                f"job {job.job_id!r} was already submitted",
                hint="a job id is used once; submit again to get a new one",
            )
        needed = missing_mount(self.layout, job.node_scene, self.mounts)
        if needed is not None:
            raise JobError(
                f"the scene lives on mount {needed!r}, which the local node does not have",
                hint=f'point it at a local folder: AZRENDER_LOCAL_MOUNTS="{needed}=/path/to/share"',
            )
        link_mounts(self.layout, self.mounts)
        record = JobRecord.new(job)
        self.store.save(record)
        if wait:
            return self.run(record, progress=progress).to_status()
        log = self.store.path(job.job_id).with_suffix(".log")
        with open(log, "ab") as handle:
            proc = subprocess.Popen(
                [python_executable(), "-m", "azrender.local.worker", job.job_id, "--slots", str(self.slots)]
                + (["--account-url", self.account_url] if self.account_url else []),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,  # survives the submitting terminal closing
                env=with_this_sys_path(os.environ),
            )
        record.worker_pid = proc.pid
        self.store.save(record)
        return record.to_status()

    def run(self, record: JobRecord, *, progress: Progress = NO_PROGRESS) -> JobRecord:
        """Run a stored job to the end in this process."""
        install_node_tools(self.layout)
        link_mounts(self.layout, self.mounts)
        outputs = container_client(record.job.outputs_container, account_url=self.account_url)

        def upload_outputs(items: list[tuple[Path, str]]) -> None:
            upload_files(outputs, [UploadItem(path, blob) for path, blob in items], cache=None, index_blob=None)

        executor = LocalExecutor(
            self.layout, self.store, upload_outputs, slots=self.slots, progress=progress
        )
        return executor.run(record)

    def status(self, job_id: str) -> JobStatus:
        return self._refresh(self.store.load(job_id)).to_status()

    def _refresh(self, record: JobRecord) -> JobRecord:
        if record.state == "active" and record.worker_pid and not _alive(record.worker_pid):
            # The worker died without finishing (killed, machine rebooted): say so
            # instead of showing a job that stays "running" forever.
            record.state = "completed"
            for task in record.tasks:
                if task.state != "completed":
                    task.state, task.result = "completed", "failure"
                    task.failure = "the local worker stopped before this task finished"
            self.store.save(record)
        return record

    def jobs(self) -> list[JobStatus]:
        return [self._refresh(r).to_status() for r in self.store.all()]

    def cancel(self, job_id: str) -> JobStatus:
        """Terminate the job's worker (and the task processes it started); open tasks fail."""
        record = self.store.load(job_id)
        if record.state == "active" and record.worker_pid and _alive(record.worker_pid):
            try:
                # A detached worker leads its own process group: this ends its renders too.
                os.killpg(record.worker_pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(record.worker_pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(record.worker_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        record = self.store.load(job_id)
        if record.state == "active":
            record.state, record.ended = "completed", time.time()
            for task in record.tasks:
                if task.state != "completed":
                    task.state, task.result = "completed", "failure"
                    task.failure = "job cancelled"
                    task.ended = record.ended
            self.store.save(record)
        return record.to_status()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child that nobody reaped still answers kill(0): check for a zombie.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
