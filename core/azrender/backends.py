"""The contract every execution backend meets, and the choice between them.

A backend takes a finished :class:`~azrender.model.JobSpec` (assets already
uploaded, job manifest written) and runs it; it reports
:class:`~azrender.model.JobStatus` in the same shape whatever runs the tasks::

    backend = backend_for(preset)              # or backend_for(preset, "azure")
    status = backend.submit(job, wait=True, progress=progress)
    print(status.counts)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from azrender.errors import UsageError
from azrender.model import JobSpec, JobStatus
from azrender.presets import Preset
from azrender.presets.vocabulary import BACKEND_KINDS
from azrender.progress import NO_PROGRESS, Progress

#: The backends ``backend.kind`` and ``--backend`` name (the preset vocabulary's words).
BACKENDS = BACKEND_KINDS


@dataclass
class Retried:
    """What ``retry`` did: the failed tasks of ``job_id`` requeued, in that job or (a Batch job
    that had ended, which Batch cannot reopen) in the new job ``rerun_job_id``."""

    job_id: str
    tasks: list[str] = field(default_factory=list)
    backend: str = ""
    rerun_job_id: str | None = None

    @property
    def follow(self) -> str:
        """The job that renders the requeued tasks."""
        return self.rerun_job_id or self.job_id

    def line(self) -> str:
        """One line for a terminal, a status bar or a panel."""
        names = ", ".join(self.tasks[:3]) + (f" and {len(self.tasks) - 3} more" if len(self.tasks) > 3 else "")
        if self.rerun_job_id:
            return (f"job {self.job_id} had ended: {len(self.tasks)} failed task(s) ({names}) "
                    f"run again as job {self.rerun_job_id}; its frames join {self.job_id}'s")
        return f"job {self.job_id}: {len(self.tasks)} failed task(s) requeued ({names})"

    def to_json(self) -> dict[str, object]:
        return {"job_id": self.job_id, "backend": self.backend, "requeued": list(self.tasks),
                "rerun_job_id": self.rerun_job_id, "follow": self.follow}


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

    def retry(self, job_id: str) -> Retried:
        """Requeue the job's failed tasks; its succeeded tasks are not run again.

        Raises :class:`~azrender.errors.JobError` for an unknown job or one with
        nothing to retry.
        """
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
