"""3ds Max's side of the dialog: :class:`azrender.qt.AppSession` over ``pymxs.runtime``.

Settings come from Render Setup's Common tab: the time output (``rendTimeType``:
1 single frame, 2 active time segment, 3 range, 4 pickup frames), every n-th
frame, output size and file, the renderer, and the camera of the active
viewport. Dependencies come from the asset manager (the records the saved
file's ``FileAssetMetaData`` stream holds), filtered by 3ds Max's own
"External Dependencies" list and resolved by the headless scanner's rules
(:func:`azrender_max.scan.resolve_record`), xref scenes followed by the
headless scanner: for a saved scene, in-app and headless discovery agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from azrender.errors import AzrenderError, UsageError
from azrender.model import Asset, AssetKind, AssetSet, FrameRange
from azrender.qt.session import SceneInfo
from azrender_max.assetmeta import AssetRecord
from azrender_max.pymxs_protocol import Runtime
from azrender_max.scan import (
    APP,
    ScanContext,
    ifl_images,
    is_bundled,
    kind_of,
    record_is_used,
    resolve_record,
    scan_file,
)
from azrender_max.summary import MaxSceneInfo, summary_from_groups

SINGLE, ACTIVE_SEGMENT, RANGE, PICKUP = 1, 2, 3, 4
TIME_TYPES = {SINGLE: "single frame", ACTIVE_SEGMENT: "active time segment", RANGE: "range",
              PICKUP: "frames"}
DEPENDENCIES = "External Dependencies"
_SCENE_SUFFIXES = (".max", ".maxc")
# Camera targets are listed among `cameras` too; they render nothing.
_NOT_CAMERAS = {"targetobject"}


@dataclass(frozen=True)
class MaxRenderSettings:
    """Render Setup as the artist left it."""

    time_type: int
    frames: FrameRange
    nth: int
    output: str
    renderer: str
    width: int
    height: int
    camera: str


def frames_for(time_type: int, *, current: int, segment: tuple[int, int], range_: tuple[int, int],
               nth: int, pickup: str) -> FrameRange:
    """The frames Render Setup's time output renders.

    >>> frames_for(3, current=0, segment=(0, 100), range_=(10, 20), nth=5, pickup="").frames
    (10, 15, 20)
    >>> frames_for(4, current=0, segment=(0, 100), range_=(0, 1), nth=5, pickup="1,3,5-7").frames
    (1, 3, 5, 6, 7)
    """
    step = max(1, nth)
    if time_type == SINGLE:
        return FrameRange.parse(str(current))
    if time_type in (ACTIVE_SEGMENT, RANGE):
        first, last = segment if time_type == ACTIVE_SEGMENT else range_
        if last < first:
            raise UsageError(f"the render range ends ({last}) before it starts ({first})",
                             hint="fix the range in Render Setup > Common > Time Output")
        return FrameRange.parse(f"{first}-{last}" + (f"x{step}" if step > 1 else ""))
    if time_type == PICKUP:
        # Every Nth Frame does not apply to a frame list in 3ds Max either.
        return FrameRange.parse(pickup)
    raise UsageError(f"unknown render time output rendTimeType={time_type}",
                     hint="choose Single, Active Time Segment, Range or Frames in Render Setup")


class MaxSession:
    """The open 3ds Max scene, as the dialog sees it."""

    app = APP

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def scene_path(self) -> Path:
        name = str(self.rt.maxFileName or "")
        if not name:
            raise AzrenderError("the 3ds Max scene has never been saved",
                                hint="save it (File > Save As) and open Render on Azure again")
        return Path(str(self.rt.maxFilePath)) / name

    def _cameras(self) -> list[str]:
        """The viewport's camera first (what renders), then the scene's other cameras."""
        names: list[str] = []
        active = self.rt.viewport.getCamera()
        if active is not None:
            names.append(str(active.name))
        for node in self.rt.cameras:
            if str(self.rt.classOf(node)).lower() not in _NOT_CAMERAS and str(node.name) not in names:
                names.append(str(node.name))
        return names

    def render_settings(self) -> MaxRenderSettings:
        rt = self.rt
        cameras = self._cameras()
        return MaxRenderSettings(
            time_type=int(rt.rendTimeType),
            frames=frames_for(
                int(rt.rendTimeType), current=int(rt.sliderTime),
                segment=(int(rt.animationRange.start), int(rt.animationRange.end)),
                range_=(int(rt.rendStart), int(rt.rendEnd)),
                nth=int(rt.rendNThFrame), pickup=str(rt.rendPickupFrames),
            ),
            nth=max(1, int(rt.rendNThFrame)),
            output=str(rt.rendOutputFilename or ""),
            renderer=str(rt.classOf(rt.renderers.current)),
            width=int(rt.renderWidth),
            height=int(rt.renderHeight),
            camera=cameras[0] if cameras else "",
        )

    def scene_info(self) -> SceneInfo:
        scene = self.scene_path()
        settings = self.render_settings()
        frames = settings.frames.frames
        # The dialog edits start/end/step; a pickup list shows as its span (see frame_range()).
        step = settings.nth if settings.time_type in (ACTIVE_SEGMENT, RANGE) else 1
        return SceneInfo(
            scene=scene, app=self.app, start=min(frames), end=max(frames), step=step,
            renderer=settings.renderer, cameras=tuple(self._cameras()),
            resolution=(settings.width, settings.height),
            modified=bool(self.rt.getSaveRequired()),
        )

    def frame_range(self) -> FrameRange:
        """Exactly the frames Render Setup renders, pickup lists included."""
        return self.render_settings().frames

    def _records(self) -> list[AssetRecord]:
        manager = self.rt.AssetManager
        records = []
        for index in range(1, int(manager.GetNumAssets()) + 1):
            user = manager.GetAssetByIndex(index)
            try:
                asset_id = uuid.UUID(str(user.GetAssetId()).strip("{}"))
            except ValueError:
                asset_id = uuid.UUID(int=0)
            records.append(AssetRecord(asset_id, str(user.GetType()).lstrip("#"),
                                       str(user.GetFileName() or ""), str(user.GetFullFilePath() or "")))
        return records

    def _dependency_list(self) -> MaxSceneInfo:
        """3ds Max's own list of what the scene uses; empty info (all records count) when absent."""
        props = self.rt.fileProperties
        if not props.findProperty(self.rt.Name("contents"), DEPENDENCIES):
            return MaxSceneInfo()
        items = props.getItems(DEPENDENCIES)
        return summary_from_groups({DEPENDENCIES: [str(i) for i in (items or ())]})

    def dependencies(self) -> AssetSet:
        """Every file the open scene needs, from the asset manager; xref scenes followed."""
        scene = self.scene_path()
        result = AssetSet(scene=scene, app=self.app)
        result.add(Asset.from_disk(scene, AssetKind.SCENE))
        info = self._dependency_list()
        ctx = ScanContext(scene_dir=scene.parent, map_paths=(), env=None, label="")
        records = self._records()
        known = {r.path.casefold() for r in records}
        # Xrefs 3ds Max has loaded but the asset manager did not list still count.
        for index in range(1, int(self.rt.xrefs.getXRefFileCount()) + 1):
            name = str(self.rt.xrefs.getXRefFile(index).filename or "")
            if name and name.casefold() not in known:
                records.append(AssetRecord(uuid.UUID(int=index), "XRef", name))
        visited = {scene.resolve()}
        for record in records:
            kind = kind_of(record)
            if kind is None or is_bundled(record.path) or not record_is_used(record, info):
                continue
            assets = resolve_record(record, kind, ctx)
            result.extend(assets)
            for asset in assets:
                suffix = PureWindowsPath(asset.path.name).suffix.lower()
                if asset.exists and suffix == ".ifl":
                    result.extend(ifl_images(asset.path, f"{record.type} {{{record.asset_id}}}"))
                if asset.exists and kind is AssetKind.REFERENCE and suffix in _SCENE_SUFFIXES:
                    # The xref's own files: read from its file, as 3ds Max loaded it.
                    scan_file(asset.path, (), None, result, visited, label=f"{asset.path.name}: ")
        return result
