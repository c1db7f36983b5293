r"""Point a 3ds Max scene at the render node's copies of its files, from a :class:`PathMap`.

Two node-side files, both generated at submit time from the scan and the
preset's mapping (3ds Max renders on Windows nodes):

* :func:`mxp_path_file` — the ``-pathFile:`` text in 3ds Max's project-paths
  (MXP, INI) format: the node folders go to ``[BitmapDirs]`` and
  ``[XReferenceDirs]``, so a bitmap or xref whose saved path does not exist is
  found by name there, without touching the scene.
* :func:`pre_render_maxscript` — a MAXScript for ``-preRenderScript:`` that
  retargets every asset the Asset Tracker lists (``ATSOps``) from its saved
  folder to the node folder, and adds the node folders to the map and xref
  search paths (``mapPaths``/``xrefPaths``), so the scene renders with the
  node's files even where a name exists in two folders.

Folders are mapped with the exact table computed here (rules first, longest
source wins, then the mirror: :meth:`PathMap.map`); a folder the table misses
falls back to the Windows ``[[paths]]`` rules, applied by the script with the
same longest-prefix, case-insensitive matching. ``%VAR%`` in node roots (e.g.
``%AZ_BATCH_NODE_SHARED_DIR%``) is expanded by the script on the node; the MXP
file keeps literal roots only (3ds Max does not expand variables there).

>>> from azrender.paths import MapRule, PathMap
>>> pm = PathMap(rules=(MapRule("P:\\show", "S:\\show"),))
>>> mxp_path_file(node_folders(pm, ["P:\\show\\tex"]), []).split("\r\n")
['[Directories]', '[XReferenceDirs]', '[BitmapDirs]', 'Dir1=S:\\show\\tex', '']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from azrender.model import Asset, AssetKind
from azrender.paths import PathMap, is_windows_path
from azrender.paths.rules import split_path

#: Asset kinds 3ds Max looks up through the XRef search path; the rest through the map paths.
XREF_KINDS = frozenset({AssetKind.REFERENCE, AssetKind.LIBRARY, AssetKind.SCENE})


def _win(path: str) -> str:
    """Backslashes, no trailing one, except after a bare drive (``L:`` alone means "current folder on L")."""
    text = path.replace("/", "\\").rstrip("\\")
    return text + "\\" if len(text) == 2 and text[1] == ":" else text


def node_folders(pathmap: PathMap, folders: Iterable[str]) -> list[tuple[str, str]]:
    """(folder as the scene saved it, node folder) for each folder the mapping covers, in order."""
    out: dict[str, tuple[str, str]] = {}
    for folder in folders:
        node = pathmap.map(folder)
        if node is not None:
            out.setdefault(_win(folder).casefold(), (_win(folder), _win(node)))
    return list(out.values())


def mxp_path_file(bitmap_dirs: Sequence[tuple[str, str]], xref_dirs: Sequence[tuple[str, str]]) -> str:
    """The ``-pathFile:`` MXP text (CRLF, as 3ds Max writes it) listing the node folders.

    Node folders holding ``%VAR%`` are left out: 3ds Max reads MXP values as
    they are; :func:`pre_render_maxscript` adds those after expanding them.
    """
    lines = ["[Directories]"]
    for section, dirs in (("[XReferenceDirs]", xref_dirs), ("[BitmapDirs]", bitmap_dirs)):
        lines.append(section)
        literal = list(dict.fromkeys(node for _, node in dirs if "%" not in node and "$" not in node))
        lines += [f"Dir{i}={node}" for i, node in enumerate(literal, start=1)]
    return "".join(line + "\r\n" for line in lines)


def maxscript_string(text: str) -> str:
    r"""``text`` as a MAXScript string literal (``\`` and ``"`` escaped).

    >>> print(maxscript_string('S:\\a "b"'))
    "S:\\a \"b\""
    """
    if "\n" in text or "\r" in text:
        raise ValueError(f"path {text!r} has a line break")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pairs(pairs: Sequence[tuple[str, str]], fold: bool) -> str:
    items = [
        f"#({maxscript_string(a.lower() if fold else a)}, {maxscript_string(b)})" for a, b in pairs
    ]
    return "#(" + ", ".join(items) + ")"


def windows_rules(pathmap: PathMap) -> list[tuple[str, str]]:
    """The Windows-source rules, normalised (``\\``, no trailing separator), longest source first.

    Ties keep the listed order, as :func:`azrender.paths.rules.match_rule` does.
    """
    found = []
    for index, rule in enumerate(pathmap.rules):
        split = split_path(rule.source)
        if split is None or not is_windows_path(rule.source):
            continue  # 3ds Max scenes hold Windows paths only
        _, anchor, parts = split
        source = "\\".join([anchor.rstrip("\\"), *parts]) if parts else anchor.rstrip("\\")
        found.append((-len(parts), index, source, _win(rule.target)))
    return [(source, target) for _, _, source, target in sorted(found)]


_SCRIPT = r"""-- azrender: retarget this scene's assets to the render node (generated; do not edit).
(
    local folders = @FOLDERS@
    local rules = @RULES@
    local xrefDirs = @XREFS@

    fn azrExpand s = (
        -- %NAME% -> the node's environment variable (Batch sets AZ_BATCH_*).
        local parts = filterString s "%" splitEmptyTokens:true
        local out = ""
        for i = 1 to parts.count do (
            if (mod i 2) == 0 then (
                local v = systemTools.getEnvVariable parts[i]
                if v == undefined then throw ("azrender remap: %" + parts[i] + "% is not set on this node")
                out += v
            ) else out += parts[i]
        )
        out
    )

    fn azrNodeDir dir = (
        local d = trimRight (substituteString dir "/" "\\") "\\"
        local low = toLower d
        for f in folders where f[1] == low do return (azrExpand f[2])
        for r in rules do (
            if low == r[1] then return (azrExpand r[2])
            local pre = r[1] + "\\"
            if low.count > pre.count and (substring low 1 pre.count) == pre then
                return ((trimRight (azrExpand r[2]) "\\") + "\\" + (substring d (pre.count + 1) -1))
        )
        undefined
    )

    ATSOps.ExcludeOutputFiles = true
    ATSOps.Refresh()
    local files = #()
    ATSOps.GetFiles &files
    local scene = toLower (maxFilePath + maxFileName)
    local moved = 0
    local unmapped = 0
    for f in files where (toLower f) != scene do (
        local target = azrNodeDir (getFilenamePath f)
        if target == undefined then (
            unmapped += 1
            format "azrender remap: % is below no mapped root\n" f
        ) else if (toLower target) != (toLower (trimRight (getFilenamePath f) "\\")) then (
            ATSOps.ClearSelection()
            ATSOps.SelectFiles #(f)
            ATSOps.SetPathOnSelection target
            moved += 1
            format "azrender remap: % -> %\n" f target
        )
    )
    ATSOps.ClearSelection()
    for f in folders do (
        local node = azrExpand f[2]
        if (findItem xrefDirs f[1]) > 0 then xrefPaths.add node else mapPaths.add node
    )
    format "azrender remap: % asset(s) retargeted, % below no mapped root\n" moved unmapped
)
"""


def pre_render_maxscript(
    pathmap: PathMap,
    bitmap_dirs: Sequence[tuple[str, str]],
    xref_dirs: Sequence[tuple[str, str]] = (),
) -> str:
    """The ``-preRenderScript:`` MAXScript that retargets the scene's assets (CRLF line ends)."""
    folders = list({a.lower(): (a, b) for a, b in [*bitmap_dirs, *xref_dirs]}.values())
    xrefs = "#(" + ", ".join(maxscript_string(a.lower()) for a, _ in xref_dirs) + ")"
    text = (
        _SCRIPT.replace("@FOLDERS@", _pairs(folders, fold=True))
        .replace("@RULES@", _pairs([(s, t) for s, t in windows_rules(pathmap)], fold=True))
        .replace("@XREFS@", xrefs)
    )
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


@dataclass(frozen=True)
class MaxRemap:
    """Both node-side files for one job."""

    path_file: str
    pre_render_script: str


def max_remap(pathmap: PathMap, assets: Iterable[Asset]) -> MaxRemap:
    """The ``-pathFile:`` and ``-preRenderScript:`` texts for the scanned ``assets``."""
    bitmaps: list[str] = []
    xrefs: list[str] = []
    for asset in assets:
        text = str(asset.path)
        # A .max read on Linux keeps Windows paths as text: split them as Windows does.
        folder = text.replace("/", "\\").rsplit("\\", 1)[0] if is_windows_path(text) else str(asset.path.parent)
        (xrefs if asset.kind in XREF_KINDS else bitmaps).append(folder)
    bitmap_dirs = node_folders(pathmap, bitmaps)
    xref_dirs = node_folders(pathmap, xrefs)
    return MaxRemap(
        path_file=mxp_path_file(bitmap_dirs, xref_dirs),
        pre_render_script=pre_render_maxscript(pathmap, bitmap_dirs, xref_dirs),
    )
