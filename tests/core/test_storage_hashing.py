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


def test_lookup_many_answers_like_lookup_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "LOOKUP_CHUNK", 2)  # several queries for five paths
    files = []
    for i in range(4):
        p = tmp_path / f"{i}.bin"
        p.write_bytes(os.urandom(10 + i))
        files.append(p)
    with HashCache(tmp_path / "h.sqlite") as cache:
        entries = [cache.entry(p) for p in files[:3]]  # files[3] never hashed
        asked = [(p, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        asked[1] = (files[1], entries[1].size, entries[1].mtime_ns + 1)  # stale mtime
        asked.append((tmp_path / "nowhere", 1, 1))
        expected = [cache.lookup(*key) for key in asked]
        assert cache.lookup_many(asked) == expected
        assert expected == [entries[0].hash, None, entries[2].hash, None, None]


def test_deferred_stores_are_seen_at_once_and_written_in_one_go_on_exit(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    p = tmp_path / "a.bin"
    p.write_bytes(b"abc")
    st = p.stat()
    with HashCache(db) as cache, HashCache(db) as other:
        with cache.deferred():
            entry = cache.entry(p)
            assert cache.lookup(p, st.st_size, st.st_mtime_ns) == entry.hash
            assert cache.lookup_many([(p, st.st_size, st.st_mtime_ns)]) == [entry.hash]
            assert other.lookup(p, st.st_size, st.st_mtime_ns) is None  # not written yet
        assert other.lookup(p, st.st_size, st.st_mtime_ns) == entry.hash


def test_deferred_cache_writes_full_batches_before_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hashing, "DEFER_BATCH", 3)
    db = tmp_path / "h.sqlite"
    with HashCache(db) as cache, HashCache(db) as other, cache.deferred():
        for i in range(3):
            cache.store(tmp_path / f"{i}", i, i, f"h{i}")
        # A killed run keeps what was batched so far.
        assert [other.lookup(tmp_path / f"{i}", i, i) for i in range(3)] == ["h0", "h1", "h2"]


def test_read_entry_returns_the_bytes_it_hashed_only_for_small_misses(tmp_path: Path) -> None:
    small, large = tmp_path / "s.bin", tmp_path / "l.bin"
    small.write_bytes(b"x" * 100)
    large.write_bytes(b"y" * 1000)
    with HashCache(tmp_path / "h.sqlite") as cache:
        entry, data = hashing.read_entry(small, cache, keep_below=500)
        assert data == small.read_bytes() and entry.hash == xxhash.xxh3_128_hexdigest(data)
        assert hashing.read_entry(large, cache, keep_below=500)[1] is None
        assert hashing.read_entry(small, cache, keep_below=500) == (entry, None)  # cache hit
