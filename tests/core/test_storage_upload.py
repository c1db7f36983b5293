"""Uploader against a real Azurite: the remote index decides what moves."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest
import xxhash
from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.paths import mirror_key
from azrender.storage import hashing, upload
from azrender.storage import index as index_module
from azrender.storage.client import container_client, ensure_container
from azrender.storage.hashing import HashCache
from azrender.storage.layout import cas_blob
from azrender.storage.upload import (
    DEFAULT_INDEX_BLOB,
    UploadItem,
    get_json,
    items_for_paths,
    put_bytes,
    read_index,
    upload_files,
)

pytestmark = pytest.mark.azurite


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"up-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    return c


@pytest.fixture
def tree(tmp_path: Path) -> list[Path]:
    root = tmp_path / "show"
    files = []
    for i, size in enumerate([0, 1, 1000, 70_000, 1_300_000]):
        p = root / "tex" / f"t{i}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        files.append(p)
    return files


@pytest.fixture
def cache(tmp_path: Path) -> HashCache:
    return HashCache(tmp_path / "hashes.sqlite")


class Recorder:
    """A Progress that records what it was told (thread-safe, as the protocol requires)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.begun: list[tuple[str, float | None, str]] = []
        self.advanced = 0.0

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        self.begun.append((label, total, unit))

    def advance(self, amount: float = 1) -> None:
        with self.lock:
            self.advanced += amount

    def note(self, message: str) -> None:
        pass

    def end(self) -> None:
        pass


def _count_hash_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths read for hashing, streamed (hash_file) or whole (read_and_hash, small files)."""
    reads: list[str] = []
    real_stream, real_whole = hashing.hash_file, hashing.read_and_hash

    def counting(path: Path | str) -> str:
        reads.append(str(path))
        return real_stream(path)

    def counting_whole(path: Path | str) -> tuple[bytes, str]:
        reads.append(str(path))
        return real_whole(path)

    monkeypatch.setattr(hashing, "hash_file", counting)
    monkeypatch.setattr(hashing, "read_and_hash", counting_whole)
    return reads


def test_first_upload_stores_every_file_with_hash_metadata(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    summary = upload_files(client, items_for_paths(tree), cache=cache)
    assert summary.to_json() == {
        "files": 5,
        "uploaded_files": 5,
        "uploaded_bytes": sum(p.stat().st_size for p in tree),
        "skipped_files": 0,
    }
    for p in tree:
        blob = client.get_blob_client(mirror_key(p))
        assert blob.download_blob().readall() == p.read_bytes()
        meta = blob.get_blob_properties().metadata
        assert meta["xxh3"] == xxhash.xxh3_128_hexdigest(p.read_bytes())
        assert meta["mtime_ns"] == str(p.stat().st_mtime_ns)
    index = read_index(client)
    assert set(index) == {mirror_key(p) for p in tree}
    assert summary.entries == index


def test_second_upload_of_unchanged_files_moves_no_bytes(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    upload_files(client, items_for_paths(tree), cache=cache)
    again = upload_files(client, items_for_paths(tree), cache=cache)
    assert again.to_json() == {
        "files": 5,
        "uploaded_files": 0,
        "uploaded_bytes": 0,
        "skipped_files": 5,
    }


def test_changed_content_uploads_exactly_that_file(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    upload_files(client, items_for_paths(tree), cache=cache)
    changed = tree[3]
    changed.write_bytes(os.urandom(changed.stat().st_size))  # same size, new bytes

    recorder = Recorder()
    summary = upload_files(client, items_for_paths(tree), cache=cache, progress=recorder)

    assert (summary.uploaded_files, summary.skipped_files) == (1, 4)
    assert summary.uploaded_bytes == changed.stat().st_size
    assert recorder.begun == [("upload", changed.stat().st_size, "B")]
    assert recorder.advanced == changed.stat().st_size
    blob = client.get_blob_client(mirror_key(changed))
    assert blob.download_blob().readall() == changed.read_bytes()
    assert read_index(client)[mirror_key(changed)].hash == xxhash.xxh3_128_hexdigest(
        changed.read_bytes()
    )


def test_touching_only_mtime_rehashes_but_uploads_nothing(
    client: ContainerClient, tree: list[Path], cache: HashCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_files(client, items_for_paths(tree), cache=cache)
    touched = tree[2]
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    reads = _count_hash_reads(monkeypatch)

    summary = upload_files(client, items_for_paths(tree), cache=cache)

    assert reads == [str(touched)]
    assert summary.uploaded_files == 0
    assert summary.uploaded_bytes == 0


def test_hash_cache_hits_do_not_read_files(
    client: ContainerClient,
    tree: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = _count_hash_reads(monkeypatch)
    with HashCache(tmp_path / "h.sqlite") as first:
        upload_files(client, items_for_paths(tree), cache=first)
    assert sorted(reads) == sorted(str(p) for p in tree)

    reads.clear()
    # A fresh HashCache on the same file: the cache persists across runs.
    with HashCache(tmp_path / "h.sqlite") as second:
        summary = upload_files(client, items_for_paths(tree), cache=second)
    assert reads == []
    assert summary.skipped_files == 5


def test_without_cache_every_file_is_hashed(
    client: ContainerClient, tree: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_files(client, items_for_paths(tree), cache=None)
    reads = _count_hash_reads(monkeypatch)
    summary = upload_files(client, items_for_paths(tree), cache=None)
    assert len(reads) == 5
    assert summary.uploaded_files == 0


def test_index_merges_entries_of_separate_uploads(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    upload_files(client, items_for_paths(tree[:2]), cache=cache)
    upload_files(client, items_for_paths(tree[2:]), cache=cache)
    assert set(read_index(client)) == {mirror_key(p) for p in tree}


def test_index_merge_survives_a_concurrent_writer(
    client: ContainerClient, tree: list[Path], cache: HashCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another uploader writes the index between our read and our write: 412, merge again."""
    upload_files(client, items_for_paths(tree[:1]), cache=cache)
    real = upload.get_json_with_etag
    calls = {"n": 0}

    def racing(c: ContainerClient, blob: str) -> tuple[object | None, str | None]:
        result = real(c, blob)
        calls["n"] += 1
        if blob == DEFAULT_INDEX_BLOB and calls["n"] == 2:  # the first read inside the merge
            doc = real(c, blob)[0]
            assert isinstance(doc, dict)
            doc["entries"]["other/artist.png"] = {"hash": "ab", "size": 2, "mtime_ns": 1}
            put_bytes(c, blob, __import__("json").dumps(doc).encode())
        return result

    monkeypatch.setattr(upload, "get_json_with_etag", racing)  # the read before sending
    monkeypatch.setattr(index_module, "get_json_with_etag", racing)  # the reads of the merge
    upload_files(client, items_for_paths(tree[1:]), cache=cache)

    index = read_index(client)
    assert "other/artist.png" in index
    assert {mirror_key(p) for p in tree} <= set(index)
    assert calls["n"] >= 3  # it really had to read again after the 412


def test_index_none_uploads_everything_and_writes_no_index(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    items = [UploadItem(p, f"out/{p.name}") for p in tree]
    first = upload_files(client, items, cache=cache, index_blob=None)
    second = upload_files(client, items, cache=cache, index_blob=None)
    assert first.uploaded_files == second.uploaded_files == 5
    assert get_json(client, DEFAULT_INDEX_BLOB) is None


def test_duplicate_blob_names_upload_once(
    client: ContainerClient, tree: list[Path], cache: HashCache
) -> None:
    summary = upload_files(client, items_for_paths(tree[:2] + tree[:2]), cache=cache)
    assert summary.files == 2


def test_missing_local_file_is_named(
    client: ContainerClient, tmp_path: Path, cache: HashCache
) -> None:
    ghost = tmp_path / "gone.exr"
    with pytest.raises(StorageError, match=r"gone\.exr"):
        upload_files(client, items_for_paths([ghost]), cache=cache)


def test_file_vanishing_between_hash_and_upload_is_named(
    client: ContainerClient, tree: list[Path], cache: HashCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tree[4]
    real = upload.get_json_with_etag

    def delete_then_read(c: ContainerClient, blob: str) -> tuple[object | None, str | None]:
        victim.unlink()
        return real(c, blob)

    monkeypatch.setattr(upload, "get_json_with_etag", delete_then_read)
    with pytest.raises(StorageError, match="vanished") as info:
        upload_files(client, items_for_paths(tree), cache=cache, max_workers=2)
    assert str(victim) in str(info.value)
    # The files that did arrive are in the index, so a retry skips them.
    assert set(read_index(client)) == {mirror_key(p) for p in tree[:4]}


def test_items_for_paths_uses_mirror_keys(tmp_path: Path) -> None:
    p = tmp_path / "a" / "b.png"
    [item] = items_for_paths([p])
    assert item == UploadItem(local=p, blob=mirror_key(p))
    assert not item.blob.startswith("/")


def test_put_bytes_and_get_json_round_trip(client: ContainerClient) -> None:
    assert get_json(client, "nothing/here.json") is None
    put_bytes(client, "x/doc.json", b'{"a": [1, 2]}', content_type="application/json")
    assert get_json(client, "x/doc.json") == {"a": [1, 2]}
    props = client.get_blob_client("x/doc.json").get_blob_properties()
    assert props.content_settings.content_type == "application/json"


def test_get_json_rejects_non_json(client: ContainerClient) -> None:
    put_bytes(client, "bad.json", b"{not json")
    with pytest.raises(StorageError, match="not valid JSON"):
        get_json(client, "bad.json")


def test_small_files_are_read_once_and_sent_from_the_hashed_bytes(
    client: ContainerClient, tree: list[Path], cache: HashCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count_hash_reads(monkeypatch)
    monkeypatch.setattr(upload, "_open_or_vanished", lambda _i: pytest.fail("read a second time"))
    summary = upload_files(client, items_for_paths(tree), cache=cache)
    assert sorted(reads) == sorted(str(p) for p in tree)
    assert summary.uploaded_files == len(tree)
    for p in tree:
        assert client.download_blob(mirror_key(p)).readall() == p.read_bytes()


def test_content_layout_sends_identical_files_once(
    client: ContainerClient, tmp_path: Path, cache: HashCache
) -> None:
    same = os.urandom(5000)
    paths = []
    for name in ("a.png", "b.png", "c.png"):
        p = tmp_path / name
        p.write_bytes(same if name != "c.png" else same[::-1])
        paths.append(p)
    summary = upload_files(client, items_for_paths(paths), cache=cache, layout="content")
    assert (summary.files, summary.uploaded_files, summary.skipped_files) == (3, 2, 1)
    assert sorted(b.name for b in client.list_blobs(name_starts_with="cas/")) == sorted(
        cas_blob(xxhash.xxh3_128_hexdigest(d)) for d in (same, same[::-1])
    )
    assert set(summary.entries) == {mirror_key(p) for p in paths}
