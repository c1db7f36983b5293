"""The scan cache: a rescan of an unchanged scene is a lookup; any change it depends on is a miss.

The scanner here is a small one of a made-up format (each line ``<kind> <file>``,
libraries read recursively, names through ``expand_vars``), so each test
knows exactly which files a scan read; the last tests use the real Blender
adapter on a copy of a real .blend with UDIM tiles.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest

from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan import cache as cache_module
from azrender.scan import expand_vars
from azrender.scan.cache import ScanCache

UDIM = "helio__blender-asset-tracer/tests/blendfiles/udim"


class ListAdapter:
    """A scanner of ``.list`` files; counts its scans."""

    name = "list"
    suffixes = (".list",)

    def __init__(self) -> None:
        self.scans = 0

    def scan(self, scene: Path) -> AssetSet:
        self.scans += 1
        result = AssetSet(scene=scene, app=self.name)
        result.add(Asset.from_disk(scene, AssetKind.SCENE, "scene"))
        self._read(scene, result)
        return result

    def _read(self, path: Path, result: AssetSet) -> None:
        for line in path.read_text().splitlines():
            kind, _, written = line.partition(" ")
            file = path.parent / expand_vars(written).text
            result.add(Asset.from_disk(file, AssetKind(kind), path.name))
            if kind == "library" and file.is_file():
                self._read(file, result)


def age(*paths: Path, seconds: float = 60.0) -> None:
    """Set each path's mtime (and its folder's) ``seconds`` in the past: older than the racy window."""
    when = time.time() - seconds
    for path in paths:
        for p in (path, path.parent):
            os.utime(p, (when, when))


@pytest.fixture
def show(tmp_path: Path) -> Path:
    """shot.list -> lib/set.list (a library) -> lib/wood.png; shot.list -> tex/a.png."""
    root = tmp_path / "show"  # the cache folder is not beside the scene: it would change the scene's folder
    (root / "tex").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "tex" / "a.png").write_bytes(b"a" * 10)
    (root / "lib" / "wood.png").write_bytes(b"w" * 20)
    (root / "lib" / "set.list").write_text("texture wood.png\n")
    (root / "shot.list").write_text("texture tex/a.png\nlibrary lib/set.list\n")
    age(*(p for p in root.rglob("*") if p.is_file()))
    return root / "shot.list"


@pytest.fixture
def cache(tmp_path: Path) -> ScanCache:
    return ScanCache(tmp_path / "cache" / "scans")


def paths(assets: AssetSet) -> dict[str, tuple[bool, int | None]]:
    return {a.path.name: (a.exists, a.size) for a in assets.assets}


def test_an_unchanged_scene_is_a_lookup_with_the_same_result(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cold = cache.scan(adapter, show)
    again = cache.scan(adapter, show)
    assert adapter.scans == 1
    assert again.to_json() == cold.to_json()
    assert paths(again) == {"shot.list": (True, show.stat().st_size), "a.png": (True, 10),
                            "set.list": (True, len("texture wood.png\n")), "wood.png": (True, 20)}


def test_a_changed_scene_is_scanned_again(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    (show.parent / "tex" / "b.png").write_bytes(b"b")
    show.write_text("texture tex/a.png\ntexture tex/b.png\nlibrary lib/set.list\n")
    age(show, show.parent / "tex" / "b.png", seconds=30)
    assert "b.png" in paths(cache.scan(adapter, show))
    assert adapter.scans == 2


def test_a_changed_library_is_a_miss_even_in_place(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    library = show.parent / "lib" / "set.list"
    with library.open("r+") as f:  # rewritten in place: its folder's mtime stays
        f.write("texture rock.png\n")
    age(library, seconds=30)
    found = paths(cache.scan(adapter, show))
    assert adapter.scans == 2
    assert "rock.png" in found and "wood.png" not in found


def test_a_leaf_rewritten_in_place_is_restated_on_a_hit(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    with (show.parent / "tex" / "a.png").open("ab") as f:
        f.write(b"more")
    again = cache.scan(adapter, show)
    assert adapter.scans == 1
    assert paths(again)["a.png"] == (True, 14)


def test_a_deleted_leaf_is_reported_missing(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    (show.parent / "tex" / "a.png").unlink()
    again = cache.scan(adapter, show)
    assert paths(again)["a.png"] == (False, None)
    assert [a.path.name for a in again.missing] == ["a.png"]
    # A result with a missing file is not kept: the next scan reads the scene again.
    cache.scan(adapter, show)
    assert adapter.scans == 3


def test_a_new_file_beside_the_listed_ones_is_a_miss(show: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    (show.parent / "tex" / "a.1002.png").write_bytes(b"tile")  # e.g. a new UDIM tile or frame
    cache.scan(adapter, show)
    assert adapter.scans == 2


def test_a_changed_environment_variable_is_a_miss(
    show: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    (show.parent / "tex" / "v2.png").write_bytes(b"v2")
    show.write_text("texture tex/$AZR_TEST_TEX.png\n")
    age(show, show.parent / "tex" / "v2.png")
    monkeypatch.setenv("AZR_TEST_TEX", "a")
    adapter = ListAdapter()
    assert "a.png" in paths(cache.scan(adapter, show))
    assert "a.png" in paths(cache.scan(adapter, show)) and adapter.scans == 1
    monkeypatch.setenv("AZR_TEST_TEX", "v2")
    assert list(paths(cache.scan(adapter, show))) == ["shot.list", "v2.png"]
    assert adapter.scans == 2


def test_a_corrupt_cache_file_is_ignored(
    show: Path, cache: ScanCache, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = ListAdapter()
    cold = cache.scan(adapter, show)
    entry = cache.entry_path(show)
    for garbage in (b"{not json", b"[1, 2]", json.dumps({"format": 1, "scene": str(show)}).encode()):
        entry.write_bytes(garbage)
        with caplog.at_level(logging.DEBUG, logger="azrender.scan.cache"):
            assert cache.scan(adapter, show).to_json() == cold.to_json()
    assert adapter.scans == 4
    assert "ignoring" in caplog.text
    cache.scan(adapter, show)  # the last scan wrote a good entry again
    assert adapter.scans == 4


def test_a_new_scanner_version_is_a_miss(show: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, show)
    monkeypatch.setattr(cache_module, "__version__", "999.0")
    cache.scan(adapter, show)
    assert adapter.scans == 2
    adapter.scanner_version = "new reader"  # type: ignore[attr-defined]
    cache.scan(adapter, show)
    cache.scan(adapter, show)
    assert adapter.scans == 3


def test_a_scene_saved_just_now_is_not_kept(tmp_path: Path, cache: ScanCache) -> None:
    scene = tmp_path / "fresh.list"
    scene.write_text("")  # within the racy window: a rewrite in the same tick could not be seen
    adapter = ListAdapter()
    cache.scan(adapter, scene)
    cache.scan(adapter, scene)
    assert adapter.scans == 2
    assert not cache.entry_path(scene).exists()


def test_the_cache_keeps_the_most_recently_used_entries(
    tmp_path: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 2)
    scenes = []
    (tmp_path / "scenes").mkdir()
    for n in range(3):
        scenes.append(tmp_path / "scenes" / f"s{n}.list")
        scenes[-1].write_text("")
    age(*scenes)
    adapter = ListAdapter()
    for scene in scenes:
        cache.scan(adapter, scene)
        time.sleep(0.01)  # distinct mtimes: the oldest entry goes first
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted(
        cache.entry_path(s).name for s in scenes[1:]
    )


def test_an_unwritable_cache_folder_only_means_no_caching(show: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    cache = ScanCache(blocker / "scans")
    adapter = ListAdapter()
    assert cache.scan(adapter, show).to_json() == cache.scan(adapter, show).to_json()
    assert adapter.scans == 2


def _blender_copy(real_fixtures: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "udim"
    shutil.copytree(real_fixtures / UDIM, folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    age(*folder.iterdir())
    return folder / "v01_UDIM_BAT_debugging.blend"


def test_the_blender_adapter_cached_equals_cold(real_fixtures: Path, tmp_path: Path) -> None:
    from azrender_blender.adapter import BlenderAdapter

    scene = _blender_copy(real_fixtures, tmp_path)
    adapter = BlenderAdapter()
    cold = adapter.scan(scene)
    cache = ScanCache(tmp_path / "cache")
    first = cache.scan(adapter, scene)
    assert cache.entry_path(scene).exists()
    hit = cache.scan(adapter, scene)
    assert first.to_json() == cold.to_json() == hit.to_json()
    assert hit.settings == cold.settings and hit.resolved == cold.resolved
    tile = scene.parent / "cube_UDIM.color.1004.png"  # a new tile on disk: the next scan must list it
    shutil.copy(scene.parent / "cube_UDIM.color.1001.png", tile)
    assert tile in {a.path for a in cache.scan(adapter, scene).assets}
    assert cache.scan(adapter, scene).to_json() == adapter.scan(scene).to_json()
