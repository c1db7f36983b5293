"""Scenes saved by 3ds Max 8/9/2009 (no FileAssetMetaData stream): files from their own summary.

No such scene is among the real fixtures (the BabylonJS .max files are 3ds Max 2017-2019), so
these are built per the documented structures: the compound file per [MS-CFB] (cfb_writer), the
DocumentSummaryInformation property set per [MS-OLEPS]/[MS-OSHARED] with 3ds Max's groups in
the ANSI code page, and the Scene stream's chunk tree (max_chunks). The oracle is the scene's own
"External Dependencies" list, read back with olefile alone.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import olefile
import pytest
from cfb_writer import compound_file, doc_summary
from click.testing import CliRunner
from max_chunks import bitmap, container, leaf, scene_stream, wide
from max_oracles import external_dependencies

from azrender.cli import main
from azrender.errors import SceneError
from azrender.model import AssetKind
from azrender_max.scan import read_max_scene, scan_max, scene_info
from azrender_max.scenestream import decompressed, paths_for

GENERAL_9 = ["3ds Max Version: 9,00", "Uncompressed", "Build: 9.0.0.0"]


def write_old_max(
    path: Path,
    paths: list[str],
    deps: list[str] | None,
    *,
    compressed: bool = False,
    extra: Sequence[bytes] = (),
) -> Path:
    """A 3ds Max 9 scene: Scene stream with a bitmap per path, summary in code page 1252."""
    streams = {
        "Scene": scene_stream([*(bitmap(p) for p in paths), *extra], compressed=compressed),
        "ClassData": b"\x00" * 64,
        "DllDirectory": b"\x00" * 64,
    }
    groups: dict[str, list[str]] = {"General": GENERAL_9}
    if deps is not None:
        groups["External Dependencies"] = deps
    groups["Render Data"] = ["Renderer Name=Default Scanline Renderer", "Animation End=100"]
    streams["\x05DocumentSummaryInformation"] = doc_summary(groups, codepage=1252)
    path.write_bytes(compound_file(streams))
    return path


def own_dependency_list(scene: Path) -> list[str]:
    """The scene's "External Dependencies" group in its ANSI code page (the oracle)."""
    with olefile.OleFileIO(str(scene)) as ole:
        assert ole.getproperties("\x05DocumentSummaryInformation")[1] == 1252
    return external_dependencies(scene, "cp1252")


def name_of(path: Path) -> str:
    return str(path).replace("\\", "/").split("/")[-1]


@pytest.fixture
def max9_shot(tmp_path: Path) -> Path:
    shot = tmp_path / "shot"
    (shot / "maps").mkdir(parents=True)
    for name in ("maps/Brick.TGA", "Façade.png", "moved.jpg", "leaf.png"):
        (shot / name).write_bytes(b"x")
    # An xref scene of the same age, with its own map.
    write_old_max(shot / "Tree.max", ["C:\\old\\trees\\leaf.png"], ["leaf.png"])
    decoy = leaf(0x1000, wide("rem: see xbrick.tga and brick.tga"))  # text, not a path chunk
    return write_old_max(
        shot / "old.max",
        [
            str(shot / "maps" / "Brick.TGA"),  # where it is
            "C:\\Projects\\Old\\Façade.png",  # another machine: found by name beside the scene
            "D:\\textures\\moved.jpg",
            "E:\\proj\\maps\\gone.png",  # missing: kept as the scene wrote it
            "E:\\proj\\maps\\unused.png",  # tracked but not a dependency
            "C:\\old\\Tree.max",
        ],
        ["brick.tga", "façade.png", "moved.jpg", "gone.png", "tree.max"],
        extra=[container(0x0004, [decoy])],
    )


def test_max9_scene_lists_the_maps_its_dependency_list_names(max9_shot: Path) -> None:
    result = scan_max(max9_shot)
    deps = own_dependency_list(max9_shot)
    found = [a for a in result.assets if a.kind is not AssetKind.SCENE and a.referrer.startswith("External")]
    assert sorted(name_of(a.path).casefold() for a in found) == sorted(d.casefold() for d in deps)
    shot = max9_shot.parent
    got = {name_of(a.path): a for a in result.assets}
    assert got["Brick.TGA"].path == shot / "maps" / "Brick.TGA" and got["Brick.TGA"].exists
    assert got["Brick.TGA"].kind is AssetKind.TEXTURE
    assert got["Brick.TGA"].referrer == "External Dependencies (Bitmap)"
    assert got["Façade.png"].path == shot / "Façade.png" and got["Façade.png"].exists
    assert got["moved.jpg"].exists
    assert [str(a.path) for a in result.missing] == ["E:\\proj\\maps\\gone.png"]
    assert "unused.png" not in got
    # The xref is followed, and its own map found.
    assert got["Tree.max"].kind is AssetKind.REFERENCE and got["Tree.max"].exists
    assert got["leaf.png"].exists and got["leaf.png"].referrer == "Tree.max: External Dependencies (Bitmap)"
    # One warning line per old file, naming it.
    assert len(result.warnings) == 2
    assert all("\n" not in w and "2009 or older" in w for w in result.warnings)
    assert str(max9_shot) in result.warnings[0] and str(shot / "Tree.max") in result.warnings[1]


def test_compressed_max9_scene_and_render_settings(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    scene = write_old_max(tmp_path / "c.max", ["F:\\x\\a.png", "F:\\x\\b.exr"], ["a.png", "b.exr"], compressed=True)
    with olefile.OleFileIO(str(scene)) as ole:
        assert ole.openstream("Scene").read()[:2] == b"\x1f\x8b"
    assert read_max_scene(scene).old
    result = scan_max(scene)
    assert [(name_of(a.path), a.exists) for a in result.assets] == [("c.max", True), ("a.png", True), ("b.exr", False)]
    assert str(result.missing[0].path) == "F:\\x\\b.exr"
    info = scene_info(scene)
    assert (info.max_version, info.renderer, info.frame_end) == (9.0, "Default Scanline Renderer", 100)


def test_names_without_a_path_in_the_scene_stream_resolve_like_moved_files(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "wood.jpg").write_bytes(b"w")
    scene = write_old_max(tmp_path / "s.max", [], ["wood.jpg", "nowhere.png"])
    result = scan_max(scene, map_paths=[tmp_path / "lib"])
    got = {name_of(a.path): a for a in result.assets}
    assert got["wood.jpg"].path == tmp_path / "lib" / "wood.jpg" and got["wood.jpg"].exists
    assert not got["nowhere.png"].exists and got["nowhere.png"].referrer == "External Dependencies (Bitmap)"


def test_old_scene_without_a_dependency_list_is_refused_in_one_line(tmp_path: Path) -> None:
    scene = write_old_max(tmp_path / "bare.max", ["C:\\a.png"], None)
    with pytest.raises(SceneError) as info:
        scan_max(scene)
    text = str(info.value)
    assert str(scene) in text and "External Dependencies" in text and "\n" not in text
    scene.write_bytes(compound_file({"Scene": b"x" * 10}))  # no summary at all
    with pytest.raises(SceneError, match="2009 or older"):
        scan_max(scene)


def test_paths_need_a_chunk_that_holds_exactly_the_path() -> None:
    good = bitmap("D:\\maps\\Brick.tga")
    inside = leaf(0x1000, wide("see D:\\maps\\Brick.tga here"))  # the name inside other text
    prefixed = bitmap("D:\\maps\\xbrick.tga")
    stream = container(0x200B, [inside, prefixed, good])
    assert paths_for(stream, ["brick.tga"]) == {"brick.tga": ["D:\\maps\\Brick.tga"]}
    assert paths_for(container(0x200B, [inside, prefixed]), ["brick.tga"]) == {}
    ansi = leaf(0x1230, "C:\\tex\\café.png\0".encode("cp1252"))  # an 8-bit string chunk
    assert paths_for(ansi, ["café.png"], encoding="cp1252") == {"café.png": ["C:\\tex\\café.png"]}
    assert decompressed(gzip.compress(stream)) == stream
    assert decompressed(b"\x1f\x8b broken") is None


def test_cli_scans_an_old_scene_with_its_warning(max9_shot: Path) -> None:
    result = CliRunner().invoke(main, ["scan", "--json", str(max9_shot)])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    doc = json.loads(result.stdout)
    assert doc["missing"] == ["E:\\proj\\maps\\gone.png"]
    assert len(doc["warnings"]) == 2 and doc["warnings"][0].startswith(f"{max9_shot}: saved by 3ds Max 2009")
