"""The plain data that crosses every boundary: assets, frames, jobs and tasks.

Nothing here does I/O. A scanner fills an :class:`AssetSet`, the storage layer
uploads it, an app adapter turns a :class:`JobSpec` into :class:`TaskSpec`
command lines, and a backend (local or Azure Batch) runs them.

>>> frames = FrameRange.parse("1-10x3")
>>> frames.frames
(1, 4, 7, 10)
>>> [c.frames for c in frames.chunks(2)]
[(1, 4), (7, 10)]
"""

from __future__ import annotations

import enum
import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The frame types are part of the data that crosses boundaries; they live in their own room.
from azrender.frames import MAX_FRAMES as MAX_FRAMES
from azrender.frames import FrameChunk as FrameChunk
from azrender.frames import FrameChunks as FrameChunks
from azrender.frames import FrameRange as FrameRange


class AssetKind(str, enum.Enum):
    """What a dependency is for; decides nothing about transfer, helps the report."""

    SCENE = "scene"
    TEXTURE = "texture"
    LIBRARY = "library"
    REFERENCE = "reference"
    CACHE = "cache"
    VOLUME = "volume"
    AUDIO = "audio"
    MOVIE = "movie"
    FONT = "font"
    SCRIPT = "script"
    OTHER = "other"


@dataclass(frozen=True)
class Asset:
    """One file a scene needs on the render node.

    ``path`` is absolute and as the artist's machine sees it. ``referrer`` names
    the node or datablock that refers to the file, so a missing file can be traced
    back to the scene object that needs it.
    """

    path: Path
    kind: AssetKind
    exists: bool
    size: int | None = None
    referrer: str = ""

    @classmethod
    def from_disk(cls, path: Path | str, kind: AssetKind, referrer: str = "") -> Asset:
        """Stat ``path`` and describe it; a missing file is recorded, never dropped."""
        p = path if isinstance(path, Path) and path.is_absolute() else Path(path).absolute()
        try:
            st = os.stat(p)  # one stat answers "exists", "is a file" and the size (scans make thousands)
        except OSError:
            return cls(path=p, kind=kind, exists=False, size=None, referrer=referrer)
        return cls.from_stat(p, kind, st, referrer)

    @classmethod
    def from_stat(cls, path: Path, kind: AssetKind, st: os.stat_result, referrer: str = "") -> Asset:
        """:meth:`from_disk` for an absolute ``path`` whose stat was just taken (a resolver's)."""
        return cls(path=path, kind=kind, exists=stat.S_ISREG(st.st_mode), size=st.st_size, referrer=referrer)

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "kind": self.kind.value,
            "exists": self.exists,
            "size": self.size,
            "referrer": self.referrer,
        }


class SceneSettings(Protocol):
    """What the core reads from a scene's saved render settings (an app's own type holds more).

    ``start``/``end`` are the saved frame range, ``renderer`` the saved
    renderer's name; each None (or empty) where the file does not say.
    """

    @property
    def start(self) -> float | None: ...

    @property
    def end(self) -> float | None: ...

    @property
    def renderer(self) -> str | None: ...


@dataclass
class AssetSet:
    """Every dependency of one scene, the scene file itself included.

    Adding the same path twice keeps the first entry: a texture used by ten
    materials is one file to upload.
    """

    scene: Path
    app: str
    assets: list[Asset] = field(default_factory=list)
    packed_count: int = 0
    # One line each: what the scan read but cannot vouch for (e.g. a file saved
    # by an application newer than the scanner is tested with). Never a refusal.
    warnings: list[str] = field(default_factory=list)
    # Files the scene names that come with the application itself (Maya's
    # ``<MAYA_RESOURCES>/OCIO-configs/...``): named in the report, never uploaded.
    app_files: list[Asset] = field(default_factory=list)
    # The application version that saved each file it could tell (the scene and
    # each linked library), e.g. ``{scene: "5.3"}``; read from the file's header.
    app_versions: dict[Path, str] = field(default_factory=dict)
    # The render settings saved in the scene, as its application's scan read them
    # (the app's own type): what the tasks' command lines default to. None: not read.
    settings: SceneSettings | None = None
    # Paths as the scene writes them that the scan found somewhere else (Maya's
    # project and file rules) -> the local file: the remap points them at its node copy.
    resolved: dict[str, str] = field(default_factory=dict)
    # Paths already in ``assets``: scenes with thousands of files must not pay a
    # linear search per add. Made from ``assets`` at the first add, not before: an
    # AssetSet that is only read (a scan cache hit) never hashes its 10,000 Paths,
    # which on Python 3.13 parses each one.
    _seen: set[Path] | None = field(default=None, init=False, repr=False, compare=False)

    def add(self, asset: Asset) -> None:
        if self._seen is None:
            self._seen = {a.path for a in self.assets}
        if asset.path not in self._seen:
            self._seen.add(asset.path)
            self.assets.append(asset)

    def extend(self, assets: Iterable[Asset]) -> None:
        for asset in assets:
            self.add(asset)

    @property
    def app_version(self) -> str | None:
        """The version of the application that saved the scene ("5.3"), when known."""
        return self.app_versions.get(self.scene)

    @property
    def present(self) -> list[Asset]:
        return [a for a in self.assets if a.exists]

    @property
    def missing(self) -> list[Asset]:
        return [a for a in self.assets if not a.exists]

    @property
    def total_bytes(self) -> int:
        return sum(a.size or 0 for a in self.present)

    def to_json(self) -> dict[str, object]:
        """The `azrender scan --json` document (a stable contract)."""
        return {
            "scene": str(self.scene),
            "app": self.app,
            "assets": [a.to_json() for a in self.assets],
            "missing": [str(a.path) for a in self.missing],
            "packed": self.packed_count,
            "warnings": list(self.warnings),
            "app_version": self.app_version,
            "app_versions": {str(path): version for path, version in self.app_versions.items()},
            "app_files": [{"path": str(a.path), "referrer": a.referrer} for a in self.app_files],
        }


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
