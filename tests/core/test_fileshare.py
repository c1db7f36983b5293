"""Upload to an Azure Files share, against the fake Files service (tests/core/files_service.py)."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import xxhash
from azure.core.credentials import AccessToken
from azure.storage.fileshare import ShareClient
from tests.core.files_service import ACCOUNT, CONNECTION_STRING, FakeFilesService

from azrender.errors import StorageError
from azrender.storage import fileshare, sharefile
from azrender.storage.fileshare import (
    PART_PREFIX,
    SHARE_INDEX,
    read_share_index,
    share_client,
    upload_to_share,
)
from azrender.storage.hashing import HashCache
from azrender.storage.retry import with_retries
from azrender.storage.upload import UploadItem

SECRET = CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
#: Retries without waiting: the tests exercise the logic, not the clock.
FAST_RETRY = functools.partial(with_retries, sleep=lambda s: None)


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFilesService]:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
    fake = FakeFilesService("show-abc")
    fake.is_part = lambda path: path.rsplit("/", 1)[-1].startswith(PART_PREFIX)
    yield fake
    # Whatever the test did, no state of the share showed a final name half-written.
    assert fake.exposed == []


@pytest.fixture
def client(service: FakeFilesService) -> ShareClient:
    # No SDK-level retries: with_retries (FAST_RETRY) repeats what failed.
    return share_client(ACCOUNT, "show-abc", transport=service, retry_total=0)


@pytest.fixture
def cache(tmp_path: Path) -> HashCache:
    return HashCache(tmp_path / "hashes.sqlite")


@pytest.fixture
def tree(tmp_path: Path) -> list[UploadItem]:
    """Files of several sizes, with spaces and non-ASCII names, under nested folders."""
    specs = [
        ("tex/empty.bin", 0),
        ("tex/one byte.bin", 1),
        ("tex/größe/naïve ü.png", 1000),
        ("caches/sim/frame 0001.vdb", 300_000),
        ("caches/sim/big.abc", 1_100_000),
    ]
    items = []
    for rel, size in specs:
        p = tmp_path / "show" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        items.append(UploadItem(local=p, blob=f"P/show/{rel}"))
    return items


def upload(client: ShareClient, items: list[UploadItem], cache: HashCache, **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("range_size", 256 << 10)  # several ranges for the larger files
    kw.setdefault("retry", FAST_RETRY)
    return upload_to_share(client, items, cache=cache, **kw)  # type: ignore[arg-type]


def no_parts(service: FakeFilesService) -> bool:
    return not any(p.rsplit("/", 1)[-1].startswith(PART_PREFIX) for p in service.paths())


def test_first_upload_creates_the_tree(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    summary = upload(client, tree, cache)
    sizes = sum(it.local.stat().st_size for it in tree)
    assert summary.to_json() == {
        "files": 5,
        "uploaded_files": 5,
        "uploaded_bytes": sizes,
        "skipped_files": 0,
    }
    assert summary.sent_bytes == sizes
    assert service.range_bytes == sizes + len(service.content(SHARE_INDEX) or b"")
    assert service.invalid == []
    for it in tree:
        f = service.file(it.blob)
        assert f is not None and f.name == it.blob
        assert bytes(f.data) == it.local.read_bytes()
        assert f.metadata["xxh3"] == xxhash.xxh3_128_hexdigest(it.local.read_bytes())
        assert f.metadata["mtime_ns"] == str(it.local.stat().st_mtime_ns)
    assert set(service.dirs.values()) >= {
        "P", "P/show", "P/show/tex", "P/show/tex/größe", "P/show/caches/sim", ".azrender",
    }  # fmt: skip
    assert service.paths() == {it.blob for it in tree} | {SHARE_INDEX}
    assert all(r.complete for r in service.renames)
    index = read_share_index(client)
    assert index == summary.entries
    assert set(index) == {it.blob for it in tree}
    # The big file went as ranges of at most range_size.
    big_part = fileshare.part_name(tree[4].blob, summary.entries[tree[4].blob].hash)
    big = [p for op, p in service.requests if op == "put_range" and p == big_part]
    assert len(big) == -(-1_100_000 // (256 << 10))


def test_second_upload_moves_no_bytes(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    upload(client, tree, cache)
    before_bytes, before_requests = service.range_bytes, len(service.requests)
    again = upload(client, tree, cache)
    assert again.to_json() == {
        "files": 5,
        "uploaded_files": 0,
        "uploaded_bytes": 0,
        "skipped_files": 5,
    }
    assert service.range_bytes == before_bytes
    ops = [op for op, _ in service.requests[before_requests:]]
    # The index vouches for every file: no HEAD, no write, no index rewrite.
    assert sorted(set(ops)) == ["create_share", "get_file"]


def test_one_changed_file_uploads_exactly_that_file(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    upload(client, tree, cache)
    changed = tree[2]
    changed.local.write_bytes(b"new content " * 50)
    start, before = len(service.requests), service.range_bytes
    summary = upload(client, tree, cache)
    before += len(service.content(SHARE_INDEX) or b"")  # the index was rewritten too
    assert summary.to_json() == {
        "files": 5,
        "uploaded_files": 1,
        "uploaded_bytes": 600,
        "skipped_files": 4,
    }
    assert service.range_bytes - before == 600
    created = [p for op, p in service.requests[start:] if op == "create_file"]
    renamed = [p for op, p in service.requests[start:] if op == "rename"]
    assert renamed == [changed.blob, SHARE_INDEX]
    assert len(created) == 2  # the part of the changed file, the index's part
    assert service.content(changed.blob) == b"new content " * 50
    assert read_share_index(client)[changed.blob].hash == xxhash.xxh3_128_hexdigest(
        b"new content " * 50
    )
    assert no_parts(service)


def test_lost_index_costs_requests_not_bytes(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    upload(client, tree, cache)
    del service.files[SHARE_INDEX.casefold()]
    before, heads = service.range_bytes, service.count("get_properties")
    summary = upload(client, tree, cache)
    assert summary.uploaded_files == 0
    # Only the rebuilt index was written.
    assert service.range_bytes - before == len(service.content(SHARE_INDEX) or b"")
    assert service.count("get_properties") - heads == 5
    assert set(read_share_index(client)) == {it.blob for it in tree}


def test_a_file_without_our_metadata_is_replaced(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    """Someone copied a file by hand (no xxh3 metadata): it is not trusted, it is uploaded."""
    upload(client, tree, cache)
    target = service.file(tree[3].blob)
    assert target is not None
    target.metadata = {}
    service.is_part = None  # the undescribed file is the test's doing, not the uploader's
    del service.files[SHARE_INDEX.casefold()]
    summary = upload(client, tree, cache)
    assert summary.uploaded_files == 1
    assert summary.uploaded_bytes == tree[3].local.stat().st_size


def test_transient_failures_and_dropped_ranges_are_retried(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    service.faults["put_range"] = [503, 500]
    service.faults["create_directory"] = [503]
    service.faults["rename"] = [500]
    service.drop_ranges = 2
    service.lose_answers["rename"] = 1  # applied, answer lost: the retry finds the part gone
    summary = upload(client, tree, cache)
    assert summary.uploaded_files == 5
    for it in tree:
        assert service.content(it.blob) == it.local.read_bytes()
    assert not service.faults["put_range"] and service.drop_ranges == 0
    assert service.lose_answers["rename"] == 0
    assert all(r.complete for r in service.renames)
    assert no_parts(service)


def test_sdk_retries_a_503_by_itself(
    service: FakeFilesService, tree: list[UploadItem], cache: HashCache
) -> None:
    """With the production client options the SDK's own retry rides out a busy answer."""
    client = share_client(ACCOUNT, "show-abc", transport=service)
    service.faults["create_file"] = [503]
    summary = upload_to_share(client, tree[:2], cache=cache, retry=lambda fn: fn())
    assert summary.uploaded_files == 2
    assert service.content(tree[1].blob) == tree[1].local.read_bytes()


def test_interrupted_upload_never_leaves_a_complete_looking_file(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    upload(client, tree, cache)
    big = tree[4]
    old = big.local.read_bytes()
    old_hash = xxhash.xxh3_128_hexdigest(old)
    new = os.urandom(len(old))
    big.local.write_bytes(new)
    # Every attempt on the new version's part fails; with_retries gives up after 6.
    part = fileshare.part_name(big.blob, xxhash.xxh3_128_hexdigest(new))
    service.path_faults[part] = [500] * 100
    with pytest.raises(StorageError) as err:
        upload(client, tree, cache)
    assert "\n" not in str(err.value)
    assert big.blob in str(err.value) and "500" in str(err.value)
    # The node still sees the previous, complete version under the final name.
    f = service.file(big.blob)
    assert f is not None and bytes(f.data) == old and f.metadata["xxh3"] == old_hash
    assert all(r.complete for r in service.renames)
    assert read_share_index(client)[big.blob].hash == old_hash
    # The next run completes it.
    service.path_faults.clear()
    summary = upload(client, tree, cache)
    assert summary.uploaded_files == 1
    assert service.content(big.blob) == big.local.read_bytes()
    assert all(r.complete for r in service.renames)


def test_interrupted_first_upload_leaves_no_final_file(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    service.drop_ranges = 100  # more than any retry budget
    with pytest.raises(StorageError):
        upload(client, tree[3:], cache, max_workers=1)
    assert tree[3].blob not in service.paths() and tree[4].blob not in service.paths()
    assert service.renames == []
    assert read_share_index(client) == {}
    service.drop_ranges = 0
    assert upload(client, tree[3:], cache).uploaded_files == 2


def test_index_records_what_arrived_before_a_failure(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    small, big = tree[1], tree[4]
    part = fileshare.part_name(big.blob, xxhash.xxh3_128_hexdigest(big.local.read_bytes()))
    service.path_faults[part] = [500] * 100
    with pytest.raises(StorageError):
        upload(client, [small, big], cache)
    assert small.blob in service.paths() and big.blob not in service.paths()
    assert set(read_share_index(client)) == {small.blob}


def test_unicode_and_space_names_reach_the_share_verbatim(
    service: FakeFilesService, client: ShareClient, tmp_path: Path, cache: HashCache
) -> None:
    p = tmp_path / "日本 語" / "tex #1 (final) ü.exr"
    p.parent.mkdir()
    p.write_bytes(b"x" * 10)
    upload(client, [UploadItem(p, "mnt/日本 語/tex #1 (final) ü.exr")], cache)
    assert service.invalid == []
    assert "mnt/日本 語/tex #1 (final) ü.exr" in service.paths()
    assert "mnt/日本 語" in service.dirs.values()


def test_a_changed_local_file_during_upload_is_not_committed(
    service: FakeFilesService,
    client: ShareClient,
    tree: list[UploadItem],
    cache: HashCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = tree[4]
    real = sharefile.read_at

    def touching(path: os.PathLike[str] | str, offset: int, length: int) -> bytes:
        data = real(path, offset, length)
        if offset == 0 and Path(path) == big.local:
            os.utime(big.local, ns=(1, 1))
        return data

    monkeypatch.setattr(sharefile, "read_at", touching)
    with pytest.raises(StorageError, match="changed while it was uploading"):
        upload(client, [big], cache)
    assert big.blob not in service.paths()


# --- errors: one line, no key ------------------------------------------------------------


def test_missing_share_without_rights_to_create_it(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    service.share_exists = False
    service.faults["create_share"] = [403]
    with pytest.raises(StorageError) as err:
        upload(client, tree, cache)
    text = str(err.value)
    assert "share 'show-abc' does not exist at https://abcrender.file.core.windows.net" in text
    assert "\n" not in text and SECRET not in text


def test_missing_share_is_created_with_a_key(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    service.share_exists = False
    assert upload(client, tree, cache).uploaded_files == 5
    assert service.share_exists


def test_refused_credential_is_one_line_without_the_key(
    service: FakeFilesService, client: ShareClient, tree: list[UploadItem], cache: HashCache
) -> None:
    service.faults["create_share"] = [403]
    service.faults["get_file"] = [403]
    with pytest.raises(StorageError) as err:
        upload(client, tree, cache)
    text = str(err.value)
    assert "refused the credential" in text and "share 'show-abc'" in text
    assert "\n" not in text and SECRET not in text and "AccountKey" not in text


def test_connection_string_for_another_account_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CONNECTION_STRING)
    with pytest.raises(StorageError) as err:
        share_client("otheraccount", "show-abc")
    text = str(err.value)
    assert "'abcrender'" in text and "'otheraccount'" in text
    assert SECRET not in text and "\n" not in text


def test_bad_connection_string_names_only_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountKey=s3cr3tvalue;nonsense")
    with pytest.raises(StorageError) as err:
        share_client(ACCOUNT, "show-abc")
    assert "AZURE_STORAGE_CONNECTION_STRING is not a valid" in str(err.value)
    assert "s3cr3tvalue" not in str(err.value)


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("fake-token", 2_000_000_000)


def test_entra_id_sends_the_backup_intent(
    monkeypatch: pytest.MonkeyPatch, tree: list[UploadItem], cache: HashCache
) -> None:
    """Without a connection string: the account URL, DefaultAzureCredential and token_intent=backup."""
    import azure.identity

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    service = FakeFilesService("show-abc")
    client = share_client(ACCOUNT, "show-abc", transport=service, retry_total=0)
    assert client.url.startswith("https://abcrender.file.core.windows.net/show-abc")
    summary = upload(client, tree, cache)
    assert summary.uploaded_files == 5 and service.invalid == []
