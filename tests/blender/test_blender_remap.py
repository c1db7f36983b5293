"""The node-side path rewrite, as a plain function (no Blender needed)."""

from __future__ import annotations

import pytest

from azrender.paths import PathMap
from azrender.paths import mirror_key as core_mirror_key
from azrender_blender.node.remap import expand_root, mirror_key, remap_path

ROOT = "/mnt/batch/tasks/shared/assets"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/mnt/show/tex/brick wall.png", f"{ROOT}/mnt/show/tex/brick wall.png"),
        ("/mnt/show/tex/paint.<UDIM>.png", f"{ROOT}/mnt/show/tex/paint.<UDIM>.png"),
        ("/mnt/show/seq/flicker.0001.png", f"{ROOT}/mnt/show/seq/flicker.0001.png"),
        ("/mnt/show/../show/lib/prop.blend", f"{ROOT}/mnt/show/lib/prop.blend"),
        ("P:\\show\\tex\\a.png", f"{ROOT}/P/show/tex/a.png"),
        ("p:/show/tex/a.png", f"{ROOT}/p/show/tex/a.png"),
        ("\\\\fileserver\\projects\\show\\a.exr", f"{ROOT}/unc/fileserver/projects/show/a.exr"),
        ("/mnt/show/strips/", f"{ROOT}/mnt/show/strips/"),  # image strip folder keeps its slash
    ],
)
def test_absolute_paths_move_under_the_mirror(old: str, new: str) -> None:
    assert remap_path(old, ROOT) == new


@pytest.mark.parametrize(
    "old",
    ["", "//textures/brick wall.png", "//../lib/prop.blend", "<builtin>", "textures/a.png",
     f"{ROOT}/mnt/show/a.png", f"{ROOT}/", ROOT],
)
def test_relative_builtin_and_already_mapped_stay(old: str) -> None:
    assert remap_path(old, ROOT) is None


def test_idempotent() -> None:
    once = remap_path("/mnt/show/a.png", ROOT)
    assert once is not None and remap_path(once, ROOT) is None


def test_windows_node() -> None:
    root = "D:\\batch\\tasks\\shared\\assets"
    assert remap_path("P:\\show\\a.png", root, "windows") == f"{root}\\P\\show\\a.png"
    assert remap_path("/mnt/show/a.png", root, "windows") == f"{root}\\mnt\\show\\a.png"
    # Windows compares paths case-insensitively, so this one is already mapped.
    assert remap_path("d:/Batch/tasks/shared/assets/P/x.png", root, "windows") is None


def test_agrees_with_pathmap() -> None:
    """The script cannot import azrender; it must still map exactly like PathMap."""
    pm = PathMap(mirror_root=ROOT)
    for path in [
        "/mnt/show/tex/a b.png",
        "/a/./b/../c.exr",
        "P:\\show\\tex\\a.png",
        "C:/Users/me/Desktop/x.blend",
        "\\\\srv\\share\\dir\\f.abc",
        "/x/<UDIM>/y.<UDIM>.png",
    ]:
        assert mirror_key(path) == core_mirror_key(path), path
        assert remap_path(path, ROOT) == pm.to_node(path), path


def test_expand_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_BATCH_NODE_SHARED_DIR", "/mnt/batch/tasks/shared")
    assert expand_root("$AZ_BATCH_NODE_SHARED_DIR/assets") == ROOT
    assert expand_root("${AZ_BATCH_NODE_SHARED_DIR}/assets") == ROOT
    monkeypatch.delenv("AZ_BATCH_NODE_SHARED_DIR")
    with pytest.raises(RuntimeError, match="unset variable"):
        expand_root("$AZ_BATCH_NODE_SHARED_DIR/assets")
