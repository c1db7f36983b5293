"""The colour-management config a Maya scene renders with, and the LUT files it names.

Maya saves its colour-management preferences (the ``colorManagementPrefs``
command: ``-configFilePath``, ``-cmConfigFileEnabled``) in the scene, on the
``colorManagementGlobals`` node ``defaultColorMgtGlobals``: ``.cfp``
(``configFilePath``), ``.cfe`` (``configFileEnabled``). A ``.ma`` writes::

    select -ne :defaultColorMgtGlobals;
        setAttr ".cfe" yes;
        setAttr ".cfp" -type "string" "<MAYA_RESOURCES>/OCIO-configs/Maya2022-default/config.ocio";

and a ``.mb`` the same attribute in the node's ``SLCT`` block (``rig.anim.mb``
in ``shared/fixtures/real`` names ``/laika/.../ocio/config.v13.ocio``).
Autodesk's node reference (colorManagementGlobals,
https://help.autodesk.com/cloudhelp/2027/ENU/Maya-Tech-Docs/Nodes/colorManagementGlobals.html):
``configFileEnabled`` (default false) "Turn on or off applying an OCIO
configuration file"; ``configFilePath`` "Path to OCIO configuration file, if
OCIO configuration file use is enabled". A path with the switch off (or not
written, so at its default) is still listed, the referrer saying the switch is
off: the artist's file names it, and a preset may turn it on on the node.
``<MAYA_RESOURCES>`` is Maya's own resources folder: those configs come with
every Maya and are not uploaded. An OCIO config is YAML whose ``search_path``
(folders relative to the config, ``:``-separated) holds the LUTs its
transforms name with ``src:`` (OpenColorIO, "Config syntax":
https://opencolorio.readthedocs.io/en/latest/guides/authoring/authoring.html);
the ones found there are dependencies too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from azrender.model import Asset, AssetKind
from azrender.scan import asset_at
from azrender_maya.mel import MayaNode, MayaScene

GLOBALS_NODE = "defaultColorMgtGlobals"
MAYA_RESOURCES = "<MAYA_RESOURCES>"
_PATH_ATTRS = ("cfp", "configFilePath")
_ENABLED_ATTRS = ("cfe", "configFileEnabled")
_TRUE = frozenset({"1", "yes", "true", "on"})

# `search_path: luts:shared`, a flow list `search_path: [luts, shared]` or a block list
# (`search_path:` then `  - luts` lines); `src: name.spi1d`.
_SEARCH_PATH = re.compile(r"^search_path:[ \t]*(.*?)[ \t]*$((?:\n[ \t]+-[^\n]*)*)", re.MULTILINE)
_SRC = re.compile(r"\bsrc:\s*['\"]?([^'\"},\n]+?)['\"]?\s*[,}\n]")

Resolver = Callable[[str, AssetKind, str], list[Asset]]


@dataclass
class ColourConfig:
    """The config's assets (the config first, then its LUTs), and a config that comes with Maya."""

    assets: list[Asset] = field(default_factory=list)
    app_files: list[Asset] = field(default_factory=list)


def _globals(scene: MayaScene) -> MayaNode | None:
    for node in reversed(scene.nodes):
        named = node.type == "colorManagementGlobals" or node.name.lstrip(":") == GLOBALS_NODE
        if named and any(a in node.attrs for a in _PATH_ATTRS):
            return node
    return None


def colour_config_assets(scene: MayaScene, resolve: Resolver, label: str = "") -> ColourConfig:
    """The OCIO config ``scene`` names (present or missing) and its LUTs; Maya's own configs apart.

    ``resolve(written, kind, referrer)`` turns a written path into assets, the
    way the scanner resolves every other path.
    """
    out = ColourConfig()
    node = _globals(scene)
    if node is None:
        return out
    attr = next(a for a in _PATH_ATTRS if a in node.attrs)
    written = node.attrs[attr].strip()
    if not written:
        return out
    referrer = f"{label}{node.name.lstrip(':')}.{attr}"
    enabled = next((node.attrs[a] for a in _ENABLED_ATTRS if a in node.attrs), "false")  # Maya's default
    if enabled.strip().lower() not in _TRUE:
        referrer += " (configFileEnabled off: Maya applies the config only when it is on)"
    if written.startswith(MAYA_RESOURCES):
        out.app_files.append(Asset(Path(written), AssetKind.OTHER, exists=False, referrer=referrer))
        return out
    found = resolve(written, AssetKind.OTHER, referrer)
    out.assets.extend(found)
    for config in found:
        if config.exists:
            out.assets.extend(lut_assets(config.path, referrer))
    return out


def lut_assets(config: Path, referrer: str) -> list[Asset]:
    """The files a config's transforms name (``src:``) that exist in its ``search_path`` folders.

    Names with a context variable (``$SHOT``) depend on the render's
    environment and are left to it.
    """
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    m = _SEARCH_PATH.search(text)
    folders = ["."]
    if m:
        items = [line.strip()[1:] for line in m.group(2).splitlines() if line.strip()]
        if not items:
            items = re.split(r"[:,]", m.group(1).strip("[]"))
        folders = [f.strip().strip("'\"") for f in items if f.strip().strip("'\"")] or folders
    roots = [config.parent / os.path.expandvars(f) for f in folders]
    found: list[Asset] = []
    seen: set[Path] = set()
    for name in _SRC.findall(text):
        name = name.strip()
        if not name or "$" in name:
            continue
        for root in roots:
            candidate = (root / name).absolute()
            if candidate not in seen and candidate.is_file():
                seen.add(candidate)
                found.append(asset_at(candidate, AssetKind.OTHER, f"{referrer}: {config.name}"))
                break
    return found
