"""Runs inside Maya on the render node (``Render -preRender``): point every file path at the node.

Self-contained: it cannot import azrender. :func:`node_path` is the same rule
as :meth:`azrender.paths.PathMap.to_node` (``P:\\\\a\\\\b.png`` → ``<root>/P/a/b.png``,
``\\\\\\\\srv\\\\share\\\\x`` → ``<root>/unc/srv/share/x``, ``/mnt/x`` → ``<root>/mnt/x``);
the tests check that both agree. The adapter appends the job's mapping and a
call to :func:`main`.
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


def remap_scene(cmds: Any, mirror_root: str, node_os: str = "linux") -> int:
    """Rewrite every known path attribute and reference with ``maya.cmds``; returns the count."""
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
                new = node_path(value, mirror_root, node_os)
                if new != value:
                    cmds.setAttr(plug, new, type="string")
                    changed += 1
    for ref_node in cmds.ls(type="reference") or []:
        try:
            path = cmds.referenceQuery(ref_node, filename=True, withoutCopyNumber=True)
        except RuntimeError:
            continue  # sharedReferenceNode and friends
        new = node_path(str(path), mirror_root, node_os)
        if new != path:
            cmds.file(new, loadReference=ref_node)
            changed += 1
    return changed


def main_from_json(config_json: str) -> None:
    import maya.cmds as cmds  # type: ignore[import-not-found,unused-ignore]  # only inside Maya

    config = json.loads(config_json)
    count = remap_scene(cmds, config["mirror_root"], config.get("node_os", "linux"))
    print(f"azrender: remapped {count} path(s) to {config['mirror_root']}")
