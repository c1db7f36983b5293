"""Environment variables, path resolution (scene, Maya project, Windows) and Asset building."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.model import Asset, AssetKind
from azrender.scan import assets_for, expand_vars, has_vars, resolve_path


@pytest.mark.parametrize(
    ("text", "env", "expected", "unresolved"),
    [
        ("$A/x", {"A": "/s"}, "/s/x", ()),
        ("${A}x", {"A": "/s"}, "/sx", ()),
        ("%A%\\x", {"A": "P:"}, "P:\\x", ()),
        ("$A/${B}/%C%", {}, "$A/${B}/%C%", ("A", "B", "C")),
        ("$A/$A", {}, "$A/$A", ("A",)),
        ("/r/img_%04d.exr", {}, "/r/img_%04d.exr", ()),
        ("/r/img.$F4.exr", {}, "/r/img.$F4.exr", ()),
        ("/r/img.$F.exr", {}, "/r/img.$F.exr", ()),
        ("/r/$FX/a.exr", {"FX": "fx"}, "/r/fx/a.exr", ()),
        ("100% sure", {}, "100% sure", ()),
        ("$1/a", {}, "$1/a", ()),
    ],
)
def test_expand_vars(
    text: str, env: dict[str, str], expected: str, unresolved: tuple[str, ...]
) -> None:
    result = expand_vars(text, env)
    assert (result.text, result.unresolved) == (expected, unresolved)
    assert result.complete == (not unresolved)


def test_expand_vars_uses_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZR_TEST_ROOT", "/mnt/show")
    assert expand_vars("$AZR_TEST_ROOT/a").text == "/mnt/show/a"
    assert has_vars("$AZR_TEST_ROOT/a") and not has_vars("/a/b.####.exr")


def test_absolute_and_scene_relative(tmp_path: Path) -> None:
    assert resolve_path("/a/./b/../c.png", scene_dir=tmp_path, env={}).path == "/a/c.png"
    r = resolve_path("tex/../tex/a.png", scene_dir=tmp_path, env={})
    assert r.path == str(tmp_path / "tex" / "a.png") and not r.foreign
    r = resolve_path("tex\\a.png", scene_dir=tmp_path, env={})
    assert r.path == str(tmp_path / "tex" / "a.png")


@pytest.mark.parametrize(
    "written",
    ["E:/Ws/tex/red.png", "E:\\Ws\\tex\\red.png", "\\\\srv\\share\\tex\\red.png", "c:/x.png"],
)
def test_windows_paths_are_kept_as_written_and_missing(tmp_path: Path, written: str) -> None:
    r = resolve_path(written, scene_dir=tmp_path, env={})
    assert r.foreign and r.path == written
    [asset] = assets_for(written, AssetKind.TEXTURE, "file1.ftn", scene_dir=tmp_path, env={})
    assert str(asset.path) == written
    assert not asset.exists and asset.referrer == "file1.ftn"


def test_windows_path_from_variable(tmp_path: Path) -> None:
    r = resolve_path("%SHOW%\\tex\\a.png", scene_dir=tmp_path, env={"SHOW": "P:"})
    assert r.foreign and r.path == "P:\\tex\\a.png"


def test_search_roots_before_the_scene_folder(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "scenes" / "seq").mkdir(parents=True)
    (project / "sourceimages").mkdir()
    (project / "workspace.mel").write_text('workspace -fr "sourceImages" "sourceimages";\n')
    (project / "sourceimages" / "grid.png").write_bytes(b"png")
    scene = project / "scenes" / "seq" / "shot.ma"
    r = resolve_path(
        "sourceimages/grid.png", scene_dir=scene.parent, search_roots=[project], env={}
    )
    assert r.path == str(project / "sourceimages" / "grid.png")
    # not in the project, but beside the scene: the scene folder is the fallback
    (scene.parent / "local.png").write_bytes(b"png")
    r = resolve_path("local.png", scene_dir=scene.parent, search_roots=[project], env={})
    assert r.path == str(scene.parent / "local.png")
    # missing everywhere: reported where the project says it should be
    r = resolve_path(
        "sourceimages/gone.png", scene_dir=scene.parent, search_roots=[project], env={}
    )
    assert r.path == str(project / "sourceimages" / "gone.png")


def test_assets_for_udim_and_sequence(tmp_path: Path) -> None:
    for n in ("w.1001.exr", "w.1002.exr", "p.0001.exr", "p.0002.exr"):
        (tmp_path / n).write_bytes(b"1234")
    tiles = assets_for("w.<UDIM>.exr", AssetKind.TEXTURE, "file1.ftn", scene_dir=tmp_path, env={})
    assert [(a.path.name, a.exists, a.size, a.kind) for a in tiles] == [
        ("w.1001.exr", True, 4, AssetKind.TEXTURE),
        ("w.1002.exr", True, 4, AssetKind.TEXTURE),
    ]
    seq = assets_for(
        "p.0001.exr", AssetKind.TEXTURE, "ip.imn", scene_dir=tmp_path, env={}, sequence=True
    )
    assert [a.path.name for a in seq] == ["p.0001.exr", "p.0002.exr"]
    none = assets_for("z.<UDIM>.exr", AssetKind.TEXTURE, "file9.ftn", scene_dir=tmp_path, env={})
    assert [(a.path, a.exists, a.referrer) for a in none] == [
        (tmp_path / "z.<UDIM>.exr", False, "file9.ftn")
    ]
    assert assets_for("  ", AssetKind.TEXTURE, "x", scene_dir=tmp_path) == []


def test_assets_for_unset_variable_is_reported(tmp_path: Path) -> None:
    [a] = assets_for("$NOPE_ROOT/a.png", AssetKind.TEXTURE, "file3.ftn", scene_dir=tmp_path, env={})
    assert not a.exists
    assert str(a.path).endswith("$NOPE_ROOT/a.png")
    assert a.referrer == "file3.ftn (unset variable $NOPE_ROOT)"


def test_a_relative_file_found_in_a_search_root_is_stated_once(tmp_path: Path, stat_calls: list[str]) -> None:
    """The resolver's stat describes the file it found (exists, size): no second stat for the Asset."""
    root, scene_dir = tmp_path / "project", tmp_path / "project" / "scenes"
    (root / "tex").mkdir(parents=True)
    scene_dir.mkdir()
    (root / "tex" / "a.png").write_bytes(b"a" * 5)
    (scene_dir / "tex").mkdir()
    (scene_dir / "tex" / "dir.png").mkdir()  # there, so resolution stops at it, yet not a file
    found = assets_for("tex/a.png", AssetKind.TEXTURE, "f.ftn", scene_dir=scene_dir, search_roots=[root])
    assert stat_calls.count(str(root / "tex" / "a.png")) == 1, stat_calls
    assert found == [Asset.from_disk(root / "tex" / "a.png", AssetKind.TEXTURE, "f.ftn")]
    assert (found[0].exists, found[0].size) == (True, 5)
    folder = assets_for("tex/dir.png", AssetKind.TEXTURE, "g.ftn", scene_dir=scene_dir)
    assert folder[0].path == scene_dir / "tex" / "dir.png" and not folder[0].exists
    assert assets_for("tex/gone.png", AssetKind.TEXTURE, "h.ftn", scene_dir=scene_dir, search_roots=[root]) == [
        Asset(root / "tex" / "gone.png", AssetKind.TEXTURE, False, None, "h.ftn")
    ]
