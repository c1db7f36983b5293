"""The lean REST path (azrender.storage.rest) against Azurite: what it writes, what it refuses.

Ground truth is the service's own view of a blob (the SDK's properties and
download) and hashes computed here with hashlib / xxhash, never azrender's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import xxhash
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.storage.blob import (
    BlobClient,
    ContainerClient,
    ContainerSasPermissions,
    generate_container_sas,
)

from azrender.errors import StorageError
from azrender.local.azurite import DEV_ACCOUNT, DEV_KEY, AzuriteServer, free_port
from azrender.storage import rest, transport
from azrender.storage.client import client_options, container_client, ensure_container
from azrender.storage.download import download_prefix
from azrender.storage.rest import BlobRest
from azrender.storage.upload import UploadItem, upload_files

pytestmark = pytest.mark.azurite


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"rest-{uuid.uuid4().hex[:12]}")
    ensure_container(c)
    return c


def _lean(client: ContainerClient) -> BlobRest:
    found = BlobRest.for_client(client)
    assert found is not None
    return found


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def test_put_blob_stores_the_bytes_metadata_and_their_md5(client: ContainerClient) -> None:
    data = os.urandom(70_000)
    _lean(client).put_blob("show/tex/brick wall+é.png", data, {"xxh3": "ab" * 16, "mtime_ns": "17"})
    blob = client.get_blob_client("show/tex/brick wall+é.png")
    props = blob.get_blob_properties()
    assert blob.download_blob().readall() == data
    assert props.metadata == {"xxh3": "ab" * 16, "mtime_ns": "17"}
    assert bytes(props.content_settings.content_md5) == _md5(data)  # the service's own MD5
    assert props.blob_type == "BlockBlob" and props.size == len(data)


def test_the_body_checksum_is_azures_crc64_as_the_sdk_sends_it() -> None:
    # The check value of CRC-64/NVME (the polynomial Azure Storage's CRC-64 uses) over "123456789",
    # from the CRC catalogue (reveng.sourceforge.io/crc-catalogue): 0xAE8B14860A799888.
    assert rest.body_checksum(b"123456789") == (
        "x-ms-content-crc64", base64.b64encode((0xAE8B14860A799888).to_bytes(8, "little")).decode())
    sdk = pytest.importorskip("azure.storage.blob._shared.validation")  # azure-storage-blob's own encoding
    data = os.urandom(100_003)
    assert rest.body_checksum(data)[1] == base64.b64encode(sdk.calculate_crc64_bytes(data)).decode()


def _without_crc64(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a platform azure-storage-extensions has no wheel for."""
    monkeypatch.setattr(rest, "_CRC64_COMPUTE", None)


@pytest.mark.parametrize("checksum", ["crc64", "md5"])
def test_a_body_corrupted_on_the_way_is_refused_and_nothing_is_stored(
    client: ContainerClient, monkeypatch: pytest.MonkeyPatch, checksum: str
) -> None:
    if checksum == "md5":
        _without_crc64(monkeypatch)
    real = rest._exchange
    sent: list[dict[str, str]] = []

    def flip_a_byte(conn: Any, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Any:
        if body is None:  # a read: as it is
            return real(conn, method, url, body, headers)
        sent.append(dict(headers))
        return real(conn, method, url, bytes([body[0] ^ 1]) + body[1:], headers)

    monkeypatch.setattr(rest, "_exchange", flip_a_byte)
    lean = _lean(client)
    with pytest.raises(HttpResponseError) as refused:
        lean.put_blob("a.bin", b"the bytes that were hashed", {"xxh3": "0" * 32, "mtime_ns": "1"})
    assert refused.value.status_code == 400
    assert getattr(refused.value, "error_code", None) == {"crc64": "Crc64Mismatch", "md5": "Md5Mismatch"}[checksum]
    assert not client.get_blob_client("a.bin").exists()
    # Put Block likewise: nothing is staged.
    with pytest.raises(HttpResponseError) as refused:
        lean.put_block("b.bin", "block-0", os.urandom(5000))
    assert refused.value.status_code == 400
    assert lean.block_sizes("b.bin") == {}
    # One checksum per request: the service refuses a request that has both (400).
    assert len(sent) == 2 and all(("x-ms-content-crc64" in h) != ("Content-MD5" in h) for h in sent)


@pytest.mark.parametrize("checksum", ["crc64", "md5"])
def test_blocks_pass_the_service_check_and_put_blob_keeps_the_services_md5(
    client: ContainerClient, monkeypatch: pytest.MonkeyPatch, checksum: str
) -> None:
    if checksum == "md5":
        _without_crc64(monkeypatch)
    lean = _lean(client)
    parts = [os.urandom(70_000), os.urandom(1), b""]
    for i, part in enumerate(parts):
        lean.put_block("big.abc", f"b{i}", part)
    lean.put_block_list("big.abc", ["b0", "b1", "b2"], {"xxh3": "cd" * 16})
    assert client.get_blob_client("big.abc").download_blob().readall() == b"".join(parts)
    # The node's azcopy (--check-md5) checks the blob's stored MD5: the service makes it for a Put Blob.
    data = os.urandom(30_000)
    lean.put_blob("small.png", data, {"xxh3": "ef" * 16})
    assert bytes(client.get_blob_client("small.png").get_blob_properties().content_settings.content_md5) == _md5(data)


def test_get_range_checks_the_service_md5_of_what_arrived(
    client: ContainerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(5000)
    client.upload_blob("f.exr", data)
    got = _lean(client).get_range("f.exr", 0, 4 << 20, None)
    assert bytes(got.data) == data and got.total == len(data)
    assert got.etag == client.get_blob_client("f.exr").get_blob_properties().etag.strip('"')

    real = rest._read_body

    def corrupted(response: Any) -> bytearray:
        body = real(response)
        body[-1] ^= 0xFF
        return body

    monkeypatch.setattr(rest, "_read_body", corrupted)
    with pytest.raises(AzureError, match="MD5 mismatch"):
        _lean(client).get_range("f.exr", 0, 4 << 20, None)


def test_get_range_of_an_empty_blob_a_missing_one_and_a_changed_one(client: ContainerClient) -> None:
    client.upload_blob("empty", b"")
    lean = _lean(client)
    got = lean.get_range("empty", 0, 4 << 20, None)
    assert (bytes(got.data), got.total) == (b"", 0)
    with pytest.raises(ResourceNotFoundError) as missing:
        lean.get_range("nope", 0, 10, None)
    assert missing.value.status_code == 404 and getattr(missing.value, "error_code", None) == "BlobNotFound"
    client.upload_blob("g", b"1234")
    with pytest.raises(HttpResponseError) as changed:
        lean.get_range("g", 0, 4, "0x8D000000000000")
    assert changed.value.status_code == 412


def test_a_sas_url_client_goes_the_lean_way(azurite: AzuriteServer, client: ContainerClient) -> None:
    key = getattr(client.credential, "account_key", None)
    assert isinstance(key, str)
    sas = generate_container_sas(
        client.account_name or "", client.container_name, account_key=key,
        permission=ContainerSasPermissions(read=True, write=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    via_sas = ContainerClient.from_container_url(f"{client.url}?{sas}", **client_options())
    lean = _lean(via_sas)
    lean.put_blob("s.bin", b"sas body", {"xxh3": "1" * 32, "mtime_ns": "2"})
    assert client.download_blob("s.bin").readall() == b"sas body"
    assert bytes(lean.get_range("s.bin", 0, 100, None).data) == b"sas body"


def test_upload_files_sends_small_files_the_lean_way_with_their_xxh3(
    client: ContainerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = []
    for i in range(12):
        p = tmp_path / "tex" / f"t{i}.png"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(os.urandom(1000 + 997 * i))
        files.append(p)
    sent: list[str] = []
    real_put = BlobRest.put_blob

    def counting(self: BlobRest, blob: str, data: bytes, metadata: dict[str, str]) -> None:
        sent.append(blob)
        real_put(self, blob, data, metadata)

    monkeypatch.setattr(BlobRest, "put_blob", counting)
    monkeypatch.setattr(ContainerClient, "upload_blob", lambda *a, **k: pytest.fail("went through the SDK"))
    items = [UploadItem(p, f"tex/{p.name}") for p in files]
    summary = upload_files(client, items, cache=None, index_blob=None)
    assert summary.uploaded_files == len(files) and sorted(sent) == sorted(i.blob for i in items)
    for p in files:
        blob = BlobClient.from_connection_string(
            os.environ["AZURE_STORAGE_CONNECTION_STRING"], client.container_name, f"tex/{p.name}"
        )
        props = blob.get_blob_properties()
        assert props.metadata["xxh3"] == xxhash.xxh3_128_hexdigest(p.read_bytes())
        assert props.metadata["mtime_ns"] == str(p.stat().st_mtime_ns)
        assert blob.download_blob().readall() == p.read_bytes()


def test_download_prefix_fetches_small_blobs_the_lean_way(
    client: ContainerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = {f"frames/f{i:03d}.exr": os.urandom(100 + 5000 * i) for i in range(8)}
    for name, data in blobs.items():
        client.upload_blob(name, data)
    monkeypatch.setattr(BlobClient, "download_blob", lambda *a, **k: pytest.fail("went through the SDK"))
    got = download_prefix(client, "frames", tmp_path / "out")
    assert got.downloaded_files == len(blobs)
    for name, data in blobs.items():
        assert (tmp_path / "out" / name.split("/", 1)[1]).read_bytes() == data


def test_a_wrong_key_and_a_missing_container_are_named_as_before(
    azurite: AzuriteServer, storage_env: str, tmp_path: Path
) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(b"png")
    missing = container_client(f"nope-{uuid.uuid4().hex[:12]}")
    with pytest.raises(StorageError, match="does not exist"):
        upload_files(missing, [UploadItem(p, "a.png")], cache=None, index_blob=None)
    wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    conn = azurite.connection_string.replace(DEV_KEY, wrong)
    refused = ContainerClient.from_connection_string(conn, missing.container_name, **client_options())
    with pytest.raises(StorageError, match="refused the credential") as info:
        upload_files(refused, [UploadItem(p, "a.png")], cache=None, index_blob=None)
    assert wrong not in str(info.value)


def test_an_unreachable_endpoint_is_named(tmp_path: Path) -> None:
    port = free_port()  # bound then released: nothing listens there
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    client = ContainerClient.from_connection_string(conn, "assets", **client_options())
    lean = BlobRest.of(client)
    assert lean is not None
    lean.sleep = lambda _s: None  # the SDK-like waits between tries: not needed to see the outcome
    p = tmp_path / "a.png"
    p.write_bytes(b"png")
    with pytest.raises(StorageError, match=f"cannot reach blob storage at http://127.0.0.1:{port}"):
        upload_files(client, [UploadItem(p, "a.png")], cache=None, index_blob=None)


def test_a_connection_closed_while_idle_is_replaced(client: ContainerClient) -> None:
    lean = _lean(client)
    lean.put_blob("one", b"1", {"xxh3": "1" * 32, "mtime_ns": "1"})
    conn, reused = lean._conns.get()
    assert reused and conn.sock is not None
    conn.sock.shutdown(socket.SHUT_RDWR)  # as if the service had closed it
    lean.put_blob("two", b"2", {"xxh3": "2" * 32, "mtime_ns": "2"})
    assert client.download_blob("two").readall() == b"2"


def test_a_token_credential_is_asked_once_until_its_token_nears_expiry() -> None:
    class Token:
        def __init__(self, expires_in: float) -> None:
            self.calls = 0
            self.expires_in = expires_in

        def get_token(self, *scopes: str) -> Any:
            assert scopes == ("https://storage.azure.com/.default",)
            self.calls += 1
            import time

            return type("T", (), {"token": f"tok{self.calls}", "expires_on": time.time() + self.expires_in})()

    fresh = Token(3600)
    signer = transport.Bearer(fresh)
    headers: dict[str, str] = {}
    for _ in range(3):
        signer("PUT", "/c/b", headers)
    assert headers["Authorization"] == "Bearer tok1" and fresh.calls == 1
    stale = Token(60)  # inside the renewal margin: every request asks again
    signer = transport.Bearer(stale)
    signer("PUT", "/c/b", headers)
    signer("PUT", "/c/b", headers)
    assert headers["Authorization"] == "Bearer tok2" and stale.calls == 2


def test_a_listing_of_many_pages_is_read_to_its_end_as_the_sdk_lists_it(client: ContainerClient) -> None:
    lean = _lean(client)
    names = [f"J/frames/{i:04d}.exr" for i in range(11)] + ["J/other.txt", "K/elsewhere.exr"]
    for name in names:
        lean.put_blob(name, name.encode(), {})
    first, marker = lean.list_page("J/frames/", None, page_size=4)
    assert [b.name for b in first] == names[:4] and marker is not None  # the service said: more
    listed = lean.list_blobs("J/frames/", page_size=4)  # three pages: 4, 4, 3
    sdk = list(client.list_blobs(name_starts_with="J/frames/"))
    assert [(b.name, b.size, b.etag) for b in listed] == [(b.name, b.size, b.etag.strip('"')) for b in sdk]
    assert [b.name for b in listed] == names[:11]
    assert len(lean.list_blobs(None, page_size=5)) == len(names)
