"""Content-addressed layout end to end and the node's free-disk check (azcopy: test_azcopy.py)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import NamedTuple

import pytest
from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.node import sync as node_sync
from azrender.node.sync import sync_job
from azrender.storage.client import container_client, ensure_container
from azrender.storage.hashing import IndexEntry, hash_bytes
from azrender.storage.layout import cas_blob
from azrender.storage.manifest import JobManifest, read_job, write_job
from azrender.storage.upload import UploadItem, read_index, upload_files


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"lay-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    return c


def _write(p: Path, data: bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


@pytest.mark.azurite
def test_content_layout_stores_identical_files_once_and_node_materializes_paths(
    client: ContainerClient, tmp_path: Path
) -> None:
    a = _write(tmp_path / "shot1/tex/wood.png", b"wood" * 1000)
    b = _write(tmp_path / "shot2/tex/wood_copy.png", b"wood" * 1000)  # same bytes, other name
    c = _write(tmp_path / "shot1/tex/metal.png", b"metal")
    items = [UploadItem(a, "s1/wood.png"), UploadItem(b, "s2/wood.png"), UploadItem(c, "s1/metal.png")]
    first = upload_files(client, items, cache=None, layout="content")
    assert first.uploaded_files == 2 and first.skipped_files == 1
    blobs = sorted(x.name for x in client.list_blobs() if not x.name.startswith(".azrender"))
    assert blobs == sorted([cas_blob(hash_bytes(b"wood" * 1000)), cas_blob(hash_bytes(b"metal"))])
    assert set(read_index(client)) == set(blobs)
    assert set(first.entries) == {"s1/wood.png", "s2/wood.png", "s1/metal.png"}

    # A rename moves nothing.
    d = _write(tmp_path / "shot3/renamed.png", b"metal")
    again = upload_files(client, [UploadItem(d, "s3/renamed.png")], cache=None, layout="content")
    assert again.uploaded_files == 0

    manifest = write_job(client, "j1", first.entries, {"remap.py": b"#"}, layout="content")
    assert read_job(client, "j1") == manifest
    assert manifest.layout == "content"
    shared = tmp_path / "node"
    summary = sync_job("j1", client=client, shared_dir=shared)
    assert summary.downloaded_files == 4
    assert (shared / "assets/s1/wood.png").read_bytes() == b"wood" * 1000
    assert (shared / "assets/s2/wood.png").read_bytes() == b"wood" * 1000
    assert (shared / "assets/s1/metal.png").read_bytes() == b"metal"
    assert sync_job("j1", client=client, shared_dir=shared).unchanged_files == 3


def test_an_old_reader_would_see_version_2_for_content_manifests() -> None:
    m = JobManifest("j", {"a.png": IndexEntry("ab", 1, 0)}, layout="content")
    doc = m.to_json()
    assert doc["version"] == 2 and doc["layout"] == "content"
    assert JobManifest.from_json(doc) == m
    mirror = JobManifest("j", {"a.png": IndexEntry("ab", 1, 0)}).to_json()
    assert mirror["version"] == 1 and "layout" not in mirror
    with pytest.raises(StorageError, match="unknown layout"):
        JobManifest.from_json({**doc, "layout": "zip"})


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


@pytest.mark.azurite
def test_node_sync_refuses_to_start_without_disk_space(
    client: ContainerClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = _write(tmp_path / "big.bin", b"x" * 50_000)
    summary = upload_files(client, [UploadItem(big, "big.bin")], cache=None)
    write_job(client, "j2", summary.entries, {})
    monkeypatch.setattr(
        node_sync.shutil, "disk_usage", lambda p: _Usage(10**9, 10**9 - 60_000, 60_000)
    )
    shared = tmp_path / "node"
    with pytest.raises(StorageError) as err:
        sync_job("j2", client=client, shared_dir=shared, reserve_bytes=20_000)
    message = str(err.value)
    assert "not enough disk space on the node" in message and str(shared) in message
    assert "\n" not in message
    assert not (shared / "assets" / "big.bin").exists()
    # With room for the file and the reserve it goes ahead.
    monkeypatch.setattr(node_sync.shutil, "disk_usage", shutil.disk_usage)
    assert sync_job("j2", client=client, shared_dir=shared, reserve_bytes=0).downloaded_files == 1

