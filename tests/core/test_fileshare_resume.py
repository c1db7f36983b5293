"""Azure Files uploads that stop midway resume from the ranges the share holds.

Against the fake Files service (tests/core/files_service.py): the upload is cut
after N ranges (the network goes, or the process is killed with SIGKILL), and
the next run sends only the ranges the part file lacks. Every state the share
passes through is checked: no file under its final name is ever incomplete or
without its hash metadata.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import xxhash
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.fileshare import ShareClient
from tests.core.files_service import ACCOUNT, CONNECTION_STRING, FakeFilesService, serve
from tests.core.killing import kill_when

from azrender.errors import StorageError
from azrender.storage.fileshare import (
    PART_PREFIX,
    SHARE_INDEX,
    part_name,
    read_share_index,
    share_client,
    upload_to_share,
)
from azrender.storage.hashing import HashCache
from azrender.storage.retry import with_retries
from azrender.storage.upload import UploadItem

KiB = 1 << 10
RANGE = 256 * KiB
FAST_RETRY = functools.partial(with_retries, sleep=lambda s: None)
ROOT = Path(__file__).resolve().parents[2]


def is_part(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith(PART_PREFIX)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> FakeFilesService:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
    fake = FakeFilesService("show-abc")
    fake.is_part = is_part
    return fake


@pytest.fixture
def client(service: FakeFilesService) -> ShareClient:
    return share_client(ACCOUNT, "show-abc", transport=service, retry_total=0)


@pytest.fixture
def cache(tmp_path: Path) -> HashCache:
    return HashCache(tmp_path / "hashes.sqlite")


@pytest.fixture
def big(tmp_path: Path) -> UploadItem:
    """13 ranges of 256 KiB, the last one short."""
    p = tmp_path / "show" / "caches" / "sim big.abc"
    p.parent.mkdir(parents=True)
    p.write_bytes(os.urandom(12 * RANGE + 17))
    return UploadItem(local=p, blob="P/show/caches/sim big.abc")


def upload(client: ShareClient, items: list[UploadItem], cache: HashCache, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("range_size", RANGE)
    kw.setdefault("retry", FAST_RETRY)
    return upload_to_share(client, items, cache=cache, **kw)  # type: ignore[arg-type]


def part_of(item: UploadItem) -> str:
    return part_name(item.blob, xxhash.xxh3_128_hexdigest(item.local.read_bytes()))


def written(service: FakeFilesService, path: str) -> int:
    f = service.file(path)
    assert f is not None
    return sum(end - start for start, end in f.spans())


def ranges_sent(service: FakeFilesService, path: str, since: int = 0) -> list[str]:
    return [p for op, p in service.requests[since:] if op == "put_range" and p == path]


def cut_midway(
    service: FakeFilesService,
    client: ShareClient,
    item: UploadItem,
    cache: HashCache,
    n: int,
    **kw: object,
) -> None:
    """Upload ``item`` until the service has applied ``n`` ranges, then lose the network.

    With one range worker (the default here) those are the first ``n`` ranges.
    """
    kw.setdefault("range_workers", 1)
    service.cut_after_ranges = n
    with pytest.raises(StorageError):
        upload(client, [item], cache, **kw)
    service.cut_after_ranges = None
    assert item.blob not in service.paths()
    assert written(service, part_of(item)) == n * RANGE


@pytest.mark.parametrize("workers", [1, 4])
def test_an_upload_cut_midway_resumes_with_only_the_missing_ranges(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache, workers: int
) -> None:
    size = big.local.stat().st_size
    cut_midway(service, client, big, cache, 5, range_workers=workers)
    start, before = len(service.requests), service.range_bytes

    summary = upload(client, [big], cache, range_workers=workers)

    assert summary.uploaded_files == 1 and summary.uploaded_bytes == size
    assert summary.resumed_bytes == 5 * RANGE
    assert summary.sent_bytes == size - 5 * RANGE
    index_len = len(service.content(SHARE_INDEX) or b"")
    assert service.range_bytes - before == size - 5 * RANGE + index_len  # what the share received
    assert len(ranges_sent(service, part_of(big), start)) == 13 - 5
    ops = [op for op, p in service.requests[start:] if p == part_of(big)]
    assert "create_file" not in ops and ops.count("list_ranges") == 1
    assert service.content(big.blob) == big.local.read_bytes()
    f = service.file(big.blob)
    assert f is not None and f.metadata == {
        "xxh3": xxhash.xxh3_128_hexdigest(big.local.read_bytes()),
        "mtime_ns": str(big.local.stat().st_mtime_ns),
    }
    assert service.paths() == {big.blob, SHARE_INDEX}  # the part became the file
    assert read_share_index(client)[big.blob] == summary.entries[big.blob]
    assert service.exposed == [] and service.invalid == []


def test_cut_twice_then_finished_sends_every_byte_once(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    size = big.local.stat().st_size
    cut_midway(service, client, big, cache, 3)
    service.cut_after_ranges = 4
    with pytest.raises(StorageError):
        upload(client, [big], cache)
    service.cut_after_ranges = None
    assert written(service, part_of(big)) == 7 * RANGE
    summary = upload(client, [big], cache)
    assert summary.resumed_bytes == 7 * RANGE
    assert len(ranges_sent(service, part_of(big))) == 13  # 3 + 4 + 6: no range twice
    assert service.range_bytes == size + len(service.content(SHARE_INDEX) or b"")
    assert service.content(big.blob) == big.local.read_bytes()
    assert service.exposed == []


def test_resume_with_another_range_size_reuses_whole_ranges_only(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    cut_midway(service, client, big, cache, 5)  # bytes [0, 5 x 256 KiB) are on the share
    summary = upload(client, [big], cache, range_size=2 * RANGE)
    # Ranges of 512 KiB: [0, 1 MiB) is covered, [1 MiB, 1.5 MiB) only half, so it goes again.
    assert summary.resumed_bytes == 4 * RANGE
    assert summary.sent_bytes == big.local.stat().st_size - 4 * RANGE
    assert service.content(big.blob) == big.local.read_bytes()
    assert service.exposed == []


def test_a_changed_source_starts_over(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    cut_midway(service, client, big, cache, 5)
    stale = part_of(big)
    big.local.write_bytes(os.urandom(big.local.stat().st_size))  # same size, new content
    start, before = len(service.requests), service.range_bytes

    summary = upload(client, [big], cache)

    size = big.local.stat().st_size
    assert summary.resumed_bytes == 0 and summary.sent_bytes == size
    assert len(ranges_sent(service, part_of(big), start)) == 13
    assert service.range_bytes - before == size + len(service.content(SHARE_INDEX) or b"")
    assert service.content(big.blob) == big.local.read_bytes()
    # The other content's part is another file, never read; it stays (not swept, by design).
    assert stale != part_of(big) and stale in service.paths()
    assert service.exposed == []


def test_a_touched_source_with_the_same_bytes_starts_over(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    """The part records the source mtime: a file touched since is not trusted to match it."""
    cut_midway(service, client, big, cache, 5)
    os.utime(big.local, ns=(1_000_000_000, 1_000_000_000))
    start = len(service.requests)
    summary = upload(client, [big], cache)
    assert summary.resumed_bytes == 0
    ops = [op for op, p in service.requests[start:] if p == part_of(big)]
    assert ops[:2] == ["get_properties", "create_file"]  # recreated, not listed
    assert service.file(big.blob).metadata["mtime_ns"] == "1000000000"  # type: ignore[union-attr]
    assert service.content(big.blob) == big.local.read_bytes()


def test_a_part_with_other_metadata_is_recreated(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    cut_midway(service, client, big, cache, 5)
    part = service.file(part_of(big))
    assert part is not None
    part.metadata["xxh3"] = "0" * 32  # not what its name says: never reuse its ranges
    summary = upload(client, [big], cache)
    assert summary.resumed_bytes == 0
    assert service.content(big.blob) == big.local.read_bytes()
    assert service.exposed == []


def test_a_resumed_file_keeps_the_previous_version_visible_until_the_rename(
    service: FakeFilesService, client: ShareClient, big: UploadItem, cache: HashCache
) -> None:
    upload(client, [big], cache)
    old = big.local.read_bytes()
    big.local.write_bytes(os.urandom(len(old)))
    cut_midway_done = 6
    service.cut_after_ranges = cut_midway_done
    with pytest.raises(StorageError):
        upload(client, [big], cache)
    service.cut_after_ranges = None
    assert service.content(big.blob) == old  # the node still reads the old, complete file
    summary = upload(client, [big], cache)
    assert summary.resumed_bytes == cut_midway_done * RANGE
    assert service.content(big.blob) == big.local.read_bytes()
    assert [r.complete for r in service.renames if r.target == big.blob] == [True, True]
    assert service.exposed == []


def test_small_files_do_not_pay_for_resuming(
    service: FakeFilesService, client: ShareClient, tmp_path: Path, cache: HashCache
) -> None:
    """A file of one range is written whole: no HEAD or List Ranges on its part."""
    p = tmp_path / "a.png"
    p.write_bytes(b"x" * 1000)
    item = UploadItem(p, "P/a.png")
    upload(client, [item], cache)
    part = part_of(item)
    # (A rename is addressed to its target.)
    ops = [op for op, p in service.requests if p == part or (op, p) == ("rename", item.blob)]
    assert ops == ["create_file", "put_range", "rename"]


# --- Rename File and List Ranges as the fake plays them (the REST reference) ------------


def _put(client: ShareClient, path: str, data: bytes) -> None:
    f = client.get_file_client(path)
    f.create_file(len(data), metadata={"xxh3": "h"})
    if data:
        f.upload_range(data, 0, len(data))


def test_fake_rename_replace_if_exists_and_read_only_rules(
    service: FakeFilesService, client: ShareClient
) -> None:
    service.is_part = None
    client.create_directory("d")
    _put(client, "d/a", b"aaa")
    _put(client, "d/b", b"bbb")
    with pytest.raises(ResourceExistsError) as err:
        client.get_file_client("d/a").rename_file("d/b")
    assert err.value.error_code == "ResourceAlreadyExists"
    b = service.file("d/b")
    assert b is not None
    b.read_only = True
    with pytest.raises(HttpResponseError) as err2:
        client.get_file_client("d/a").rename_file("d/b", overwrite=True)
    assert err2.value.status_code == 409 and err2.value.error_code == "ReadOnlyAttribute"
    with pytest.raises(HttpResponseError) as err3:
        client.get_file_client("d/a").rename_file("d/b", ignore_read_only=True)
    assert err3.value.status_code == 400 and err3.value.error_code == "InvalidHeaderValue"
    client.get_file_client("d/a").rename_file("d/b", overwrite=True, ignore_read_only=True)
    assert service.content("d/b") == b"aaa" and service.file("d/a") is None
    assert service.file("d/b").metadata == {"xxh3": "h"}  # type: ignore[union-attr]
    # Metadata headers on the rename replace the file's metadata.
    client.get_file_client("d/b").rename_file("d/c", metadata={"k": "v"})
    assert service.file("d/c").metadata == {"k": "v"}  # type: ignore[union-attr]
    client.create_directory("d/sub")
    with pytest.raises(HttpResponseError) as err4:
        client.get_file_client("d/c").rename_file("d/sub", overwrite=True)
    assert err4.value.error_code == "ResourceTypeMismatch"
    with pytest.raises(ResourceNotFoundError) as err5:
        client.get_file_client("d/missing").rename_file("d/x")
    assert err5.value.error_code == "ResourceNotFound"
    with pytest.raises(ResourceNotFoundError) as err6:
        client.get_file_client("d/c").rename_file("nowhere/x")
    assert err6.value.error_code == "ParentNotFound"
    assert service.invalid == []


def test_fake_list_ranges_merges_and_pages(service: FakeFilesService, client: ShareClient) -> None:
    f = client.get_file_client("f")
    f.create_file(10 * KiB)
    for offset in (0, KiB, 4 * KiB, 8 * KiB):
        f.upload_range(b"x" * KiB, offset, KiB)
    want = [(0, 2 * KiB - 1), (4 * KiB, 5 * KiB - 1), (8 * KiB, 9 * KiB - 1)]
    assert [(r["start"], r["end"]) for r in f.list_ranges()] == want
    assert [(r["start"], r["end"]) for r in f.list_ranges(results_per_page=1)] == want
    assert service.count("list_ranges") == 1 + 3
    client.get_file_client("g").create_file(5)
    assert list(client.get_file_client("g").list_ranges()) == []
    with pytest.raises(ResourceNotFoundError):
        list(client.get_file_client("missing").list_ranges())


def test_fake_records_a_final_name_with_incomplete_content(
    service: FakeFilesService, client: ShareClient
) -> None:
    """The watch the tests above rely on does fire: a file written in place is seen half-done."""
    f = client.get_file_client("in place.bin")
    f.create_file(2 * KiB, metadata={"xxh3": "h"})
    f.upload_range(b"x" * KiB, 0, KiB)
    f.upload_range(b"y" * KiB, KiB, KiB)
    assert len(service.exposed) == 2  # after the create, after the first range
    assert service.exposed[1].startswith("after put_range: in place.bin (1024/2048 bytes")


# --- a real process killed with SIGKILL midway -------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from azrender.storage.fileshare import share_client, upload_to_share
    from azrender.storage.upload import UploadItem

    local, target = Path(sys.argv[1]), sys.argv[2]
    client = share_client("abcrender", "show-abc")
    upload_to_share(client, [UploadItem(local, target)], cache=None,
                    range_size=256 << 10, range_workers=2)
    print("finished")
    """
)


def test_sigkill_midway_then_rerun_sends_only_the_missing_ranges(
    service: FakeFilesService, client: ShareClient, tmp_path: Path, cache: HashCache
) -> None:
    src = tmp_path / "big.vdb"
    src.write_bytes(os.urandom(32 * RANGE + 5))  # 33 ranges
    item = UploadItem(src, "P/show/vdb/big.vdb")
    part = part_of(item)
    service.range_delay = 0.05  # ~1 s of ranges with 2 workers: caught midway
    with serve(service) as conn:
        env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": conn}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "core"), *filter(None, [env.get("PYTHONPATH")])]
        )
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(src), item.blob],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def midway() -> bool:
            f = service.file(part)
            return f is not None and sum(e - s for s, e in f.spans()) >= 8 * RANGE

        kill_when(child, midway)
        # A range the child had handed over before it died may still be applied:
        # measure once no request is being served.
        deadline = time.monotonic() + 10
        while service.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
    assert service.in_flight == 0
    assert item.blob not in service.paths()  # nothing under the final name
    have = written(service, part)
    assert 8 * RANGE <= have < src.stat().st_size
    assert have % RANGE == 0  # whole ranges only: Put Range is all or nothing
    before, start = service.range_bytes, len(service.requests)

    service.range_delay = 0.0
    summary = upload(client, [item], cache)

    assert summary.resumed_bytes == have
    assert summary.sent_bytes == src.stat().st_size - have
    index_len = len(service.content(SHARE_INDEX) or b"")
    assert service.range_bytes - before == src.stat().st_size - have + index_len
    assert len(ranges_sent(service, part, start)) == 33 - have // RANGE
    assert service.content(item.blob) == src.read_bytes()
    assert service.exposed == [] and service.invalid == []
