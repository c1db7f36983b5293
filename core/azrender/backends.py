"""The contract every execution backend meets, and the choice between them.

A backend takes a finished :class:`~azrender.model.JobSpec` (assets already
uploaded, job manifest written) and runs it; it reports
:class:`~azrender.model.JobStatus` in the same shape whatever runs the tasks::

    backend = backend_for(preset)              # or backend_for(preset, "azure")
    status = backend.submit(job, wait=True, progress=progress)
    print(status.counts)
"""

from __future__ import annotations

from typing import Protocol

from azrender.errors import UsageError
from azrender.model import JobSpec, JobStatus
from azrender.presets import Preset
from azrender.progress import NO_PROGRESS, Progress

BACKENDS = ("local", "azure")


class Backend(Protocol):
    name: str

    def submit(self, job: JobSpec, *, wait: bool, progress: Progress = NO_PROGRESS) -> JobStatus:
        """Start the job; with ``wait``, return only when every task has completed."""
        ...

    def status(self, job_id: str) -> JobStatus:
        ...

    def jobs(self) -> list[JobStatus]:
        """Jobs this backend knows of, oldest first."""
        ...

    def cancel(self, job_id: str) -> JobStatus:
        """Stop a job: no new task starts, running tasks are ended."""
        ...

    def wait(self, job_id: str, progress: Progress = NO_PROGRESS) -> JobStatus:
        """Poll until every task has completed; the job runs on without this process.

        A ``KeyboardInterrupt`` ends only the waiting: the job goes on.
        """
        ...


def backend_for(preset: Preset, kind: str | None = None) -> Backend:
    """The backend named by ``kind`` (a command-line override) or by the preset."""
    chosen = kind or preset.backend.kind
    if chosen == "local":
        from azrender.local.backend import LocalBackend

        return LocalBackend(slots=preset.backend.slots, account_url=preset.storage.account_url)
    if chosen == "azure":
        from azrender.batch.backend import AzureBatchBackend

        return AzureBatchBackend(preset)
    raise UsageError(f"unknown backend {chosen!r}", hint=f"use one of: {', '.join(BACKENDS)}")
