"""Incremental, atomic prefix download against a real Azurite."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.storage.client import container_client, ensure_container
from azrender.storage.download import (
    RECORD_NAME,
    TEMP_SUFFIX,
    download_prefix,
    download_to,
    safe_relative,
)
from azrender.storage.upload import put_bytes

pytestmark = pytest.mark.azurite

FRAMES = {
    "job1/out/0001.png": os.urandom(3000),
    "job1/out/0002.png": os.urandom(70_000),
    "job1/logs/stdout.txt": b"rendered\n",
    "job1/empty.txt": b"",
}


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"dl-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    for name, data in FRAMES.items():
        put_bytes(c, name, data)
    put_bytes(c, "job10/not-mine.png", b"other job")  # shares the text prefix "job1"
    return c


def _files(dest: Path) -> dict[str, bytes]:
    return {
        p.relative_to(dest).as_posix(): p.read_bytes()
        for p in dest.rglob("*")
        if p.is_file() and p.name != RECORD_NAME
    }


def test_downloads_the_prefix_as_a_folder(client: ContainerClient, tmp_path: Path) -> None:
    dest = tmp_path / "renders"
    summary = download_prefix(client, "job1", dest)
    assert _files(dest) == {k.removeprefix("job1/"): v for k, v in FRAMES.items()}
    assert summary.to_json() == {
        "files": 4,
        "downloaded_files": 4,
        "downloaded_bytes": sum(len(v) for v in FRAMES.values()),
        "skipped_files": 0,
    }
    record = json.loads((dest / RECORD_NAME).read_text())
    assert set(record) == set(FRAMES)
    assert record["job1/out/0002.png"]["size"] == 70_000


def test_second_run_downloads_nothing(client: ContainerClient, tmp_path: Path) -> None:
    dest = tmp_path / "renders"
    download_prefix(client, "job1/", dest)
    again = download_prefix(client, "job1/", dest)
    assert (again.downloaded_files, again.downloaded_bytes, again.skipped_files) == (0, 0, 4)


def test_changed_blob_is_downloaded_again(client: ContainerClient, tmp_path: Path) -> None:
    dest = tmp_path / "renders"
    download_prefix(client, "job1", dest)
    new = os.urandom(3000)  # same size: only the ETag tells
    put_bytes(client, "job1/out/0001.png", new)
    summary = download_prefix(client, "job1", dest)
    assert (summary.downloaded_files, summary.downloaded_bytes) == (1, 3000)
    assert (dest / "out" / "0001.png").read_bytes() == new


def test_locally_damaged_file_is_downloaded_again(
    client: ContainerClient, tmp_path: Path
) -> None:
    dest = tmp_path / "renders"
    download_prefix(client, "job1", dest)
    (dest / "out" / "0002.png").write_bytes(b"truncated")
    (dest / "logs" / "stdout.txt").unlink()
    summary = download_prefix(client, "job1", dest)
    assert summary.downloaded_files == 2
    assert _files(dest)["out/0002.png"] == FRAMES["job1/out/0002.png"]
    assert _files(dest)["logs/stdout.txt"] == FRAMES["job1/logs/stdout.txt"]


def test_no_temp_files_are_left(client: ContainerClient, tmp_path: Path) -> None:
    dest = tmp_path / "renders"
    download_prefix(client, "job1", dest)
    put_bytes(client, "job1/out/0001.png", b"new")
    download_prefix(client, "job1", dest)
    assert not [p for p in dest.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_failed_download_leaves_no_partial_file(client: ContainerClient, tmp_path: Path) -> None:
    target = tmp_path / "d" / "frame.png"
    target.parent.mkdir()
    target.write_bytes(b"previous good frame")
    with pytest.raises(StorageError, match="does not match"):
        download_to(client, "job1/out/0001.png", target, expected_hash="0" * 32)
    assert target.read_bytes() == b"previous good frame"
    assert os.listdir(target.parent) == ["frame.png"]


def test_missing_blob_is_named(client: ContainerClient, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nope\.png"):
        download_to(client, "job1/nope.png", tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_empty_prefix_is_not_an_error(client: ContainerClient, tmp_path: Path) -> None:
    summary = download_prefix(client, "no-such-job", tmp_path / "d")
    assert summary.files == 0


def test_blob_names_escaping_dest_are_refused(client: ContainerClient, tmp_path: Path) -> None:
    put_bytes(client, "evil/..\\..\\outside.txt", b"x")
    with pytest.raises(StorageError, match="outside the destination"):
        download_prefix(client, "evil", tmp_path / "d")
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "\\x", "C:/x", "", "a/.."])
def test_safe_relative_refuses_escapes(name: str) -> None:
    with pytest.raises(StorageError):
        safe_relative(name)


def test_safe_relative_normalises_harmless_names() -> None:
    assert safe_relative("a//b/./c.png").as_posix() == "a/b/c.png"
