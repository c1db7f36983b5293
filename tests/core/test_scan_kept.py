"""The entries a process read or wrote last (azrender.scan.kept): a rescan in the artist's session skips the JSON.

The same small ``.list`` scanner as tests/core/test_scan_cache.py: each test
knows which files a scan read and which are leaves.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_scan_cache import ListAdapter, age, show  # noqa: F401 (show: a fixture shot builds on)

from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan import cache as cache_module
from azrender.scan import kept
from azrender.scan.cache import ScanCache


@pytest.fixture
def shot(show: Path) -> Path:  # noqa: F811 (the imported fixture, asked for by name)
    """test_scan_cache's show, with a second leaf: shot.list -> tex/a.png, tex/b.png, lib/set.list -> lib/wood.png."""
    (show.parent / "tex" / "b.png").write_bytes(b"b" * 11)
    show.write_text("texture tex/a.png\ntexture tex/b.png\nlibrary lib/set.list\n")
    age(show, show.parent / "tex" / "b.png")
    return show


@pytest.fixture
def cache(tmp_path: Path) -> ScanCache:
    kept.RECENT.clear()
    return ScanCache(tmp_path / "cache" / "scans")


class CountingJson:
    """``json`` as azrender.scan.cache uses it, counting the entries it parses."""

    def __init__(self) -> None:
        self.parsed = 0

    def loads(self, raw: bytes) -> Any:
        self.parsed += 1
        return json.loads(raw)

    def dumps(self, value: object, **kwargs: Any) -> str:
        return json.dumps(value, **kwargs)


def test_a_rescan_after_the_scan_parses_nothing_and_answers_the_same(
    shot: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = ListAdapter()
    cold = cache.scan(adapter, shot)
    counting = CountingJson()
    monkeypatch.setattr(cache_module, "json", counting)
    again = cache.scan(adapter, shot)
    assert adapter.scans == 1 and counting.parsed == 0
    assert again.to_json() == cold.to_json()
    assert all(a is b for a, b in zip(again.assets, cold.assets, strict=True))  # the same immutable assets
    kept.RECENT.clear()  # as a new process reads it
    assert cache.scan(adapter, shot).to_json() == cold.to_json() and counting.parsed == 1


def test_each_answer_has_lists_of_its_own(shot: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    first = cache.scan(adapter, shot)
    first.add(Asset(shot.parent / "extra.png", AssetKind.TEXTURE, False))
    first.warnings.append("changed by the caller")
    first.resolved["x"] = "y"
    again = cache.scan(adapter, shot)
    assert [a.path.name for a in again.assets] == ["shot.list", "a.png", "b.png", "set.list", "wood.png"]
    assert again.warnings == [] and again.resolved == {}


def test_a_leaf_that_changed_is_stated_again(shot: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    first = cache.scan(adapter, shot)
    with (shot.parent / "tex" / "a.png").open("ab") as f:
        f.write(b"more")  # in place: the folder's mtime stays, so the entry still holds
    again = cache.scan(adapter, shot)
    assert adapter.scans == 1
    by_name = {a.path.name: a for a in again.assets}
    assert (by_name["a.png"].exists, by_name["a.png"].size) == (True, 14)
    assert by_name["a.png"] is not first.assets[1] and by_name["b.png"] is first.assets[2]
    (shot.parent / "tex" / "b.png").unlink()
    assert [a.path.name for a in cache.scan(adapter, shot).missing] == ["b.png"]


def test_an_entry_another_process_rewrote_is_read_from_the_file(shot: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, shot)
    path = cache.entry_path(shot)
    entry = json.loads(path.read_bytes())
    entry["result"]["assets"][4][1] = "written by another process"  # the referrer of a.png
    path.write_bytes(json.dumps(entry).encode())
    again = cache.scan(adapter, shot)
    assert adapter.scans == 1
    assert again.assets[1].referrer == "written by another process"


def test_an_entry_that_no_longer_holds_is_a_miss(shot: Path, cache: ScanCache) -> None:
    adapter = ListAdapter()
    cache.scan(adapter, shot)
    library = shot.parent / "lib" / "set.list"
    library.write_text("texture rock.png\n")
    age(library, seconds=30)
    assert "rock.png" in [a.path.name for a in cache.scan(adapter, shot).assets]
    assert adapter.scans == 2


def test_only_the_last_few_entries_are_kept(tmp_path: Path) -> None:
    recent = kept.RecentEntries(size=2)
    entry = {"result": {}}
    result = AssetSet(scene=tmp_path / "s.list", app="list")
    for name in ("a", "b", "c"):
        recent.put(tmp_path / name, name.encode(), entry, result)
    assert recent.get(tmp_path / "a", b"a") is None
    assert recent.get(tmp_path / "b", b"b") is not None and recent.get(tmp_path / "c", b"c") is not None
    assert recent.get(tmp_path / "c", b"other bytes") is None
    recent.put(tmp_path / "b", b"b2", entry, result)  # written again: the newest, with its new bytes
    recent.put(tmp_path / "d", b"d", entry, result)
    assert recent.get(tmp_path / "c", b"c") is None and recent.get(tmp_path / "b", b"b2") is not None


def test_decoded_leaves_are_stated_as_from_disk_does(tmp_path: Path) -> None:
    (tmp_path / "here.png").write_bytes(b"12345")
    (tmp_path / "folder.png").mkdir()  # a folder where a file was: exists is False, as from_disk says
    scene = AssetSet(scene=tmp_path / "s.list", app="list")
    for name in ("here.png", "gone.png", "folder.png"):
        scene.add(Asset(tmp_path / name, AssetKind.TEXTURE, True, 999, "kept values"))
    doc = kept.encode_result(scene, lambda asset: False)
    decoded = kept.decode_result(json.loads(json.dumps(doc)), ("azrender",))
    expected = [Asset.from_disk(tmp_path / n, AssetKind.TEXTURE, "kept values") for n in ("here.png", "gone.png",
                                                                                        "folder.png")]  # fmt: skip
    assert decoded.assets == expected
    assert os.stat(tmp_path / "here.png").st_size == decoded.assets[0].size == 5
