"""Mirror keys and node paths for POSIX, Windows drive and UNC paths."""

from __future__ import annotations

import pytest

from azrender.errors import UsageError
from azrender.paths import PathMap, is_windows_path, mirror_key


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/mnt/show/tex/a.png", "mnt/show/tex/a.png"),
        ("/mnt/show/../show2/./a b.png", "mnt/show2/a b.png"),
        ("P:\\show\\tex\\a.png", "P/show/tex/a.png"),
        ("p:/show/tex/a.png", "p/show/tex/a.png"),
        ("\\\\fileserver\\projects\\show\\a.exr", "unc/fileserver/projects/show/a.exr"),
        ("C:\\a\\..\\b.png", "C/b.png"),
    ],
)
def test_mirror_key(path: str, key: str) -> None:
    assert mirror_key(path) == key


def test_relative_paths_are_refused() -> None:
    with pytest.raises(UsageError):
        mirror_key("tex/a.png")


def test_windows_path_detection() -> None:
    assert is_windows_path("C:\\x") and is_windows_path("c:/x") and is_windows_path("\\\\srv\\s")
    assert not is_windows_path("/c/x") and not is_windows_path("C:x")


def test_pathmap_for_linux_and_windows_nodes() -> None:
    linux = PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets/")
    assert linux.to_node("P:\\show\\a.png") == "$AZ_BATCH_NODE_SHARED_DIR/assets/P/show/a.png"
    windows = PathMap(mirror_root="%AZ_BATCH_NODE_SHARED_DIR%\\assets", node_os="windows")
    assert windows.to_node("/mnt/show/a.png") == "%AZ_BATCH_NODE_SHARED_DIR%\\assets\\mnt\\show\\a.png"
