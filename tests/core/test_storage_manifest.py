"""The job manifest: what a node needs, written under jobs/<id>/."""

from __future__ import annotations

import uuid

import pytest
import xxhash
from azure.storage.blob import ContainerClient

from azrender.errors import StorageError, UsageError
from azrender.storage.client import container_client, ensure_container
from azrender.storage.hashing import IndexEntry
from azrender.storage.manifest import (
    JobManifest,
    job_prefix,
    manifest_blob,
    read_job,
    write_job,
)
from azrender.storage.upload import get_json, put_bytes


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"man-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    return c


def test_manifest_json_round_trip() -> None:
    m = JobManifest(
        "shot010-v3",
        assets={"P/show/a.png": IndexEntry("aa", 1, 2)},
        job_files={"remap.py": IndexEntry("bb", 3, 4)},
    )
    doc = m.to_json()
    assert doc["version"] == 1
    assert JobManifest.from_json(doc) == m
    assert m.total_bytes == 4


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"version": 99, "job_id": "j", "assets": {}, "job_files": {}},
        {"version": 1, "assets": {}},
        {"version": 1, "job_id": "j", "assets": {"a": {"hash": 1}}},
        {"version": 1, "job_id": "j", "job_files": {"../x": {"hash": "a", "size": 1}}},
        {"version": 1, "job_id": "../evil"},
    ],
)
def test_malformed_manifests_are_rejected(doc: object) -> None:
    with pytest.raises(StorageError, match="malformed"):
        JobManifest.from_json(doc)


@pytest.mark.parametrize("bad", ["", "a/b", "..", "x" * 65, "sp ace"])
def test_invalid_job_ids_are_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        job_prefix(bad)


@pytest.mark.azurite
def test_write_job_uploads_files_then_manifest(client: ContainerClient) -> None:
    assets = {"mnt/show/a.png": IndexEntry("11" * 16, 5, 7)}
    files = {"remap.py": b"print('hi')\n", "pathmap.json": b"{}"}
    m = write_job(client, "job-1", assets, files)

    assert m.assets == assets
    assert set(m.job_files) == {"remap.py", "pathmap.json"}
    assert m.job_files["remap.py"].hash == xxhash.xxh3_128_hexdigest(files["remap.py"])
    assert m.job_files["remap.py"].size == len(files["remap.py"])
    for name, data in files.items():
        assert client.download_blob(f"jobs/job-1/{name}").readall() == data
    assert get_json(client, manifest_blob("job-1")) == m.to_json()
    assert read_job(client, "job-1") == m


@pytest.mark.azurite
def test_write_job_refuses_bad_file_names(client: ContainerClient) -> None:
    for bad in ("manifest.json", "../x", "a/b"):
        with pytest.raises(UsageError):
            write_job(client, "job-2", {}, {bad: b""})


@pytest.mark.azurite
def test_read_job_of_unknown_job_says_so(client: ContainerClient) -> None:
    with pytest.raises(StorageError, match="no manifest"):
        read_job(client, "never-submitted")


@pytest.mark.azurite
def test_read_job_checks_the_job_id(client: ContainerClient) -> None:
    m = JobManifest("other")
    put_bytes(client, manifest_blob("mine"), __import__("json").dumps(m.to_json()).encode())
    with pytest.raises(StorageError, match="is for job 'other'"):
        read_job(client, "mine")
