"""3ds Max node-side remap: the -pathFile: MXP text and the -preRenderScript: MAXScript, as golden text."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.model import Asset, AssetKind
from azrender.paths import MapRule, PathMap
from azrender_max.remap import max_remap, maxscript_string, node_folders, windows_rules

SHARE = PathMap(
    node_os="windows",
    rules=(
        MapRule("P:\\show", "S:\\show"),
        MapRule("p:/show/library/", "L:\\"),  # longer source, written loosely
        MapRule("\\\\fs01\\show", "S:\\show"),
        MapRule("/mnt/show", "/never/for/max"),  # POSIX: not a 3ds Max scene path
    ),
)
MIRROR = PathMap(mirror_root="%AZ_BATCH_NODE_SHARED_DIR%\\assets", node_os="windows")


def asset(path: str, kind: AssetKind = AssetKind.TEXTURE) -> Asset:
    return Asset(Path(path), kind, exists=True, size=1)


ASSETS = [
    asset("P:\\show\\tex\\brick.png"),
    asset("p:\\Show\\TEX\\wood.png"),  # the same folder, spelled differently
    asset("P:\\show\\library\\tree\\bark.png"),
    asset("\\\\fs01\\show\\sets\\street.max", AssetKind.REFERENCE),
    asset("C:\\Users\\me\\Desktop\\ref.jpg"),  # no rule covers it, no mirror
]


def test_path_file_is_mxp_with_the_node_folders() -> None:
    remap = max_remap(SHARE, ASSETS)
    assert remap.path_file == (
        "[Directories]\r\n"
        "[XReferenceDirs]\r\n"
        "Dir1=S:\\show\\sets\r\n"
        "[BitmapDirs]\r\n"
        "Dir1=S:\\show\\tex\r\n"
        "Dir2=L:\\tree\r\n"
    )


def test_path_file_leaves_variable_roots_to_the_script() -> None:
    remap = max_remap(MIRROR, ASSETS[:1])
    assert remap.path_file == "[Directories]\r\n[XReferenceDirs]\r\n[BitmapDirs]\r\n"
    assert (
        'local folders = #(#("p:\\\\show\\\\tex", "%AZ_BATCH_NODE_SHARED_DIR%\\\\assets\\\\P\\\\show\\\\tex"))'
        in remap.pre_render_script
    )


def test_pre_render_script_tables() -> None:
    script = max_remap(SHARE, ASSETS).pre_render_script
    lines = script.split("\r\n")
    assert lines[0] == "-- azrender: retarget this scene's assets to the render node (generated; do not edit)."
    assert lines[2] == (
        '    local folders = #(#("p:\\\\show\\\\tex", "S:\\\\show\\\\tex"), '
        '#("p:\\\\show\\\\library\\\\tree", "L:\\\\tree"), '
        '#("\\\\\\\\fs01\\\\show\\\\sets", "S:\\\\show\\\\sets"))'
    )
    # Longest source first; ties keep the preset's order; POSIX sources dropped.
    assert lines[3] == (
        '    local rules = #(#("p:\\\\show\\\\library", "L:\\\\"), #("p:\\\\show", "S:\\\\show"), '
        '#("\\\\\\\\fs01\\\\show", "S:\\\\show"))'
    )
    assert lines[4] == '    local xrefDirs = #("\\\\\\\\fs01\\\\show\\\\sets")'
    assert "\n" not in script.replace("\r\n", "")  # CRLF throughout, as MAXScript files on Windows


def test_pre_render_script_retargets_through_the_asset_tracker() -> None:
    script = max_remap(SHARE, ASSETS).pre_render_script
    for call in ("ATSOps.Refresh()", "ATSOps.GetFiles &files", "ATSOps.SelectFiles #(f)",
                 "ATSOps.SetPathOnSelection target", "mapPaths.add node", "xrefPaths.add node",
                 'systemTools.getEnvVariable parts[i]', "is below no mapped root"):
        assert call in script, call
    # Balanced: every MAXScript block and string closes.
    body = script.replace('\\\\', "").replace('\\"', "")
    assert body.count('"') % 2 == 0
    assert body.count("(") == body.count(")")


def test_windows_rules_order_and_form() -> None:
    assert windows_rules(SHARE) == [("P:\\show\\library", "L:\\"), ("P:\\show", "S:\\show"),
                                    ("\\\\fs01\\show", "S:\\show")]


def test_node_folders_dedupe_case_insensitively_and_skip_unmapped() -> None:
    got = node_folders(SHARE, ["P:\\show\\tex", "p:/SHOW/tex/", "C:\\elsewhere"])
    assert got == [("P:\\show\\tex", "S:\\show\\tex")]


def test_maxscript_string() -> None:
    assert maxscript_string('S:\\a "b"') == '"S:\\\\a \\"b\\""'
    with pytest.raises(ValueError, match="line break"):
        maxscript_string("a\nb")
