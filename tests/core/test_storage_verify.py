"""`--verify`: the remote index is reconciled with a real listing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.storage.client import container_client, ensure_container
from azrender.storage.upload import UploadItem, read_index, upload_files
from azrender.storage.verify import reconcile

pytestmark = pytest.mark.azurite


@pytest.fixture
def client(storage_env: str) -> ContainerClient:
    c = container_client(f"ver-{uuid.uuid4().hex[:20]}")
    ensure_container(c)
    return c


def test_verify_drops_deleted_and_overwritten_blobs_and_adopts_hashed_ones(
    client: ContainerClient, tmp_path: Path
) -> None:
    files = []
    for i in range(4):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(bytes([i]) * (100 + i))
        files.append(p)
    items = [UploadItem(p, p.name) for p in files]
    upload_files(client, items[:3], cache=None)
    client.delete_blob("f0.bin")  # deleted behind azrender's back
    client.upload_blob("f1.bin", b"someone else", overwrite=True)  # overwritten, no metadata
    # Uploaded by another tool with azrender's metadata, never indexed:
    client.upload_blob("f3.bin", files[3].read_bytes(), metadata={"xxh3": "not-really"})

    report = reconcile(client)
    assert report.to_json() == {"listed": 3, "indexed": 3, "missing": 1, "stale": 1, "adopted": 1}
    assert (report.missing, report.stale, report.adopted) == (["f0.bin"], ["f1.bin"], ["f3.bin"])
    assert set(read_index(client)) == {"f2.bin", "f3.bin"}

    # The next upload repairs exactly what the listing showed to be wrong.
    again = upload_files(client, items, cache=None)
    assert again.uploaded_files == 3  # f0 (gone), f1 (overwritten), f3 (hash differs)
    for p in files:
        assert client.download_blob(p.name).readall() == p.read_bytes()
    assert reconcile(client).to_json() == {
        "listed": 4, "indexed": 4, "missing": 0, "stale": 0, "adopted": 0,
    }


def test_verify_on_an_empty_container_writes_an_empty_index(client: ContainerClient) -> None:
    assert reconcile(client).to_json()["listed"] == 0
    assert read_index(client) == {}


def test_cli_upload_verify_repairs_the_index_and_reports_it(
    storage_env: str, tmp_path: Path
) -> None:
    import json

    from click.testing import CliRunner

    from azrender.cli import main

    container = f"cli-{uuid.uuid4().hex[:20]}"
    preset = tmp_path / "p.toml"
    preset.write_text(f'name = "p"\n[storage]\nassets_container = "{container}"\n')
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    runner = CliRunner()
    first = runner.invoke(main, ["upload", str(folder), "--preset", str(preset), "--json"])
    assert first.exit_code == 0, first.output
    client = container_client(container)
    gone = next(b.name for b in client.list_blobs() if b.name.endswith("a.txt"))
    client.delete_blob(gone)

    plain = runner.invoke(main, ["upload", str(folder), "--preset", str(preset), "--json"])
    assert json.loads(plain.stdout)["uploaded_files"] == 0  # the index still claims it
    fixed = runner.invoke(
        main, ["upload", str(folder), "--preset", str(preset), "--json", "--verify"]
    )
    assert fixed.exit_code == 0, fixed.output
    doc = json.loads(fixed.stdout)
    assert doc["uploaded_files"] == 1
    assert doc["verify"]["missing"] == 1
    assert client.download_blob(gone).readall() == b"a"
