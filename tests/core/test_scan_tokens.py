"""Token and sequence expansion against real files made in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.scan import expand_pattern, find_sequence, has_tokens, pattern_regex, tile_pattern


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"x")


def names(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.mark.parametrize(
    ("pattern", "files", "expected"),
    [
        (
            "wall.<UDIM>.exr",
            [
                "wall.1001.exr",
                "wall.1002.exr",
                "wall.1011.exr",
                "wall.0001.exr",
                "wall.exr",
                "wallx1001.exr",
            ],
            ["wall.1001.exr", "wall.1002.exr", "wall.1011.exr"],
        ),
        (
            "wall.<udim>.exr",
            ["wall.1001.exr", "wall.1999.exr", "wall.2001.exr"],
            ["wall.1001.exr", "wall.1999.exr"],
        ),
        (
            "skin_<UVTILE>.tif",
            ["skin_u1_v1.tif", "skin_u2_v1.tif", "skin_1_1.tif"],
            ["skin_u1_v1.tif", "skin_u2_v1.tif"],
        ),
        (
            "skin_u<U>_v<V>.tif",
            ["skin_u0_v0.tif", "skin_u10_v3.tif", "skin_uA_v0.tif"],
            ["skin_u0_v0.tif", "skin_u10_v3.tif"],
        ),
        (
            "skin.<u>_<v>.tx",
            ["skin.0_0.tx", "skin.1_0.tx", "skin.a_0.tx"],
            ["skin.0_0.tx", "skin.1_0.tx"],
        ),
        (
            "smoke.####.vdb",
            ["smoke.0001.vdb", "smoke.0002.vdb", "smoke.10000.vdb", "smoke.001.vdb"],
            ["smoke.0001.vdb", "smoke.0002.vdb", "smoke.10000.vdb"],
        ),
        (
            "img_%04d.png",
            ["img_0001.png", "img_0100.png", "img_01.png"],
            ["img_0001.png", "img_0100.png"],
        ),
        ("img_%d.png", ["img_1.png", "img_20.png", "img_.png"], ["img_1.png", "img_20.png"]),
        ("fx.$F4.exr", ["fx.0001.exr", "fx.0002.exr", "fx.1.exr"], ["fx.0001.exr", "fx.0002.exr"]),
        ("fx.$F.exr", ["fx.1.exr", "fx.0002.exr"], ["fx.0002.exr", "fx.1.exr"]),
        ("rib.<f>.ass", ["rib.1.ass", "rib.0010.ass", "rib.x.ass"], ["rib.0010.ass", "rib.1.ass"]),
        ("rib.<frame>.ass", ["rib.7.ass"], ["rib.7.ass"]),
        ("a[1].<UDIM>.png", ["a[1].1001.png", "a1.1001.png"], ["a[1].1001.png"]),
    ],
)
def test_expand_pattern_every_token_form(
    tmp_path: Path, pattern: str, files: list[str], expected: list[str]
) -> None:
    touch(tmp_path, *files)
    assert has_tokens(pattern)
    assert names(expand_pattern(tmp_path / pattern)) == expected


def test_expand_pattern_ignores_folders_and_missing_dirs(tmp_path: Path) -> None:
    (tmp_path / "t.1001.png").mkdir()
    touch(tmp_path, "t.1002.png")
    assert names(expand_pattern(tmp_path / "t.<UDIM>.png")) == ["t.1002.png"]
    assert expand_pattern(tmp_path / "nope" / "t.<UDIM>.png") == []


def test_plain_path_without_tokens(tmp_path: Path) -> None:
    touch(tmp_path, "a.png")
    assert not has_tokens(tmp_path / "a.png")
    assert expand_pattern(tmp_path / "a.png") == [tmp_path / "a.png"]
    assert expand_pattern(tmp_path / "b.png") == []


def test_tokens_in_folder_names_are_not_tokens() -> None:
    assert not has_tokens("/show/<UDIM>/a.png")


def test_pattern_regex_is_literal_outside_tokens() -> None:
    rx = pattern_regex("a.b*c.<UDIM>.exr")
    assert rx.fullmatch("a.b*c.1001.exr")
    assert not rx.fullmatch("a.bXXc.1001.exr")


@pytest.mark.parametrize(
    ("given", "files", "expected"),
    [
        (
            "a.0001.exr",
            ["a.0001.exr", "a.0002.exr", "a.0010.exr", "b.0001.exr", "a.0001.tif"],
            ["a.0001.exr", "a.0002.exr", "a.0010.exr"],
        ),
        ("a_0005.png", ["a_0005.png", "a_0006.png", "a_5.png"], ["a_0005.png", "a_0006.png"]),
        (
            "shot9.jpg",
            ["shot9.jpg", "shot10.jpg", "shot11.jpg", "shotx.jpg"],
            ["shot10.jpg", "shot11.jpg", "shot9.jpg"],
        ),
        ("cam.1.exr", ["cam.1.exr", "cam.2.exr"], ["cam.1.exr", "cam.2.exr"]),
        (
            "v2_plate.0100.dpx",
            ["v2_plate.0100.dpx", "v2_plate.0101.dpx", "v3_plate.0100.dpx"],
            ["v2_plate.0100.dpx", "v2_plate.0101.dpx"],
        ),
    ],
)
def test_find_sequence(tmp_path: Path, given: str, files: list[str], expected: list[str]) -> None:
    touch(tmp_path, *files)
    assert names(find_sequence(tmp_path / given)) == expected


def test_find_sequence_unnumbered_and_missing(tmp_path: Path) -> None:
    touch(tmp_path, "plate.exr")
    assert names(find_sequence(tmp_path / "plate.exr")) == ["plate.exr"]
    assert find_sequence(tmp_path / "none.0001.exr") == []
    assert find_sequence(tmp_path / "none.exr") == []


@pytest.mark.parametrize(
    ("written", "mode", "expected"),
    [
        ("/t/wall.1001.exr", 3, "/t/wall.<UDIM>.exr"),
        ("/t/wall_1001_v1002.exr", 3, "/t/wall_1001_v<UDIM>.exr"),
        ("/t/skin_u1_v1.tif", 2, "/t/skin_<UVTILE>.tif"),
        ("/t/skin_u0_v0.tif", 1, "/t/skin_u<U>_v<V>.tif"),
        ("/t/wall.1001.exr", 0, "/t/wall.1001.exr"),
        ("/t/wall.1001.exr", 4, "/t/wall.1001.exr"),
        ("/t/wall.<UDIM>.exr", 3, "/t/wall.<UDIM>.exr"),
        ("/t/wall.exr", 3, "/t/wall.exr"),
        ("C:\\t\\wall.1001.exr", 3, "C:\\t\\wall.<UDIM>.exr"),
    ],
)
def test_tile_pattern_from_maya_uv_tiling_mode(written: str, mode: int, expected: str) -> None:
    assert tile_pattern(written, mode) == expected


def test_mudbox_literal_tile_expands(tmp_path: Path) -> None:
    touch(tmp_path, "skin_u1_v1.tif", "skin_u2_v1.tif", "skin_u1_v2.tif", "skin.tif")
    pattern = tile_pattern(str(tmp_path / "skin_u1_v1.tif"), 2)
    assert names(expand_pattern(pattern)) == ["skin_u1_v1.tif", "skin_u1_v2.tif", "skin_u2_v1.tif"]


@pytest.mark.parametrize("text", ["a.png", "/t/a.<UDIM>.exr", "C:\\tex\\a_%04d.png", "a/b\\c.png", "a\\b/c.png",
                                  "", "/", "tex/", "\\", "//server/share/x.####.exr"])  # fmt: skip
def test_the_file_name_is_what_follows_the_last_slash_of_either_kind(text: str) -> None:
    import re

    from azrender.scan.tokens import _basename

    assert _basename(text) == re.split(r"[\\/]", text)[-1]
