"""Runs inside Maya on the render node (``Render -preRender``): point every file path at the node.

Self-contained: it cannot import azrender. :func:`node_path` is the same rule
as :meth:`azrender.paths.PathMap.to_node` (``P:\\\\a\\\\b.png`` → ``<root>/P/a/b.png``,
``\\\\\\\\srv\\\\share\\\\x`` → ``<root>/unc/srv/share/x``, ``/mnt/x`` → ``<root>/mnt/x``);
the tests check that both agree. The adapter appends the job's mapping and a
call to :func:`main_from_json`.

Maya hands this script each value as it holds it, already one string however
the ``.ma`` wrapped it (``("C:/a" + "/b.png")``). A value the scan found
somewhere else than written (Maya's own resolution: the part after a ``//``
project marker in the scene's project, a file rule folder, the scene's folder;
see ``azrender_maya.project``) is rewritten through ``resolved`` (written
value -> node path of the file found), so the node reads the same file the
scan uploaded; other absolute values go below the mirror root.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from typing import Any

_DRIVE = re.compile(r"^([A-Za-z]):[\\/]")

# node type -> string attributes that hold file paths (long names, as maya.cmds wants)
PATH_ATTRIBUTES: dict[str, list[str]] = {
    "file": ["fileTextureName"],
    "imagePlane": ["imageName"],
    "aiImage": ["filename"],
    "aiStandIn": ["dso"],
    "aiVolume": ["filename"],
    "AlembicNode": ["abc_File"],
    "gpuCache": ["cacheFileName"],
    "audio": ["filename"],
    "RedshiftProxyMesh": ["fileName"],
    "VRayMesh": ["fileName"],
    "mayaUsdProxyShape": ["filePath"],
    "cacheFile": ["cachePath"],
    # the scene's OCIO config (a <MAYA_RESOURCES>/... one is not absolute: left to the node's Maya)
    "colorManagementGlobals": ["configFilePath"],
}


def node_path(local: str, mirror_root: str, node_os: str = "linux") -> str:
    """Where ``local`` (a path as the artist's machine wrote it) lives on the node."""
    text = os.path.expandvars(local)
    m = _DRIVE.match(text)
    if m:
        head, rest = m.group(1), text[3:]
    elif text.startswith("\\\\") or text.startswith("//"):
        head, rest = "unc", text[2:]
    elif text.startswith("/"):
        head, rest = "", text[1:]
    else:
        return local  # relative: left to the project, which is mirrored too
    rest = rest.replace("\\", "/")
    key = posixpath.normpath("/" + (head + "/" if head else "") + rest).lstrip("/")
    sep = "\\" if node_os == "windows" else "/"
    return os.path.expandvars(mirror_root).rstrip("/\\") + sep + key.replace("/", sep)


def remap_scene(
    cmds: Any, mirror_root: str, node_os: str = "linux", resolved: dict[str, str] | None = None
) -> int:
    """Rewrite every known path attribute and reference with ``maya.cmds``; returns the count."""
    table = resolved or {}

    def new_path(*names: str) -> str:
        for name in names:
            if name in table:
                return os.path.expandvars(table[name])
        return node_path(names[-1], mirror_root, node_os) if mirror_root else names[-1]

    changed = 0
    for node_type, attrs in PATH_ATTRIBUTES.items():
        for node in cmds.ls(type=node_type) or []:
            for attr in attrs:
                plug = str(node) + "." + attr
                try:
                    value = cmds.getAttr(plug)
                except (RuntimeError, ValueError):
                    continue
                if not value or not isinstance(value, str):
                    continue
                new = new_path(value)
                if new != value:
                    cmds.setAttr(plug, new, type="string")
                    changed += 1
    for ref_node in cmds.ls(type="reference") or []:
        try:
            path = cmds.referenceQuery(ref_node, filename=True, withoutCopyNumber=True)
        except RuntimeError:
            continue  # sharedReferenceNode and friends
        # the path as the file wrote it, what the scan resolved (referenceQuery -filename
        # -unresolvedName -withoutCopyNumber: flags in Maya's signatures, the types-maya stubs)
        try:
            written = str(cmds.referenceQuery(ref_node, filename=True, unresolvedName=True,
                                              withoutCopyNumber=True))
        except (RuntimeError, TypeError):
            written = str(path)
        new = new_path(written, str(path))
        if new != path:
            cmds.file(new, loadReference=ref_node)
            changed += 1
    return changed


def main_from_json(config_json: str, resolved_json: str = "{}") -> None:
    import maya.cmds as cmds  # type: ignore[import-not-found,unused-ignore]  # only inside Maya

    config = json.loads(config_json)
    count = remap_scene(cmds, config.get("mirror_root") or "", config.get("node_os", "linux"),
                        json.loads(resolved_json))
    print(f"azrender: remapped {count} path(s) to {config['mirror_root']}")
