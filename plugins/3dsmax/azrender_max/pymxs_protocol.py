"""The part of ``pymxs.runtime`` that azrender's in-3ds-Max code calls, as typed protocols.

There is no stubs package for ``pymxs`` on PyPI and 3ds Max does not run on
the test machines, so the in-app code (:mod:`azrender_max.ui`) is written
against these protocols and tested against
``SceneFileRuntime`` (``tests/max/fake_pymxs.py``), which answers from a saved
``.max`` read by the headless reader. Only what we call is declared, with the
names and 1-based indices of the MAXScript reference:

* scene file: ``maxFilePath`` (folder, with a trailing backslash; "" when never
  saved), ``maxFileName``, ``getSaveRequired()``;
* render settings (the Render Setup dialog's Common tab): ``rendTimeType``
  (1 single frame: ``sliderTime``, 2 active time segment, 3 range, 4 pickup frames),
  ``rendStart``/``rendEnd`` (time values: ``int()`` gives the frame),
  ``rendNThFrame``, ``rendPickupFrames`` (``"1,3,5-7"``), ``rendOutputFilename``,
  ``renderWidth``/``renderHeight``, ``animationRange`` (the active segment),
  ``renderers.current`` (its ``classOf`` names the renderer);
* the view that renders: ``viewport.getCamera()`` (a camera node or None);
* files: ``AssetManager.GetNumAssets()`` / ``GetAssetByIndex(i)`` (the same
  records the file's ``FileAssetMetaData`` stream holds), ``fileProperties``
  (``findProperty #contents "External Dependencies"`` and ``getItems``: the
  list 3ds Max writes into the file's summary), ``xrefs.getXRefFileCount()`` /
  ``getXRefFile(i).filename``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, SupportsInt


class Interval(Protocol):
    """A MAXScript ``Interval`` (``animationRange``)."""

    @property
    def start(self) -> SupportsInt: ...

    @property
    def end(self) -> SupportsInt: ...


class AssetUser(Protocol):
    """One entry of the asset manager: a file the scene tracks (``AssetUser`` in MAXScript)."""

    def GetFileName(self) -> str:
        """The path as the scene stores it."""
        ...

    def GetFullFilePath(self) -> str:
        """The path 3ds Max resolved it to ("" when not found)."""
        ...

    def GetType(self) -> Any:
        """The asset type, a MAXScript name (``#Bitmap``, ``#XRef``, ...); ``str()`` gives it."""
        ...

    def GetAssetId(self) -> str:
        """The asset's GUID as text."""
        ...


class AssetManagerInterface(Protocol):
    def GetNumAssets(self) -> int: ...

    def GetAssetByIndex(self, index: int) -> AssetUser:
        """1-based, up to :meth:`GetNumAssets`."""
        ...


class FileProperties(Protocol):
    """``fileProperties``: the file's summary (File > File Properties), as 3ds Max keeps it."""

    def findProperty(self, set_name: Any, name: str) -> int:
        """Index of ``name`` in the property set (``#contents``), 0 when absent."""
        ...

    def getItems(self, name: str) -> Any:
        """The items under a ``#contents`` heading (an array of strings), or None."""
        ...


class XRefScene(Protocol):
    @property
    def filename(self) -> str: ...


class XRefs(Protocol):
    def getXRefFileCount(self) -> int: ...

    def getXRefFile(self, index: int) -> XRefScene:
        """1-based, up to :meth:`getXRefFileCount`."""
        ...


class Renderers(Protocol):
    @property
    def current(self) -> Any: ...


class Node(Protocol):
    @property
    def name(self) -> str: ...


class Viewport(Protocol):
    def getCamera(self) -> Node | None:
        """The camera the active viewport looks through, None for a perspective/ortho view."""
        ...


class Runtime(Protocol):
    """Everything azrender reads from ``pymxs.runtime``."""

    @property
    def maxFilePath(self) -> str: ...

    @property
    def maxFileName(self) -> str: ...

    @property
    def sliderTime(self) -> SupportsInt:
        """The current frame: what a single-frame render renders."""
        ...

    @property
    def rendTimeType(self) -> int: ...

    @property
    def rendStart(self) -> SupportsInt: ...

    @property
    def rendEnd(self) -> SupportsInt: ...

    @property
    def rendNThFrame(self) -> int: ...

    @property
    def rendPickupFrames(self) -> str: ...

    @property
    def rendOutputFilename(self) -> str: ...

    @property
    def renderWidth(self) -> int: ...

    @property
    def renderHeight(self) -> int: ...

    @property
    def animationRange(self) -> Interval: ...

    @property
    def renderers(self) -> Renderers: ...

    @property
    def viewport(self) -> Viewport: ...

    @property
    def cameras(self) -> Iterable[Node]: ...

    @property
    def AssetManager(self) -> AssetManagerInterface: ...

    @property
    def fileProperties(self) -> FileProperties: ...

    @property
    def xrefs(self) -> XRefs: ...

    def classOf(self, value: Any) -> Any:
        """The MAXScript class of ``value``; ``str()`` gives its name (``Arnold``)."""
        ...

    def Name(self, text: str) -> Any:
        """A MAXScript name value (``#contents``)."""
        ...

    def getSaveRequired(self) -> bool:
        """True when the scene has unsaved changes."""
        ...
