"""A ``maya.cmds`` stand-in that answers from a scene file, for testing the in-Maya code.

:class:`SceneFileCmds` implements :class:`~azrender_maya.cmds_protocol.SceneCmds`
over a ``.ma``/``.mb`` parsed by the headless reader, with references loaded
recursively the way Maya loads them: their nodes appear in ``ls`` under the
reference's namespace and ``referenceQuery(node, filename=True)`` names the
file they came from. Attribute values are what the file sets, else Maya's
defaults for the attributes azrender reads. It answers only what a saved
file can tell; it is not Maya.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azrender.model import AssetKind
from azrender_maya.mel import MayaNode
from azrender_maya.project import maya_project, resolve_maya_path
from azrender_maya.scan import PATH_ATTRIBUTES, read_maya_scene

# Maya's defaults for attributes the UI reads when the file does not set them.
DEFAULTS: dict[tuple[str, str], Any] = {
    ("renderGlobals", "startFrame"): 1.0,
    ("renderGlobals", "endFrame"): 10.0,
    ("renderGlobals", "byFrameStep"): 1.0,
    ("renderGlobals", "currentRenderer"): "mayaSoftware",
    ("resolution", "width"): 640,
    ("resolution", "height"): 480,
    ("camera", "renderable"): True,
    ("renderLayer", "renderable"): True,
    ("file", "uvTilingMode"): 0,
    ("file", "useFrameExtension"): False,
    ("imagePlane", "useFrameExtension"): False,
}

# Long name -> the short names .ma/.mb files write, for the attributes read here.
ALIASES: dict[str, tuple[str, ...]] = {
    "startFrame": ("fs",), "endFrame": ("ef",), "byFrameStep": ("bfs",),
    "currentRenderer": ("ren",), "width": ("w",), "height": ("h",),
    "renderable": ("rnd", "rndr"), "uvTilingMode": ("uvt",), "useFrameExtension": ("ufe",),
    "cachePath": ("cp",), "cacheName": ("cn",),
    "configFilePath": ("cfp",), "configFileEnabled": ("cfe",),
}
for _entry in PATH_ATTRIBUTES:
    for _name in _entry.attrs:
        ALIASES.setdefault(_name, tuple(a for a in _entry.attrs if a != _name))

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


@dataclass
class LoadedNode:
    """A node as Maya would hold it after opening the scene: full name and the file it came from."""

    name: str
    node: MayaNode
    source: Path


def _typed(value: str) -> Any:
    """A written value as getAttr would return it: bool, number or string."""
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


class SceneFileCmds:
    """``maya.cmds`` answers for a scene opened from ``scene`` (references loaded)."""

    def __init__(self, scene: Path) -> None:
        self.scene = scene.absolute()
        project = maya_project(self.scene)
        self.project = project.root if project is not None else None
        self._project = project
        self.nodes: list[LoadedNode] = []
        self.children: dict[Path, list[str]] = {}
        self._load(self.scene, namespace="", seen=set())

    def _load(self, path: Path, namespace: str, seen: set[Path]) -> None:
        key = Path(os.path.realpath(path))
        if key in seen:
            return
        seen.add(key)
        scene = read_maya_scene(path)
        for node in scene.nodes:
            self.nodes.append(LoadedNode(namespace + node.name.lstrip(":"), node, path))
        kids: list[str] = []
        for ref in scene.references:
            # Maya resolves a reference by its file path resolution (azrender_maya.project).
            resolved = resolve_maya_path(ref.path, AssetKind.REFERENCE, scene_dir=path.parent,
                                         project=self._project)
            kids.append(resolved.path)
            child = Path(resolved.path)
            if not resolved.foreign and child.is_file() and child.suffix.lower() in (".ma", ".mb"):
                self._load(child, f"{namespace}{ref.namespace.strip(':')}:", seen)
        self.children[path] = kids

    def _find(self, name: str) -> LoadedNode | None:
        for loaded in reversed(self.nodes):
            if loaded.name == name.lstrip(":"):
                return loaded
        return None

    # -- SceneCmds ----------------------------------------------------------------

    def ls(self, *args: Any, type: str | list[str] = "", long: bool = False) -> list[str]:
        types = {type} if isinstance(type, str) else set(type)
        return [n.name for n in self.nodes if not types - {""} or n.node.type in types]

    def getAttr(self, *args: Any, asString: bool = False, silent: bool = False) -> Any:
        node_name, _, attr = str(args[0]).partition(".")
        loaded = self._find(node_name)
        if loaded is None:
            raise ValueError(f"No object matches name: {args[0]}")
        for written in (attr, *ALIASES.get(attr, ())):
            if written in loaded.node.attrs:
                return _typed(loaded.node.attrs[written])
        for (kind, name), value in DEFAULTS.items():
            if name == attr and (loaded.node.type == kind or loaded.node.type.endswith(kind[0].upper() + kind[1:])
                                 or loaded.node.type.lower().endswith(kind.lower())):
                return value
        if self._has(loaded, attr):
            return ""
        raise ValueError(f"No object matches name: {args[0]}")

    def _has(self, loaded: LoadedNode, attr: str) -> bool:
        names = {attr, *ALIASES.get(attr, ())}
        return any(loaded.node.type == e.node_type and names & set(e.attrs) for e in PATH_ATTRIBUTES) or (
            loaded.node.type == "cacheFile" and attr in ("cachePath", "cacheName", "cp", "cn")
        ) or bool(names & set(loaded.node.attrs))

    def attributeQuery(self, *args: Any, node: str = "", exists: bool = False) -> bool:
        loaded = self._find(node)
        return loaded is not None and self._has(loaded, str(args[0]))

    def objExists(self, *args: Any) -> bool:
        return self._find(str(args[0])) is not None

    def nodeType(self, *args: Any) -> str:
        loaded = self._find(str(args[0]))
        if loaded is None:
            raise ValueError(f"No object matches name: {args[0]}")
        return loaded.node.type

    def file(self, *args: Any, query: bool = False, sceneName: bool = False,
             modified: bool = False, reference: bool = False) -> Any:
        if sceneName:
            return str(self.scene)
        if modified:
            return False
        if reference:
            parent = Path(args[0]) if args else self.scene
            return list(self.children.get(parent, []))
        raise NotImplementedError("SceneFileCmds.file answers sceneName, modified and reference queries")

    def referenceQuery(self, *args: Any, filename: bool = False,
                       isNodeReferenced: bool = False) -> Any:
        loaded = self._find(str(args[0]))
        if loaded is None:
            raise ValueError(f"No object matches name: {args[0]}")
        if isNodeReferenced:
            return loaded.source != self.scene
        return str(loaded.source)

    def workspace(self, *args: Any, query: bool = False, rootDirectory: bool = False) -> str:
        root = self.project or self.scene.parent
        return str(root).rstrip("/") + "/"
