"""Environment variables, path resolution (scene, Maya project, Windows) and Asset building."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.model import AssetKind
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
