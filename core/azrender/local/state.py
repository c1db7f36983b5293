"""Job and task state of the local backend, kept on disk.

One JSON file per job under ``<data dir>/local/jobs/``, rewritten atomically
(temp file + rename) so another process running ``azrender status`` or
``azrender jobs`` never reads a half-written record. The states follow Azure
Batch: a task is ``active`` → ``running`` → ``completed`` with a ``result`` of
``success`` or ``failure``; a job is ``active`` until all its tasks completed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from azrender.errors import JobError
from azrender.model import JobSpec, JobStatus, TaskStatus, job_from_json, job_to_json
from azrender.node.contract import PREPARATION_TASK_ID, RELEASE_TASK_ID
from azrender.settings import data_dir


def jobs_dir() -> Path:
    return data_dir() / "local" / "jobs"


def node_root() -> Path:
    return data_dir() / "local" / "node"


# A local task's state is exactly the backend-neutral status.
TaskState = TaskStatus


@dataclass
class JobRecord:
    """What the local backend knows about one job; the JobSpec plus live state."""

    job: JobSpec
    state: str = "active"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    preparation: TaskState = field(default_factory=lambda: TaskState(PREPARATION_TASK_ID))
    release: TaskState = field(default_factory=lambda: TaskState(RELEASE_TASK_ID))
    tasks: list[TaskState] = field(default_factory=list)
    worker_pid: int | None = None

    @classmethod
    def new(cls, job: JobSpec) -> JobRecord:
        return cls(job=job, tasks=[TaskState(t.task_id, list(t.frames)) for t in job.tasks])

    @property
    def job_id(self) -> str:
        return self.job.job_id

    def task(self, task_id: str) -> TaskState:
        for t in self.tasks:
            if t.task_id == task_id:
                return t
        raise KeyError(task_id)

    def to_status(self) -> JobStatus:
        return JobStatus(
            job_id=self.job_id,
            state=self.state,
            created=self.created,
            ended=self.ended,
            tasks=self.tasks,
            backend="local",
        )

    @property
    def counts(self) -> dict[str, int]:
        return self.to_status().counts

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "state": self.state,
            "created": self.created,
            "ended": self.ended,
            "worker_pid": self.worker_pid,
            "counts": self.counts,
            "preparation": asdict(self.preparation),
            "release": asdict(self.release),
            "tasks": [asdict(t) for t in self.tasks],
            "job": job_to_json(self.job),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        return cls(
            job=job_from_json(data["job"]),
            state=data["state"],
            created=data["created"],
            ended=data.get("ended"),
            worker_pid=data.get("worker_pid"),
            preparation=TaskState(**data["preparation"]),
            release=TaskState(**data["release"]),
            tasks=[TaskState(**t) for t in data["tasks"]],
        )


class JobStore:
    """Reads and atomically writes job records; one lock per process for writers."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or jobs_dir()
        self._lock = threading.Lock()

    def path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.json"

    def save(self, record: JobRecord) -> None:
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            text = json.dumps(record.to_json(), indent=1)
            fd, tmp = tempfile.mkstemp(prefix=f".{record.job_id}.", dir=self.root)
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(text)
                os.replace(tmp, self.path(record.job_id))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def load(self, job_id: str) -> JobRecord:
        path = self.path(job_id)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise JobError(
                f"no local job {job_id!r}",
                hint="`azrender jobs --preset FILE` lists the jobs this machine knows",
            ) from None
        except (OSError, ValueError) as exc:
            raise JobError(f"job record {path} is unreadable: {exc}") from None
        return JobRecord.from_json(data)

    def all(self) -> list[JobRecord]:
        if not self.root.is_dir():
            return []
        records = []
        for path in sorted(self.root.glob("*.json")):
            try:
                records.append(JobRecord.from_json(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError):
                continue  # a foreign or damaged file is not a job; `status` on it says why
        return sorted(records, key=lambda r: r.created)
