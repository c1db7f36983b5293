"""The plain data that crosses every boundary: assets, frames, jobs and tasks.

Nothing here does I/O. A scanner fills an :class:`AssetSet`, the storage layer
uploads it, an app adapter turns a :class:`JobSpec` into :class:`TaskSpec`
command lines, and a backend (local or Azure Batch) runs them.

The asset types are defined here; the frame types (:mod:`azrender.frames`)
and the job types (:mod:`azrender.jobmodel`) have rooms of their own and are
named here as well, each loaded on its first use (PEP 562's module
``__getattr__``). A scan needs only the assets, and on Python 3.11 every
dataclass compiles its methods when it is defined: the job half and the frames
took ~4 ms of an ``azrender scan``'s start (issue 20, ``bench/scan.py``).

>>> from azrender.model import FrameRange
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from azrender.lazy import lazy_names

if TYPE_CHECKING:
    from azrender.frames import MAX_FRAMES as MAX_FRAMES
    from azrender.frames import FrameChunk as FrameChunk
    from azrender.frames import FrameChunks as FrameChunks
    from azrender.frames import FrameRange as FrameRange
    from azrender.jobmodel import JobSpec as JobSpec
    from azrender.jobmodel import JobStatus as JobStatus
    from azrender.jobmodel import OutputFileSpec as OutputFileSpec
    from azrender.jobmodel import RenderOptions as RenderOptions
    from azrender.jobmodel import ResourceFileSpec as ResourceFileSpec
    from azrender.jobmodel import TaskSpec as TaskSpec
    from azrender.jobmodel import TaskStatus as TaskStatus
    from azrender.jobmodel import UploadCondition as UploadCondition
    from azrender.jobmodel import job_from_json as job_from_json
    from azrender.jobmodel import job_to_json as job_to_json
    from azrender.jobmodel import task_from_json as task_from_json
    from azrender.jobmodel import task_to_json as task_to_json

#: The names defined in other rooms, and the module each comes from.
_HOMES = {
    **dict.fromkeys(("MAX_FRAMES", "FrameChunk", "FrameChunks", "FrameRange"), "azrender.frames"),
    **dict.fromkeys(
        (
            "JobSpec", "JobStatus", "OutputFileSpec", "RenderOptions", "ResourceFileSpec", "TaskSpec",
            "TaskStatus", "UploadCondition", "job_from_json", "job_to_json", "task_from_json", "task_to_json",
        ),
        "azrender.jobmodel",
    ),
}  # fmt: skip


__getattr__, __dir__ = lazy_names(globals(), _HOMES)


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
