"""What a submitter needs to know about a Maya scene, read from the file without Maya.

:func:`read_settings` gives a :class:`MayaSceneSettings`: the plug-ins the
scene requires (and their versions), the renderer, the frame range, the image
prefix, the renderable cameras, the render layers and the resolution. The
values come from the same node table for ``.ma`` and ``.mb`` (see
:mod:`azrender_maya.mel` and :mod:`azrender_maya.mayabinary`), so both
formats of one scene give the same settings.

A value the file does not write is Maya's default: Maya saves only what
differs from it (``perspShape`` is renderable because the file says nothing,
``topShape`` is not because the file says ``setAttr ".rnd" no``).

Frame numbers are in the scene's time unit (``currentUnit -t film`` → 24 fps):
``.ma`` writes them as frames, ``.mb`` as ticks that the binary reader converts.

>>> from azrender_maya.mel import parse_ma
>>> s = settings_of(parse_ma('//Maya ASCII 2024 scene\\nrequires maya "2024";\\n'
...     'select -ne :defaultRenderGlobals;\\n\\tsetAttr ".fs" 101;\\n\\tsetAttr ".ef" 148;\\n'))
>>> s.start, s.end, s.step, s.renderer, s.resolution
(101.0, 148.0, 1.0, 'mayaSoftware', (640, 480))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from azrender_maya.mayabinary import fps
from azrender_maya.mel import MayaNode, MayaScene
from azrender_maya.scan import read_maya_scene

# Maya's defaults for what this module reads (renderGlobals, resolution nodes).
DEFAULT_RENDERER = "mayaSoftware"
DEFAULT_START, DEFAULT_END, DEFAULT_STEP = 1.0, 10.0, 1.0
DEFAULT_RESOLUTION = (640, 480)
DEFAULT_TIME_UNIT = "film"

_TRUE = frozenset({"yes", "true", "on"})
_FALSE = frozenset({"no", "false", "off"})


@dataclass(frozen=True)
class RenderLayer:
    """A render layer: the legacy ``renderLayer`` node Maya's ``Render -rl`` names.

    ``setup_layer`` is the Render Setup layer that owns it (Render Setup
    creates ``rs_<name>`` for its layer ``<name>``), ``""`` for legacy layers.
    """

    name: str
    renderable: bool
    setup_layer: str = ""


@dataclass(frozen=True)
class MayaSceneSettings:
    """Render-relevant settings of one Maya scene, with Maya's defaults filled in."""

    maya_version: str
    plugins: tuple[tuple[str, str], ...]
    renderer: str
    time_unit: str
    fps: float
    start: float
    end: float
    step: float
    animation: bool
    image_prefix: str
    cameras: tuple[str, ...]
    layers: tuple[RenderLayer, ...]
    resolution: tuple[int, int]

    @property
    def renderable_layers(self) -> tuple[str, ...]:
        """Names of the layers ``Render`` renders (``defaultRenderLayer`` included if on)."""
        return tuple(layer.name for layer in self.layers if layer.renderable)

    @property
    def frame_spec(self) -> str:
        """The range as azrender frame syntax (``1001-1100``, ``1-10x2``), whole frames."""
        start, end, step = round(self.start), round(self.end), max(1, round(self.step))
        if start == end:
            return str(start)
        return f"{start}-{end}" + (f"x{step}" if step != 1 else "")


def _bool(value: str | None, default: bool) -> bool:
    """``yes``/``no`` (``.ma``) and ``1``/``0`` (``.mb`` doubles) as a bool."""
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    try:
        return float(low) != 0.0
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _attr(node: MayaNode | None, *names: str) -> str | None:
    """The first of ``names`` (short, long) the file sets on ``node``."""
    if node is None:
        return None
    for name in names:
        if name in node.attrs:
            return node.attrs[name]
    return None


def _maya_version(scene: MayaScene) -> str:
    for plugin, version in scene.requires:
        if plugin == "maya":
            return version
    return scene.file_info.get("version", "")


def _plugins(scene: MayaScene) -> tuple[tuple[str, str], ...]:
    """Required plug-ins and versions, Maya itself left out, each once (files repeat lines)."""
    seen: dict[str, str] = {}
    for plugin, version in scene.requires:
        if plugin != "maya" and plugin not in seen:
            seen[plugin] = version
    return tuple(seen.items())


def _layers(scene: MayaScene) -> tuple[RenderLayer, ...]:
    setup = {n.name for n in scene.nodes if n.type == "renderSetupLayer"}
    layers: list[RenderLayer] = []
    for node in scene.nodes:
        if node.type != "renderLayer":
            continue
        owner = node.name[3:] if node.name.startswith("rs_") and node.name[3:] in setup else ""
        renderable = _bool(_attr(node, "rndr", "renderable"), True)
        layers.append(RenderLayer(node.name, renderable, owner))
    return tuple(layers)


def settings_of(scene: MayaScene) -> MayaSceneSettings:
    """The settings a parsed scene describes, Maya's defaults where it is silent."""
    globals_ = scene.node("defaultRenderGlobals")
    resolution = scene.node("defaultResolution")
    unit = scene.units.get("time", DEFAULT_TIME_UNIT)
    try:
        rate = fps(unit)
    except ValueError:
        unit, rate = DEFAULT_TIME_UNIT, fps(DEFAULT_TIME_UNIT)
    cameras = tuple(
        n.name
        for n in scene.nodes
        if n.type == "camera" and _bool(_attr(n, "rnd", "renderable"), True)
    )
    return MayaSceneSettings(
        maya_version=_maya_version(scene),
        plugins=_plugins(scene),
        renderer=_attr(globals_, "ren", "currentRenderer") or DEFAULT_RENDERER,
        time_unit=unit,
        fps=rate,
        start=_float(_attr(globals_, "fs", "startFrame"), DEFAULT_START),
        end=_float(_attr(globals_, "ef", "endFrame"), DEFAULT_END),
        step=_float(_attr(globals_, "bfs", "byFrameStep"), DEFAULT_STEP),
        animation=_bool(_attr(globals_, "an", "animation"), False),
        image_prefix=_attr(globals_, "ifp", "imageFilePrefix") or "",
        cameras=cameras,
        layers=_layers(scene),
        resolution=(
            int(_float(_attr(resolution, "w", "width"), DEFAULT_RESOLUTION[0])),
            int(_float(_attr(resolution, "h", "height"), DEFAULT_RESOLUTION[1])),
        ),
    )


def read_settings(scene: Path) -> MayaSceneSettings:
    """Settings of the ``.ma``/``.mb`` at ``scene``; one-line :class:`SceneError` if unreadable."""
    return settings_of(read_maya_scene(scene))
