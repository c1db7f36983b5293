"""Maya's side of the dialog: :class:`azrender.qt.AppSession` over ``maya.cmds``.

Settings come from the render globals (frame range, renderer, resolution),
renderable cameras and render layers; dependencies come from the nodes Maya
has loaded, references included, read through ``cmds.ls``/``cmds.getAttr`` and
classified by the headless scanner's own table and rules
(:data:`azrender_maya.scan.PATH_ATTRIBUTES`, :func:`azrender_maya.scan.node_assets`),
so in-app and headless discovery give the same answer for a saved scene.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azrender.errors import AzrenderError
from azrender.model import Asset, AssetKind, AssetSet
from azrender.qt.session import SceneInfo
from azrender_maya.cmds_protocol import SceneCmds
from azrender_maya.colour import GLOBALS_NODE, colour_config_assets
from azrender_maya.mel import MayaNode, MayaScene
from azrender_maya.project import MayaProject, project_at, resolve_maya_path
from azrender_maya.scan import PATH_ATTRIBUTES, ScanContext, node_assets, warn_unknown_reference

# Attributes read per node type, long name -> the key the headless table uses.
_EXTRA: dict[str, dict[str, str]] = {
    "file": {"uvTilingMode": "uvt", "useFrameExtension": "ufe"},
    "imagePlane": {"useFrameExtension": "ufe"},
    "cacheFile": {"cachePath": "cp", "cacheName": "cn"},
}


def _as_int(value: Any, default: int) -> int:
    try:
        return round(float(value))
    except (TypeError, ValueError):
        return default


def _names(value: Any) -> list[str]:
    """A cmds answer as a list of strings (Maya returns None for nothing)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class MayaSession:
    """The open Maya scene, as the dialog sees it."""

    app = "maya"

    def __init__(self, cmds: SceneCmds) -> None:
        self.cmds = cmds

    def scene_path(self) -> Path:
        name = str(self.cmds.file(query=True, sceneName=True) or "")
        if not name:
            raise AzrenderError("the Maya scene has never been saved",
                                hint="save it (File > Save Scene As) and open Render on Azure again")
        return Path(name)

    def _get(self, plug: str, default: Any) -> Any:
        node, _, attr = plug.partition(".")
        if not self.cmds.objExists(node) or not self.cmds.attributeQuery(attr, node=node, exists=True):
            return default
        value = self.cmds.getAttr(plug)
        return default if value is None else value

    def scene_info(self) -> SceneInfo:
        scene = self.scene_path()
        cameras = [c for c in _names(self.cmds.ls(type="camera"))
                   if self._get(f"{c}.renderable", True) not in (False, 0)]
        layers = [layer for layer in _names(self.cmds.ls(type="renderLayer"))
                  if ":" not in layer and self._get(f"{layer}.renderable", True) not in (False, 0)]
        return SceneInfo(
            scene=scene,
            app=self.app,
            start=_as_int(self._get("defaultRenderGlobals.startFrame", 1), 1),
            end=_as_int(self._get("defaultRenderGlobals.endFrame", 10), 10),
            step=max(1, _as_int(self._get("defaultRenderGlobals.byFrameStep", 1), 1)),
            renderer=str(self._get("defaultRenderGlobals.currentRenderer", "mayaSoftware")),
            cameras=tuple(cameras),
            layers=tuple(layers),
            resolution=(_as_int(self._get("defaultResolution.width", 640), 640),
                        _as_int(self._get("defaultResolution.height", 480), 480)),
            modified=bool(self.cmds.file(query=True, modified=True)),
        )

    def read_node(self, name: str, node_type: str) -> MayaNode:
        """The file-related attribute values of one node, keyed as the headless table writes them."""
        attrs: dict[str, str] = {}
        wanted = {a: a for e in PATH_ATTRIBUTES if e.node_type == node_type for a in e.attrs}
        wanted.update({long: short for long, short in _EXTRA.get(node_type, {}).items()})
        for attr, key in wanted.items():
            if not self.cmds.attributeQuery(attr, node=name, exists=True):
                continue
            value = self.cmds.getAttr(f"{name}.{attr}")
            if value is None or value == "":
                continue
            attrs[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return MayaNode(type=node_type, name=name, attrs=attrs)

    def dependencies(self) -> AssetSet:
        """Every file the loaded scene refers to, from Maya's nodes and references."""
        scene = self.scene_path()
        root = str(self.cmds.workspace(query=True, rootDirectory=True) or "")
        project = project_at(Path(root)) if root else None
        result = AssetSet(scene=scene, app=self.app)
        result.add(Asset.from_disk(scene, AssetKind.SCENE))
        types = sorted({e.node_type for e in PATH_ATTRIBUTES} | {"cacheFile"})
        for node_type in types:
            for name in _names(self.cmds.ls(type=node_type)):
                source = Path(str(self.cmds.referenceQuery(name, filename=True)
                                  if self.cmds.referenceQuery(name, isNodeReferenced=True) else scene))
                short = name.rsplit(":", 1)[-1]
                label = "" if source == scene else f"{source.name}: "
                ctx = ScanContext(scene_dir=source.parent, project=project, env=None, label=label)
                node = self.read_node(name, node_type)
                node.name = short
                result.extend(node_assets(node, ctx))
        top = ScanContext(scene_dir=scene.parent, project=project, env=None, label="")
        colour = colour_config_assets(self._colour_globals(), top.assets)
        result.extend(colour.assets)
        result.app_files.extend(colour.app_files)
        self._references(scene, scene, project, result, seen=set())
        return result

    def _colour_globals(self) -> MayaScene:
        """The scene's colour-management globals, as the headless reader would hold them."""
        attrs = {short: str(value) for short, long in (("cfp", "configFilePath"), ("cfe", "configFileEnabled"))
                 if (value := self._get(f"{GLOBALS_NODE}.{long}", None)) not in (None, "")}
        if "cfe" in attrs:
            attrs["cfe"] = "1" if attrs["cfe"] in ("True", "1") else "0"
        return MayaScene(nodes=[MayaNode("colorManagementGlobals", GLOBALS_NODE, attrs)] if attrs else [])

    def _references(self, parent: Path, scene: Path, project: MayaProject | None,
                    result: AssetSet, seen: set[Path]) -> None:
        """References as Maya lists them, children of loaded references too."""
        from azrender.scan import resolved_assets

        if parent in seen:
            return
        seen.add(parent)
        args: tuple[str, ...] = () if parent == scene else (str(parent),)
        for ref in _names(self.cmds.file(*args, query=True, reference=True)):
            written = ref.split("{", 1)[0]
            found = resolve_maya_path(written, AssetKind.REFERENCE, scene_dir=parent.parent,
                                      project=project, env=None)
            for asset in resolved_assets(found, AssetKind.REFERENCE, "file -r"):
                result.add(asset)
                if asset.path.suffix.lower() not in (".ma", ".mb"):
                    continue
                if asset.exists:
                    self._references(asset.path, scene, project, result, seen)
                else:
                    warn_unknown_reference(result, asset, parent)
