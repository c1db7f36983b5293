"""What the dialog needs from the application it runs in: the app-side protocol.

Maya and 3ds Max each implement :class:`AppSession` over their own API
(``maya.cmds``, ``pymxs``); the dialog never imports either. A session answers
with plain data::

    info = session.scene_info()       # SceneInfo: path, frames, renderer, cameras, layers
    assets = session.dependencies()   # AssetSet found through the app, or None

Application APIs may only be called on the application's main thread, so
the dialog calls these two methods on the UI thread and keeps everything
slow (hashing, upload, submit, download) off it. :class:`FileSession` is
the session for a scene file outside any application (the standalone
``python -m azrender.qt SCENE``, pipeline tools, the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from azrender.model import AssetSet


@dataclass(frozen=True)
class SceneInfo:
    """The render settings of the open scene, as the application reports them."""

    scene: Path
    app: str
    start: int = 1
    end: int = 1
    step: int = 1
    renderer: str = ""
    cameras: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    resolution: tuple[int, int] | None = None
    modified: bool = False  # unsaved changes: the farm renders the file on disk

    @property
    def frame_spec(self) -> str:
        """The frame range in the ``azrender`` syntax (``1-100x5``)."""
        if self.start == self.end:
            return str(self.start)
        step = f"x{self.step}" if self.step != 1 else ""
        return f"{self.start}-{self.end}{step}"


@runtime_checkable
class AppSession(Protocol):
    """The application side of the dialog; called on the application's main thread only."""

    app: str

    def scene_info(self) -> SceneInfo:
        """The open scene and its render settings; raise AzrenderError when no scene is saved."""
        ...

    def dependencies(self) -> AssetSet | None:
        """Every file the open scene needs, found through the application; None: scan the file."""
        ...


class FileSession:
    """A session for a scene file with no application running: everything comes from the file.

    Frames and settings come from ``info`` (the caller knows them, or the
    defaults); dependencies from the headless scanner, off the UI thread.
    """

    def __init__(self, scene: Path, app: str = "", *, start: int = 1, end: int = 1, step: int = 1,
                 renderer: str = "", cameras: tuple[str, ...] = (), layers: tuple[str, ...] = ()) -> None:
        self.scene = scene.expanduser().absolute()
        self.app = app or self.scene.suffix.lstrip(".")
        self._info = SceneInfo(
            scene=self.scene, app=self.app, start=start, end=end, step=step,
            renderer=renderer, cameras=cameras, layers=layers,
        )

    def scene_info(self) -> SceneInfo:
        return self._info

    def dependencies(self) -> AssetSet | None:
        return None
