"""Maya's file path resolution (project marker, file rules, scene folder), nested references, colour config."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.model import Asset, AssetKind
from azrender.preflight.files import check_scan_warnings
from azrender_maya.colour import lut_assets
from azrender_maya.project import (
    find_maya_project,
    maya_project,
    read_file_rules,
    resolve_maya_path,
    split_project_marker,
)
from azrender_maya.scan import scan_maya, scan_maya_paths

HEAD = '//Maya ASCII 2024 scene\n//Codeset: UTF-8\nrequires maya "2024";\n'
# As Maya writes a path saved inside another machine's project: root, `//`, the part inside.
THEIR_PROJECT = "C:/Users/bob/Documents/maya/projects/Haunted"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "Haunted"
    for folder in ("scenes", "assets/Haunted_Room", "sourceimages/wood", "cache/alembic"):
        (root / folder).mkdir(parents=True)
    (root / "workspace.mel").write_text(
        '//Maya 2024 Project Definition\n\nworkspace -fr "scene" "scenes";\n'
        'workspace -fr "sourceImages" "sourceimages";\nworkspace -fr "alembicCache" "cache/alembic";\n'
    )
    return root


def file_node(name: str, path_mel: str) -> str:
    return f'createNode file -n "{name}";\n\tsetAttr ".ftn" -type "string" {path_mel};\n'


def test_project_finder_and_file_rules(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert find_maya_project(root / "scenes" / "seq" / "shot.ma") == root
    assert find_maya_project(tmp_path / "elsewhere" / "shot.ma") is None
    found = maya_project(root / "scenes" / "shot.ma")
    assert found is not None and found.root == root
    assert found.rule_folder("sourceImages") == root / "sourceimages"
    assert found.rule_folder("sound") is None  # no rule written: none guessed
    assert read_file_rules('workspace -fileRule "images" "/mnt/renders";\nworkspace -fr "x"') == {
        "images": "/mnt/renders"
    }


def test_marker_split() -> None:
    assert split_project_marker(THEIR_PROJECT + "//assets/a.ma") == (THEIR_PROJECT, "assets/a.ma")
    assert split_project_marker("\\\\srv\\share\\proj\\\\sourceimages\\a.png") == (
        "//srv/share/proj",
        "sourceimages/a.png",
    )
    for plain in ("//srv/share/a.png", "C:/a/b.png", "file:///a/b.png", "tex/a.png", "/a/b//"):
        assert split_project_marker(plain) is None, plain


def test_each_documented_step(tmp_path: Path) -> None:
    root = project(tmp_path)
    scenes = root / "scenes"
    (root / "assets/Haunted_Room/Asset1.ma").write_text(HEAD)
    (root / "sourceimages/wood/oak.png").write_bytes(b"png")
    (root / "sourceimages/grid.png").write_bytes(b"png")
    (scenes / "beside.png").write_bytes(b"png")
    prj = maya_project(scenes / "shot.ma")

    def where(written: str, kind: AssetKind = AssetKind.TEXTURE) -> str:
        return resolve_maya_path(written, kind, scene_dir=scenes, project=prj, env={}).path

    # 1. exact
    assert where(str(root / "sourceimages/grid.png")) == str(root / "sourceimages/grid.png")
    # 3. the part after the `//` marker, in this project (a Windows path from another machine)
    assert where(THEIR_PROJECT + "//assets/Haunted_Room/Asset1.ma", AssetKind.REFERENCE) == str(
        root / "assets/Haunted_Room/Asset1.ma"
    )
    assert where("/home/bob/maya/Haunted//sourceimages/wood/oak.png") == str(root / "sourceimages/wood/oak.png")
    # relative: the project root
    assert where("sourceimages/wood/oak.png") == str(root / "sourceimages/wood/oak.png")
    # 4. the file rule for the kind: relative part, then the name alone
    assert where("wood/oak.png") == str(root / "sourceimages/wood/oak.png")
    assert where("D:/textures/grid.png") == str(root / "sourceimages/grid.png")
    # ...only the rule for that kind: a reference is not looked for in sourceimages
    assert where("D:/textures/grid.png", AssetKind.REFERENCE) == "D:/textures/grid.png"
    # 5. the scene's folder
    assert where("E:/elsewhere/beside.png") == str(scenes / "beside.png")
    # not found: Maya's first reading, the marker kept
    assert where(THEIR_PROJECT + "//assets/gone.ma") == THEIR_PROJECT + "//assets/gone.ma"
    assert where("/gone/x//y.png") == "/gone/x//y.png"
    assert where("/gone/./y.png") == "/gone/y.png"
    assert where("gone/y.png") == str(root / "gone/y.png")


def test_a_texture_found_by_resolution_is_stated_once_and_described_as_on_disk(
    tmp_path: Path, stat_calls: list[str]
) -> None:
    """The resolver's stat describes the file: 10,000 relative textures cost 10,000 stats, not 20,000."""
    root = project(tmp_path)
    scenes = root / "scenes"
    (root / "sourceimages/wood/oak.png").write_bytes(b"o" * 7)
    (scenes / "beside.png").write_bytes(b"b" * 3)
    (root / "sourceimages/folder.png").mkdir()  # a folder by a texture's name: there, yet not a file
    scene = scenes / "shot.ma"
    scene.write_text(HEAD + "".join(
        file_node(name, f'"{written}"') for name, written in (
            ("oak", "sourceimages/wood/oak.png"), ("beside", "E:/elsewhere/beside.png"),
            ("folder", "sourceimages/folder.png"), ("gone", "sourceimages/gone.png"),
        )
    ))  # fmt: skip
    result = scan_maya(scene)
    stats = list(stat_calls)
    textures = {a.referrer.split(".")[0]: a for a in result.assets if a.kind == AssetKind.TEXTURE}
    oak, beside = root / "sourceimages/wood/oak.png", scenes / "beside.png"
    assert textures["oak"] == Asset.from_disk(oak, AssetKind.TEXTURE, "oak.ftn")
    assert (textures["oak"].exists, textures["oak"].size) == (True, 7)
    assert textures["beside"] == Asset.from_disk(beside, AssetKind.TEXTURE, "beside.ftn")
    assert (textures["beside"].exists, textures["beside"].size) == (True, 3)
    assert textures["folder"].path == root / "sourceimages/folder.png" and not textures["folder"].exists
    assert not textures["gone"].exists
    assert stats.count(str(oak)) == 1 and stats.count(str(beside)) == 1, stats


def test_scene_from_another_machine_finds_its_project_and_nested_reference_textures(tmp_path: Path) -> None:
    root = project(tmp_path)
    room = root / "assets/Haunted_Room"
    (root / "sourceimages/wood/oak.png").write_bytes(b"png")
    (root / "cache/alembic/ghost.abc").write_bytes(b"abc")
    # the pillow reference: its own wrapped texture, a reference back to the shot (a cycle),
    # and a reference to a file that is gone
    (room / "Cushy_Pillow.ma").write_text(
        HEAD
        + f'file -r -ns "shot" -rfn "shotRN" -typ "mayaAscii" "{THEIR_PROJECT}//scenes/shot.ma";\n'
        + f'file -r -ns "gone" -rfn "goneRN" -typ "mayaAscii" "{THEIR_PROJECT}//assets/gone.ma";\n'
        + file_node("pillowTex", f'( "{THEIR_PROJECT}//sourceimages/"\n\t\t+ "wood/oak.png")')
    )
    shot = root / "scenes/shot.ma"
    shot.write_text(
        HEAD
        + 'file -rdi 1 -ns "pillow" -rfn "pillowRN" -typ "mayaAscii"\n\t\t'
        + f'("{THEIR_PROJECT}//assets/Haunted_Room/"\n\t\t+ "Cushy_Pillow.ma");\n'
        + f'file -r -ns "pillow" -rfn "pillowRN" -typ "mayaAscii" "{THEIR_PROJECT}//assets/Haunted_Room/Cushy_Pillow.ma";\n'
        + 'createNode AlembicNode -n "ghostAbc";\n'
        + f'\tsetAttr ".fn" -type "string" (\n\t\t"{THEIR_PROJECT}//cache/alembic/ghost.abc");\n'
    )
    result, resolved = scan_maya_paths(shot)
    rows = {(a.path, a.kind, a.exists, a.referrer) for a in result.assets}
    assert (room / "Cushy_Pillow.ma", AssetKind.REFERENCE, True, "pillowRN") in rows
    assert (root / "cache/alembic/ghost.abc", AssetKind.CACHE, True, "ghostAbc.fn") in rows
    assert (root / "sourceimages/wood/oak.png", AssetKind.TEXTURE, True, "Cushy_Pillow.ma: pillowTex.ftn") in rows
    # the missing nested reference: listed with its referrer, the `//` kept in the note, a warning
    [gone] = result.missing
    assert gone.kind == AssetKind.REFERENCE
    assert gone.referrer == (
        f"Cushy_Pillow.ma: goneRN (written {THEIR_PROJECT}//assets/gone.ma: assets/gone.ma is not in {root})"
    )
    assert result.warnings == [
        f"reference {gone.path} (Cushy_Pillow.ma: goneRN (written {THEIR_PROJECT}//assets/gone.ma:"
        f" assets/gone.ma is not in {root}) in Cushy_Pillow.ma) is missing: the files it needs"
        " (textures, caches, its own references) are unknown"
    ]
    [finding] = check_scan_warnings(result)
    assert (finding.code, finding.severity) == ("scan-warning", "warning")
    # what the node's remap rewrites: each written path -> the file found here
    assert resolved[f"{THEIR_PROJECT}//cache/alembic/ghost.abc"] == str(root / "cache/alembic/ghost.abc")
    assert resolved[f"{THEIR_PROJECT}//sourceimages/wood/oak.png"] == str(root / "sourceimages/wood/oak.png")


def test_colour_config_and_its_luts_in_ma(tmp_path: Path) -> None:
    (tmp_path / "ocio/luts").mkdir(parents=True)
    (tmp_path / "ocio/config.ocio").write_text(
        "ocio_profile_version: 1\nsearch_path: luts\ncolorspaces:\n"
        "  - !<ColorSpace>\n    name: film\n    from_reference: !<FileTransform> {src: film.spi1d, interpolation: linear}\n"
        "  - !<ColorSpace>\n    name: shot\n    to_reference: !<FileTransform> {src: $SHOT.csp}\n"
        "  - !<ColorSpace>\n    name: gone\n    to_reference: !<FileTransform> {src: gone.cube}\n"
    )
    (tmp_path / "ocio/luts/film.spi1d").write_text("Version 1\n")
    scene = tmp_path / "shot.ma"
    scene.write_text(
        HEAD + 'select -ne :defaultColorMgtGlobals;\n\tsetAttr ".cfe" yes;\n'
        '\tsetAttr ".cfp" -type "string" (\n\t\t"ocio/config.ocio");\n'
    )
    rows = [(a.path, a.exists, a.referrer) for a in scan_maya(scene).assets[1:]]
    assert rows == [
        (tmp_path / "ocio/config.ocio", True, "defaultColorMgtGlobals.cfp"),
        (tmp_path / "ocio/luts/film.spi1d", True, "defaultColorMgtGlobals.cfp: config.ocio"),
    ]


def test_maya_builtin_config_comes_with_maya(real_fixtures: Path) -> None:
    scene = real_fixtures / "Autodesk__maya-usd/test/testSamples/MaterialX/mtlxNodesShowcase.ma"
    result = scan_maya(scene)
    # line 743: setAttr ".cfp" -type "string" "<MAYA_RESOURCES>/OCIO-configs/Maya2022-default/config.ocio";
    assert [(str(a.path), a.referrer) for a in result.app_files] == [
        ("<MAYA_RESOURCES>/OCIO-configs/Maya2022-default/config.ocio", "defaultColorMgtGlobals.cfp")
    ]
    assert not [a for a in result.assets if "MAYA_RESOURCES" in str(a.path)]
    assert result.to_json()["app_files"] == [
        {"path": "<MAYA_RESOURCES>/OCIO-configs/Maya2022-default/config.ocio", "referrer": "defaultColorMgtGlobals.cfp"}
    ]


def test_mb_colour_config_missing_with_its_referrer(real_fixtures: Path) -> None:
    scene = real_fixtures / "Autodesk__maya-usd/test/testSamples/switchVariants/rig.anim.mb"
    # the bytes: SLCT ":defaultColorMgtGlobals", then STR "cfp" <flag> "/laika/.../config.v13.ocio"
    data = scene.read_bytes()
    at = data.index(b":defaultColorMgtGlobals\x00")
    assert data.index(b"cfp\x00 /laika/depts/prod_tech/jobs/template_show/.etc/ocio/config.v13.ocio\x00", at) > at
    [config] = scan_maya(scene).missing
    assert str(config.path) == "/laika/depts/prod_tech/jobs/template_show/.etc/ocio/config.v13.ocio"
    # no `cfe` in the file: configFileEnabled is at its default, off
    assert b"cfe\x00" not in data and config.kind == AssetKind.OTHER
    assert config.referrer == (
        "defaultColorMgtGlobals.cfp (configFileEnabled off: Maya applies the config only when it is on)"
    )


@pytest.mark.parametrize(
    "search_path",
    ["search_path: luts:more", "search_path: [luts, more]", 'search_path:\n  - luts\n  - "more"'],
)
def test_lut_search_path_forms(tmp_path: Path, search_path: str) -> None:
    """OCIO's search_path as a colon list, a YAML flow list and a block list (OCIO config syntax)."""
    for folder, name in (("luts", "film.spi1d"), ("more", "look.cube")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text("lut")
    config = tmp_path / "config.ocio"
    config.write_text(
        f"ocio_profile_version: 2\n{search_path}\ncolorspaces:\n  - !<ColorSpace>\n"
        "    from_scene_reference: !<GroupTransform> {children: [!<FileTransform> {src: film.spi1d},"
        " !<FileTransform> {src: look.cube}]}\n"
    )
    assert [a.path for a in lut_assets(config, "r")] == [tmp_path / "luts/film.spi1d", tmp_path / "more/look.cube"]


def test_any_other_string_naming_a_file_is_stated_once_and_described_as_on_disk(
    tmp_path: Path, stat_calls: list[str]
) -> None:
    """A plug-in node's string attribute that names a file (kind ``other``): one stat, where it was two."""
    root = project(tmp_path)
    scenes = root / "scenes"
    data = root / "cache" / "sim.bin"
    data.write_bytes(b"s" * 5)
    (root / "cache" / "folder.bin").mkdir()  # names a folder: not a file, not listed
    scene = scenes / "shot.ma"
    scene.write_text(HEAD + 'createNode simPlugNode -n "sim1";\n'
                     f'\tsetAttr ".cachePath" -type "string" "{data}";\n'
                     f'\tsetAttr ".otherPath" -type "string" "{root / "cache" / "folder.bin"}";\n'
                     f'\tsetAttr ".gonePath" -type "string" "{root / "cache" / "gone.bin"}";\n')  # fmt: skip
    result = scan_maya(scene)
    stats = list(stat_calls)
    others = [a for a in result.assets if a.kind == AssetKind.OTHER]
    assert others == [Asset.from_disk(data, AssetKind.OTHER, "sim1.cachePath")]
    assert (others[0].exists, others[0].size) == (True, 5)
    assert stats.count(str(data)) == 1, stats
