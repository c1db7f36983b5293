"""The job half of the model: a render job, its tasks, their inputs and outputs, their states, their JSON.

Plain data, no I/O, as the rest of :mod:`azrender.model` (which names
everything here too): an app adapter turns a :class:`JobSpec` into
:class:`TaskSpec` command lines, a backend (local or Azure Batch) runs them
and reports a :class:`JobStatus`, and the job JSON stored beside the outputs
is :func:`job_to_json` / :func:`job_from_json`.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azrender.frames import FrameRange


class UploadCondition(str, enum.Enum):
    """When a task's output files are uploaded (the Batch OutputFileUploadCondition)."""

    SUCCESS = "tasksuccess"
    FAILURE = "taskfailure"
    COMPLETION = "taskcompletion"


@dataclass(frozen=True)
class OutputFileSpec:
    """Files a task leaves behind that go to the outputs container.

    ``pattern`` is relative to the task directory (``wd/out/**/*``,
    ``../stdout.txt`` style, exactly as Batch's OutputFile ``filePattern``);
    ``destination`` is the blob name or prefix in the outputs container.
    """

    pattern: str
    destination: str
    condition: UploadCondition = UploadCondition.COMPLETION


@dataclass(frozen=True)
class ResourceFileSpec:
    """Blobs of the job's assets container the node puts in the task's working directory first.

    As Batch's ``ResourceFile`` with ``storageContainerUrl`` + ``blobPrefix``:
    every blob below ``blob_prefix`` lands at ``wd/<file_path>/<blob name>``
    (the blob's own folders kept) before the command line starts, and a failed
    download fails the task without running it.
    """

    blob_prefix: str
    file_path: str = ""


@dataclass(frozen=True)
class TaskSpec:
    """One command line run on a node, as Azure Batch runs it: no shell unless asked for."""

    task_id: str
    command_line: str
    frames: tuple[int, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    output_files: tuple[OutputFileSpec, ...] = ()
    max_retries: int = 0
    max_wall_clock_seconds: int | None = None
    display_name: str = ""
    resource_files: tuple[ResourceFileSpec, ...] = ()


@dataclass(frozen=True)
class RenderOptions:
    """How to render, where the artist overrides the scene; ``None``/empty means "as saved".

    Each app adapter turns these into its renderer's flags (Blender ``-E`` and
    Cycles device, Maya ``-cam``/``-rl``/``-r``, 3ds Max ``-camera:``/``-w:``/``-h:``).
    """

    camera: str | None = None
    layers: tuple[str, ...] = ()
    renderer: str | None = None
    width: int | None = None
    height: int | None = None
    threads: int | None = None
    device: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "camera": self.camera,
            "layers": list(self.layers),
            "renderer": self.renderer,
            "width": self.width,
            "height": self.height,
            "threads": self.threads,
            "device": self.device,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RenderOptions:
        return cls(
            camera=data.get("camera"),
            layers=tuple(data.get("layers", ())),
            renderer=data.get("renderer"),
            width=data.get("width"),
            height=data.get("height"),
            threads=data.get("threads"),
            device=data.get("device"),
        )


@dataclass
class JobSpec:
    """Everything a backend needs to run a render job, and nothing secret.

    ``node_scene`` is where the scene file will be on the node; ``tasks`` are
    filled in by the app adapter from ``frames`` and ``chunk_size``.
    """

    job_id: str
    app: str
    scene: Path
    frames: FrameRange
    chunk_size: int
    assets_container: str
    outputs_container: str
    node_scene: str = ""
    output_format: str = "PNG"
    render: RenderOptions = field(default_factory=RenderOptions)
    preparation: TaskSpec | None = None
    release: TaskSpec | None = None
    tasks: list[TaskSpec] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    # The version of the application that saved the scene ("5.3"; "" when unknown): the
    # local node picks its Blender by it.
    app_version: str = ""


@dataclass
class TaskStatus:
    """Where one task stands, as any backend reports it (states follow Azure Batch)."""

    task_id: str
    frames: list[int] = field(default_factory=list)
    state: str = "active"  # active | running | completed
    result: str | None = None  # success | failure, once completed
    exit_code: int | None = None
    started: float | None = None
    ended: float | None = None
    failure: str | None = None
    outputs: list[str] = field(default_factory=list)

    @property
    def elapsed(self) -> float | None:
        if self.started is None:
            return None
        return (self.ended or time.time()) - self.started


@dataclass
class JobStatus:
    """A job's state and its tasks', the same shape for the local and the Azure backend."""

    job_id: str
    state: str  # active | completed
    created: float
    tasks: list[TaskStatus]
    backend: str
    ended: float | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "active": sum(t.state == "active" for t in self.tasks),
            "running": sum(t.state == "running" for t in self.tasks),
            "succeeded": sum(t.result == "success" for t in self.tasks),
            "failed": sum(t.result == "failure" for t in self.tasks),
        }

    def failure_summary(self) -> str:
        """The failures in one line, for a list cell or a panel: ``""`` when none failed.

        >>> tasks = [TaskStatus("frames-001", [1], "completed", "success"),
        ...          TaskStatus("frames-002", [2], "completed", "failure", 127,
        ...                     failure="exit code 127: Render: command not found")]
        >>> JobStatus("j", "completed", 0.0, tasks, "local").failure_summary()
        '1 of 2 tasks failed; frames-002: exit code 127: Render: command not found'
        """
        failed = [t for t in self.tasks if t.result == "failure"]
        if not failed:
            return ""
        first = failed[0]
        reason = (first.failure or f"exit code {first.exit_code}").splitlines()[0]
        return f"{len(failed)} of {len(self.tasks)} tasks failed; {first.task_id}: {reason}"

    def to_json(self) -> dict[str, object]:
        """The job part of `azrender status --json` and `submit --wait --json`."""
        return {
            "job_id": self.job_id,
            "backend": self.backend,
            "state": self.state,
            "counts": self.counts,
            "tasks": [
                {
                    "task_id": t.task_id,
                    "frames": t.frames,
                    "state": t.state,
                    "result": t.result,
                    "exit_code": t.exit_code,
                    "failure": t.failure,
                }
                for t in self.tasks
            ],
        }


def task_to_json(task: TaskSpec) -> dict[str, object]:
    return {
        "task_id": task.task_id,
        "command_line": task.command_line,
        "frames": list(task.frames),
        "environment": dict(task.environment),
        "output_files": [
            {"pattern": o.pattern, "destination": o.destination, "condition": o.condition.value}
            for o in task.output_files
        ],
        "max_retries": task.max_retries,
        "max_wall_clock_seconds": task.max_wall_clock_seconds,
        "display_name": task.display_name,
        "resource_files": [
            {"blob_prefix": r.blob_prefix, "file_path": r.file_path} for r in task.resource_files
        ],
    }


def task_from_json(data: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        task_id=str(data["task_id"]),
        command_line=str(data["command_line"]),
        frames=tuple(int(f) for f in data.get("frames", ())),
        environment={str(k): str(v) for k, v in data.get("environment", {}).items()},
        output_files=tuple(
            OutputFileSpec(str(o["pattern"]), str(o["destination"]), UploadCondition(o["condition"]))
            for o in data.get("output_files", ())
        ),
        max_retries=int(data.get("max_retries", 0)),
        max_wall_clock_seconds=data.get("max_wall_clock_seconds"),
        display_name=str(data.get("display_name", "")),
        resource_files=tuple(
            ResourceFileSpec(str(r["blob_prefix"]), str(r.get("file_path", "")))
            for r in data.get("resource_files", ())
        ),
    )


def job_to_json(job: JobSpec) -> dict[str, object]:
    """A JSON-able form of the job; it holds no credential by construction."""
    return {
        "job_id": job.job_id,
        "app": job.app,
        "scene": str(job.scene),
        "frames": job.frames.spec,
        "chunk_size": job.chunk_size,
        "assets_container": job.assets_container,
        "outputs_container": job.outputs_container,
        "node_scene": job.node_scene,
        "output_format": job.output_format,
        "render": job.render.to_json(),
        "preparation": task_to_json(job.preparation) if job.preparation else None,
        "release": task_to_json(job.release) if job.release else None,
        "tasks": [task_to_json(t) for t in job.tasks],
        "environment": dict(job.environment),
        "app_version": job.app_version,
    }


def job_from_json(data: dict[str, Any]) -> JobSpec:
    return JobSpec(
        job_id=str(data["job_id"]),
        app=str(data["app"]),
        scene=Path(data["scene"]),
        frames=FrameRange.parse(str(data["frames"])),
        chunk_size=int(data["chunk_size"]),
        assets_container=str(data["assets_container"]),
        outputs_container=str(data["outputs_container"]),
        node_scene=str(data.get("node_scene", "")),
        output_format=str(data.get("output_format", "PNG")),
        render=RenderOptions.from_json(data.get("render") or {}),
        preparation=task_from_json(data["preparation"]) if data.get("preparation") else None,
        release=task_from_json(data["release"]) if data.get("release") else None,
        tasks=[task_from_json(t) for t in data.get("tasks", ())],
        environment={str(k): str(v) for k, v in data.get("environment", {}).items()},
        app_version=str(data.get("app_version", "")),
    )
