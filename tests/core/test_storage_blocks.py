"""Resumable block uploads, retries and the upload journal, against a real Azurite."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceResponseError
from azure.storage.blob import BlobClient, ContainerClient

from azrender.storage.blocks import (
    BlockTarget,
    RestBlocks,
    block_ids,
    existing_blocks,
    upload_in_blocks,
)
from azrender.storage.client import container_client, ensure_container
from azrender.storage.hashing import HashCache, IndexEntry, file_entry
from azrender.storage.index import metadata_for
from azrender.storage.journal import UploadJournal
from azrender.storage.rest import BlobRest
from azrender.storage.retry import backoff_delay, is_transient, with_retries
from azrender.storage.upload import UploadItem, UploadOptions, read_index, upload_files

MiB = 1 << 20


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"blk-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    return c


Target = Callable[[str], BlobClient | BlockTarget]


@pytest.fixture(params=["sdk", "rest"])
def via(request: pytest.FixtureRequest, client: ContainerClient) -> Target:
    """Who sends a blob's block requests: the SDK's BlobClient, or the lean REST path."""
    if request.param == "sdk":
        return client.get_blob_client
    rest = BlobRest.for_client(client)
    assert rest is not None
    return lambda name: RestBlocks(rest, name)


def _big(tmp_path: Path, size: int, name: str = "big.exr") -> Path:
    p = tmp_path / name
    p.write_bytes(random.Random(size).randbytes(size))
    return p


def test_block_ids_are_deterministic_fixed_width_and_depend_on_content() -> None:
    a = block_ids("0" * 32, 10 * MiB, 4 * MiB)
    assert a == block_ids("0" * 32, 10 * MiB, 4 * MiB)
    assert len(a) == 3 and len({len(x) for x in a}) == 1
    assert not set(a) & set(block_ids("1" * 32, 10 * MiB, 4 * MiB))
    assert not set(a) & set(block_ids("0" * 32, 10 * MiB, 2 * MiB))


def test_interrupted_upload_reuses_staged_blocks_and_blob_appears_only_at_commit(
    client: ContainerClient, via: Target, tmp_path: Path
) -> None:
    path = _big(tmp_path, 5 * MiB + 123)
    entry = file_entry(path)
    blob = client.get_blob_client("show/big.exr")
    ids = block_ids(entry.hash, entry.size, MiB)
    data = path.read_bytes()
    # An earlier run staged blocks 0, 1 and 3, then died.
    for i in (0, 1, 3):
        blob.stage_block(ids[i], data[i * MiB : (i + 1) * MiB])
    assert [b.name for b in client.list_blobs()] == []  # staged blocks are invisible
    assert len(existing_blocks(blob)) == 3
    target = via("show/big.exr")
    if isinstance(target, RestBlocks):  # the same block list as the SDK reads it
        assert target.existing() == existing_blocks(blob) == {ids[i]: MiB for i in (0, 1, 3)}

    result = upload_in_blocks(target, path, entry, metadata={"xxh3": entry.hash}, block_size=MiB)
    assert result.blocks == 6
    assert result.reused_bytes == 3 * MiB
    assert result.sent_bytes == entry.size - 3 * MiB
    assert blob.download_blob().readall() == data
    assert blob.get_blob_properties().metadata["xxh3"] == entry.hash


def test_a_changed_file_never_reuses_stale_blocks(client: ContainerClient, via: Target, tmp_path: Path) -> None:
    path = _big(tmp_path, 3 * MiB)
    first = file_entry(path)
    blob = client.get_blob_client("b.bin")
    upload_in_blocks(via("b.bin"), path, first, metadata={}, block_size=MiB)
    data = bytearray(path.read_bytes())
    data[MiB + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    second = file_entry(path)
    result = upload_in_blocks(via("b.bin"), path, second, metadata={}, block_size=MiB)
    assert result.reused_bytes == 0 and result.sent_bytes == 3 * MiB
    assert blob.download_blob().readall() == bytes(data)


def test_upload_files_sends_large_files_in_blocks_and_counts_resumed_bytes(
    client: ContainerClient, tmp_path: Path
) -> None:
    path = _big(tmp_path, 4 * MiB + 7)
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello")
    entry = file_entry(path)
    ids = block_ids(entry.hash, entry.size, MiB)
    client.get_blob_client("big").stage_block(ids[0], path.read_bytes()[:MiB])
    opts = UploadOptions(large_threshold=2 * MiB, block_size=MiB)
    with HashCache(tmp_path / "h.sqlite") as cache:
        summary = upload_files(
            client,
            [UploadItem(path, "big"), UploadItem(small, "small")],
            cache=cache,
            options=opts,
        )
    assert summary.uploaded_files == 2
    assert summary.resumed_bytes == MiB
    assert summary.sent_bytes == entry.size - MiB + 5
    assert client.download_blob("big").readall() == path.read_bytes()
    assert set(read_index(client)) == {"big", "small"}


def test_journal_of_a_killed_run_makes_the_next_run_skip_what_arrived(
    client: ContainerClient, tmp_path: Path
) -> None:
    files = []
    for i in range(4):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(1000 + i))
        files.append(p)
    items = [UploadItem(p, p.name) for p in files]
    # A killed run uploaded f0 and f1 and journalled them, but never wrote the index.
    journal = UploadJournal.for_target(client.url, ".azrender/index.json")
    for p in files[:2]:
        # as azrender writes a blob: its hash in the same request as its bytes
        client.upload_blob(p.name, p.read_bytes(), metadata=metadata_for(file_entry(p)))
        journal.append(p.name, file_entry(p))
    with journal.path.open("a") as f:
        f.write('{"blob": "torn')  # the kill hit mid-line
    assert set(journal.pending()) == {"f0.bin", "f1.bin"}

    summary = upload_files(client, items, cache=None)
    assert summary.uploaded_files == 2 and summary.skipped_files == 2
    assert set(read_index(client)) == {p.name for p in files}
    assert not journal.path.exists()


def test_journal_entry_for_a_file_changed_since_is_not_trusted(
    client: ContainerClient, tmp_path: Path
) -> None:
    p = tmp_path / "a.bin"
    p.write_bytes(b"old")
    journal = UploadJournal.for_target(client.url, ".azrender/index.json")
    journal.append("a.bin", file_entry(p))
    p.write_bytes(b"new!")
    summary = upload_files(client, [UploadItem(p, "a.bin")], cache=None)
    assert summary.uploaded_files == 1
    assert client.download_blob("a.bin").readall() == b"new!"


# ---------------------------------------------------------------- retries


def test_transient_failures_are_retried_with_growing_backoff() -> None:
    waits: list[float] = []
    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 4:
            raise ServiceResponseError("connection reset")
        return "ok"

    assert with_retries(flaky, sleep=waits.append, rng=random.Random(1)) == "ok"
    assert calls["n"] == 4
    assert len(waits) == 3
    for i, w in enumerate(waits):
        assert 0.5 * backoff_delay(i) <= w <= backoff_delay(i)


def test_permanent_failures_and_exhausted_attempts_raise() -> None:
    waits: list[float] = []

    def missing() -> None:
        raise ResourceNotFoundError("gone")

    with pytest.raises(ResourceNotFoundError):
        with_retries(missing, sleep=waits.append)
    assert waits == []

    def throttled() -> None:
        err = HttpResponseError(message="slow down")
        err.status_code = 503
        raise err

    with pytest.raises(HttpResponseError):
        with_retries(throttled, attempts=3, sleep=waits.append)
    assert len(waits) == 2


def test_is_transient_classifies() -> None:
    busy = HttpResponseError(message="busy")
    busy.status_code = 429
    denied = HttpResponseError(message="denied")
    denied.status_code = 403
    assert is_transient(busy) and not is_transient(denied)
    assert is_transient(ConnectionResetError()) and not is_transient(ValueError())


# ---------------------------------------------------------------- resumable download


def _count_range_gets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, object]]:
    from azure.storage.blob import BlobClient

    calls: list[tuple[object, object]] = []
    real = BlobClient.download_blob

    def counting(self: BlobClient, *args: object, **kwargs: object) -> object:
        calls.append((args[0] if args else None, args[1] if len(args) > 1 else None))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(BlobClient, "download_blob", counting)
    return calls


def test_interrupted_download_fetches_only_missing_ranges(
    client: ContainerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azrender.storage.download import download_to, part_path
    from azrender.storage.ranges import RANGE_SIZE, PartState, state_path

    data = random.Random(3).randbytes(3 * RANGE_SIZE + 99)
    client.upload_blob("f.exr", data)
    etag = client.get_blob_client("f.exr").get_blob_properties().etag.strip('"')
    target = tmp_path / "out" / "f.exr"
    target.parent.mkdir()
    part = part_path(target)
    # An earlier run got ranges 0 and 2, then the connection died.
    buf = bytearray(len(data))
    for i in (0, 2):
        buf[i * RANGE_SIZE : (i + 1) * RANGE_SIZE] = data[i * RANGE_SIZE : (i + 1) * RANGE_SIZE]
    part.write_bytes(bytes(buf))
    state_path(part).write_text(
        __import__("json").dumps(PartState(etag, len(data), RANGE_SIZE, {0, 2}).to_json())
    )
    calls = _count_range_gets(monkeypatch)
    size, _ = download_to(client, "f.exr", target, expected_hash=hash_bytes_(data))
    assert size == len(data) and target.read_bytes() == data
    assert sorted(c[0] for c in calls) == [RANGE_SIZE, 3 * RANGE_SIZE]  # ranges 1 and 3 only
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.exr"]


def test_a_part_from_a_blob_replaced_since_is_not_stitched(
    client: ContainerClient, tmp_path: Path
) -> None:
    from azrender.storage.download import download_to, part_path
    from azrender.storage.ranges import RANGE_SIZE, PartState, state_path

    old = random.Random(4).randbytes(2 * RANGE_SIZE)
    client.upload_blob("g.bin", old)
    etag = client.get_blob_client("g.bin").get_blob_properties().etag.strip('"')
    new = random.Random(5).randbytes(2 * RANGE_SIZE)
    client.upload_blob("g.bin", new, overwrite=True)
    target = tmp_path / "g.bin"
    part = part_path(target)
    part.write_bytes(old[:RANGE_SIZE])
    state_path(part).write_text(
        __import__("json").dumps(PartState(etag, len(old), RANGE_SIZE, {0}).to_json())
    )
    download_to(client, "g.bin", target)
    assert target.read_bytes() == new


def hash_bytes_(data: bytes) -> str:
    from azrender.storage.hashing import hash_bytes

    return hash_bytes(data)


def test_journal_appends_after_a_torn_line_are_kept_whole(tmp_path: Path) -> None:
    journal = UploadJournal(tmp_path / "j.jsonl")
    journal.path.write_text('{"blob": "a", "entry": {"hash": "x", "size": 1}}\n{"blob": "to')
    entry = IndexEntry("ab" * 16, 3, 7)
    journal.append("b.bin", entry)
    journal.append("c.bin", entry)
    journal.close()
    assert journal.pending() == {"a": IndexEntry("x", 1, 0), "b.bin": entry, "c.bin": entry}
    journal.clear()
    assert not journal.path.exists() and journal.pending() == {}


def test_a_blob_committed_just_before_the_kill_is_checked_not_sent_again(
    client: ContainerClient, tmp_path: Path
) -> None:
    files = []
    for i in range(3):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(2000 + i))
        files.append(p)
    journal = UploadJournal.for_target(client.url, ".azrender/index.json")
    # The killed run had begun f0 and f1; f0 was committed (with its hash) but the
    # kill came before its record; f1 never arrived.
    e0, e1 = file_entry(files[0]), file_entry(files[1])
    journal.begin("f0.bin", e0)
    journal.begin("f1.bin", e1)
    client.upload_blob("f0.bin", files[0].read_bytes(), metadata={"xxh3": e0.hash})
    journal.close()
    assert journal.unfinished() == {"f0.bin": e0, "f1.bin": e1} and journal.pending() == {}

    summary = upload_files(client, [UploadItem(p, p.name) for p in files], cache=None)
    assert (summary.uploaded_files, summary.skipped_files) == (2, 1)
    assert set(read_index(client)) == {"f0.bin", "f1.bin", "f2.bin"}
    for p in files:
        assert client.download_blob(p.name).readall() == p.read_bytes()


def test_a_commit_by_another_uploader_in_between_does_not_lose_our_staged_blocks(
    client: ContainerClient, via: Target, tmp_path: Path
) -> None:
    """Put Block List discards the blob's other uncommitted blocks: ours are staged again."""
    ours, theirs = tmp_path / "ours.bin", tmp_path / "theirs.bin"
    ours.write_bytes(os.urandom(4 * 1000 + 7))
    theirs.write_bytes(os.urandom(3 * 1000))
    blob = client.get_blob_client("shared.bin")
    ours_entry, theirs_entry = file_entry(ours), file_entry(theirs)

    class TheyCommitMidway:
        fired = False

        def begin(self, label: str, total: float | None, unit: str = "B") -> None: ...
        def end(self) -> None: ...
        def advance(self, amount: float = 1) -> None:
            if not self.fired:  # after our first block: the other machine commits its file
                self.fired = True
                upload_in_blocks(blob, theirs, theirs_entry, metadata=metadata_for(theirs_entry),
                                 block_size=1000, max_workers=1)

    sent = upload_in_blocks(via("shared.bin"), ours, ours_entry, metadata=metadata_for(ours_entry),
                            block_size=1000, max_workers=1, progress=TheyCommitMidway())
    assert blob.download_blob().readall() == ours.read_bytes()
    assert blob.get_blob_properties().metadata["xxh3"] == ours_entry.hash
    assert sent.blocks == 5
