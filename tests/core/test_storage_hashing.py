"""Content hashes and the SQLite hash cache."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xxhash

from azrender import settings
from azrender.storage import hashing
from azrender.storage.hashing import BLOCK_SIZE, HashCache, IndexEntry, file_entry, hash_file


def test_hash_file_matches_one_shot_digest_across_block_boundaries(tmp_path: Path) -> None:
    data = os.urandom(BLOCK_SIZE * 2 + 123)
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    assert hash_file(p) == xxhash.xxh3_128_hexdigest(data)
    assert len(hash_file(p)) == 32


def test_default_cache_lives_in_the_cache_dir() -> None:
    with HashCache() as cache:
        assert cache.path == settings.cache_dir() / "hashes.sqlite"
        assert cache.path.is_file()


def test_cache_is_keyed_by_size_and_mtime(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"one")
    with HashCache(tmp_path / "h.sqlite") as cache:
        entry = cache.entry(p)
        st = p.stat()
        assert entry == IndexEntry(xxhash.xxh3_128_hexdigest(b"one"), 3, st.st_mtime_ns)
        assert cache.lookup(p, 3, st.st_mtime_ns) == entry.hash
        assert cache.lookup(p, 3, st.st_mtime_ns + 1) is None
        assert cache.lookup(p, 4, st.st_mtime_ns) is None


def test_cache_hit_does_not_read_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "a.txt"
    p.write_bytes(b"content")
    with HashCache(tmp_path / "h.sqlite") as cache:
        first = cache.entry(p)
        monkeypatch.setattr(hashing, "hash_file", lambda _p: pytest.fail("file was re-read"))
        assert cache.entry(p) == first


def test_corrupt_cache_file_is_recreated(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"this is not an sqlite database" * 100)
    p = tmp_path / "a.txt"
    p.write_bytes(b"x")
    with HashCache(db) as cache:
        entry = cache.entry(p)
        assert cache.lookup(p, entry.size, entry.mtime_ns) == entry.hash
    with HashCache(db) as again:
        assert again.lookup(p, entry.size, entry.mtime_ns) == entry.hash


def test_cache_is_safe_from_many_threads(tmp_path: Path) -> None:
    files = []
    for i in range(64):
        p = tmp_path / "f" / f"{i}.bin"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(os.urandom(i * 100))
        files.append(p)
    with HashCache(tmp_path / "h.sqlite") as cache, ThreadPoolExecutor(16) as pool:
        entries = list(pool.map(cache.entry, files * 3))
    expected = [hash_file(p) for p in files * 3]
    assert [e.hash for e in entries] == expected
    with HashCache(tmp_path / "h.sqlite") as cache:
        assert all(cache.lookup(p, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        file_entry(tmp_path / "nope")


def test_index_entry_json_round_trip_and_validation() -> None:
    e = IndexEntry("ab" * 16, 10, 123)
    assert IndexEntry.from_json(e.to_json()) == e
    with pytest.raises(ValueError):
        IndexEntry.from_json({"hash": 1, "size": 2})
    with pytest.raises(ValueError):
        IndexEntry.from_json([1])
