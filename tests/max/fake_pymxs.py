"""A ``pymxs.runtime`` stand-in that answers from a saved ``.max``, for testing the in-app code.

:class:`SceneFileRuntime` implements :class:`~azrender_max.pymxs_protocol.Runtime`
over a scene read by the headless reader (:func:`azrender_max.scan.read_max_scene`):
the asset manager lists the file's ``FileAssetMetaData`` records, ``fileProperties``
its document summary, ``xrefs`` its xref-scene records, and the render size,
renderer and active segment come from the summary's "Render Data". What a
saved file does not tell (the render time type, the range, the pickup list,
the viewport camera) starts at 3ds Max's defaults for a new scene and can be
set on the object, as an artist would in Render Setup. It is not 3ds Max.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING, Any

from azrender_max.assetmeta import AssetRecord
from azrender_max.pymxs_protocol import Runtime
from azrender_max.scan import read_max_scene

# Render Setup's defaults in a new 3ds Max scene.
DEFAULT_PICKUP_FRAMES = "1,3,5-12"
DEFAULT_SIZE = (640, 480)
DEFAULT_RANGE = (0, 100)


@dataclass(frozen=True)
class MxsName:
    """A MAXScript name value: ``str()`` is the name without ``#``, as pymxs prints it."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FakeInterval:
    start: int
    end: int


@dataclass(frozen=True)
class FakeAsset:
    record: AssetRecord

    def GetFileName(self) -> str:
        return self.record.path

    def GetFullFilePath(self) -> str:
        return self.record.resolved

    def GetType(self) -> MxsName:
        return MxsName(self.record.type)

    def GetAssetId(self) -> str:
        return str(self.record.asset_id)


@dataclass
class FakeAssetManager:
    records: list[AssetRecord]

    def GetNumAssets(self) -> int:
        return len(self.records)

    def GetAssetByIndex(self, index: int) -> FakeAsset:
        if not 1 <= index <= len(self.records):
            raise IndexError(f"AssetManager index {index} out of 1..{len(self.records)}")
        return FakeAsset(self.records[index - 1])


@dataclass
class FakeFileProperties:
    groups: dict[str, tuple[str, ...]]

    def findProperty(self, set_name: Any, name: str) -> int:
        if str(set_name) != "contents":
            return 0
        headings = list(self.groups)
        return headings.index(name) + 1 if name in headings else 0

    def getItems(self, name: str) -> list[str] | None:
        items = self.groups.get(name)
        return list(items) if items is not None else None


@dataclass(frozen=True)
class FakeXRefScene:
    filename: str


@dataclass
class FakeXRefs:
    files: list[str]

    def getXRefFileCount(self) -> int:
        return len(self.files)

    def getXRefFile(self, index: int) -> FakeXRefScene:
        if not 1 <= index <= len(self.files):
            raise IndexError(f"xref index {index} out of 1..{len(self.files)}")
        return FakeXRefScene(self.files[index - 1])


@dataclass(frozen=True)
class FakeNode:
    name: str
    class_name: str = "Targetcamera"


@dataclass
class FakeViewport:
    camera: FakeNode | None = None

    def getCamera(self) -> FakeNode | None:
        return self.camera


@dataclass(frozen=True)
class FakeRenderer:
    class_name: str


@dataclass
class FakeRenderers:
    current: FakeRenderer


@dataclass
class SceneFileRuntime:
    """``pymxs.runtime`` answers for ``scene`` as 3ds Max would have it open."""

    scene: Path
    sliderTime: int = 0
    rendTimeType: int = 1
    rendNThFrame: int = 1
    rendPickupFrames: str = DEFAULT_PICKUP_FRAMES
    rendOutputFilename: str = ""
    save_required: bool = False
    cameras: list[FakeNode] = field(default_factory=list)
    viewport: FakeViewport = field(default_factory=FakeViewport)

    def __post_init__(self) -> None:
        self.scene = self.scene.absolute()
        read = read_max_scene(self.scene)
        info = read.info
        self.maxFilePath = str(self.scene.parent) + os.sep  # 3ds Max keeps the trailing separator
        self.maxFileName = self.scene.name
        start = info.frame_start if info.frame_start is not None else DEFAULT_RANGE[0]
        end = info.frame_end if info.frame_end is not None else DEFAULT_RANGE[1]
        self.animationRange = FakeInterval(start, end)
        self.rendStart, self.rendEnd = start, end
        self.renderWidth = info.width or DEFAULT_SIZE[0]
        self.renderHeight = info.height or DEFAULT_SIZE[1]
        self.renderers = FakeRenderers(FakeRenderer(info.renderer or "Default_Scanline_Renderer"))
        self.AssetManager = FakeAssetManager(list(read.records))
        self.fileProperties = FakeFileProperties(dict(info.groups))
        xref_scenes = [r.path for r in read.records
                       if r.type.replace(" ", "").lower() == "xref"
                       and PureWindowsPath(r.path).suffix.lower() in (".max", ".maxc")]
        self.xrefs = FakeXRefs(xref_scenes)

    def classOf(self, value: Any) -> MxsName:
        if isinstance(value, FakeRenderer):
            return MxsName(value.class_name)
        if isinstance(value, FakeNode):
            return MxsName(value.class_name)
        return MxsName(type(value).__name__)

    def Name(self, text: str) -> MxsName:
        return MxsName(text)

    def getSaveRequired(self) -> bool:
        return self.save_required


if TYPE_CHECKING:  # mypy --strict checks the stand-in against the protocol the UI is written to

    def _conforms(scene: Path) -> Runtime:
        return SceneFileRuntime(scene)
