"""Job preparation / release on a node, against a real Azurite, in-process and as a command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas

from azrender.errors import StorageError
from azrender.local.azurite import DEV_ACCOUNT, DEV_KEY, AzuriteServer
from azrender.node.__main__ import main as node_main
from azrender.node.sync import NODE_INDEX_NAME, node_client, release_job, sync_job
from azrender.paths import mirror_key
from azrender.storage.client import container_client, ensure_container
from azrender.storage.download import TEMP_SUFFIX
from azrender.storage.hashing import HashCache
from azrender.storage.manifest import write_job
from azrender.storage.upload import items_for_paths, put_bytes, upload_files

pytestmark = pytest.mark.azurite

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def container(storage_env: str) -> str:
    name = f"node-{uuid.uuid4().hex[:20]}"
    ensure_container(container_client(name))
    return name


@pytest.fixture
def client(container: str) -> ContainerClient:
    return container_client(container)


@pytest.fixture
def show(tmp_path: Path) -> list[Path]:
    files = []
    for rel, size in [("tex/a.png", 5000), ("tex/b.exr", 200_000), ("scene.blend", 1234)]:
        p = tmp_path / "show" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        files.append(p)
    return files


def _submit(client: ContainerClient, job: str, files: list[Path], tmp_path: Path) -> None:
    with HashCache(tmp_path / "h.sqlite") as cache:
        summary = upload_files(client, items_for_paths(files), cache=cache)
    write_job(client, job, summary.entries, {"remap.py": f"# {job}\n".encode()})


def _leftover_temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def test_sync_places_assets_and_job_files(
    client: ContainerClient, show: list[Path], tmp_path: Path
) -> None:
    shared = tmp_path / "node" / "shared"
    _submit(client, "job-1", show, tmp_path)

    summary = sync_job("job-1", client=client, shared_dir=shared)

    for p in show:
        assert (shared / "assets" / mirror_key(p)).read_bytes() == p.read_bytes()
    assert (shared / "jobs" / "job-1" / "remap.py").read_text() == "# job-1\n"
    assert summary.line() == (
        f"sync: 4 files, 4 downloaded ({sum(p.stat().st_size for p in show) + 8} bytes), "
        "0 unchanged"
    )
    index = json.loads((shared / "assets" / NODE_INDEX_NAME).read_text())
    assert set(index) == {mirror_key(p) for p in show}


def test_second_job_moves_only_changed_assets(
    client: ContainerClient, show: list[Path], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    _submit(client, "job-1", show, tmp_path)
    sync_job("job-1", client=client, shared_dir=shared)
    unchanged = shared / "assets" / mirror_key(show[1])
    before = unchanged.stat().st_mtime_ns

    show[0].write_bytes(os.urandom(5000))
    _submit(client, "job-2", show, tmp_path)
    summary = sync_job("job-2", client=client, shared_dir=shared)

    # one changed asset + the job's own file; the two other assets stay put
    assert summary.to_json() == {
        "files": 4,
        "downloaded_files": 2,
        "downloaded_bytes": 5000 + len(b"# job-2\n"),
        "unchanged_files": 2,
    }
    assert (shared / "assets" / mirror_key(show[0])).read_bytes() == show[0].read_bytes()
    assert unchanged.stat().st_mtime_ns == before


def test_locally_modified_copy_is_fetched_again(
    client: ContainerClient, show: list[Path], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    _submit(client, "job-1", show, tmp_path)
    sync_job("job-1", client=client, shared_dir=shared)
    local = shared / "assets" / mirror_key(show[2])
    local.write_bytes(b"scribbled on by a task")

    summary = sync_job("job-1", client=client, shared_dir=shared)

    assert local.read_bytes() == show[2].read_bytes()
    assert summary.downloaded_files == 2  # that asset and the job file


def test_tampered_blob_is_detected_and_not_installed(
    client: ContainerClient, show: list[Path], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    _submit(client, "job-1", show, tmp_path)
    put_bytes(client, mirror_key(show[1]), b"not what the manifest says")

    with pytest.raises(StorageError, match="does not match the job manifest") as info:
        sync_job("job-1", client=client, shared_dir=shared)

    assert mirror_key(show[1]) in str(info.value)
    assert not (shared / "assets" / mirror_key(show[1])).exists()
    assert _leftover_temps(shared) == []
    # whatever verified fine is recorded, so the retry after a fix moves only the rest
    index = json.loads((shared / "assets" / NODE_INDEX_NAME).read_text())
    assert mirror_key(show[1]) not in index


def test_release_removes_the_job_folder_and_keeps_the_cache(
    client: ContainerClient, show: list[Path], tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    _submit(client, "job-1", show, tmp_path)
    sync_job("job-1", client=client, shared_dir=shared)

    assert release_job("job-1", shared_dir=shared) is True
    assert not (shared / "jobs" / "job-1").exists()
    assert all((shared / "assets" / mirror_key(p)).is_file() for p in show)
    assert release_job("job-1", shared_dir=shared) is False


def test_unknown_job_is_a_clear_error(client: ContainerClient, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no manifest"):
        sync_job("ghost", client=client, shared_dir=tmp_path)


def _sas_url(azurite: AzuriteServer, container: str) -> str:
    sas = generate_container_sas(
        DEV_ACCOUNT,
        container,
        account_key=DEV_KEY,
        permission=ContainerSasPermissions(read=True, list=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    return f"{azurite.blob_endpoint}/{container}?{sas}"


def test_node_client_prefers_the_sas_url(azurite: AzuriteServer, container: str) -> None:
    url = _sas_url(azurite, container)
    c = node_client({"AZRENDER_ASSETS_CONTAINER_URL": url, "AZRENDER_ASSETS_CONTAINER": "other"})
    assert c.container_name == container
    c = node_client(
        {
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "AZRENDER_ASSETS_CONTAINER": container,
        }
    )
    assert c.container_name == container and c.exists()
    with pytest.raises(StorageError, match="no assets container"):
        node_client({})
    with pytest.raises(StorageError, match="no credentials"):
        node_client({"AZRENDER_ASSETS_CONTAINER": container})


def test_command_line_sync_and_release_with_a_sas_url(
    azurite: AzuriteServer,
    container: str,
    client: ContainerClient,
    show: list[Path],
    tmp_path: Path,
) -> None:
    """As Batch runs it: a fresh python3, a SAS container URL, the shared dir in the env."""
    _submit(client, "job-9", show, tmp_path)
    shared = tmp_path / "batch" / "shared"
    env = {k: v for k, v in os.environ.items() if k != "AZURE_STORAGE_CONNECTION_STRING"} | {
        "AZRENDER_ASSETS_CONTAINER_URL": _sas_url(azurite, container),
        "AZ_BATCH_NODE_SHARED_DIR": str(shared),
        "PYTHONPATH": str(REPO / "core"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "azrender.node", "sync", "--job", "job-9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("sync: 4 files, 4 downloaded (")
    assert run.stdout.rstrip().endswith("0 unchanged")
    assert (shared / "jobs" / "job-9" / "remap.py").is_file()

    again = subprocess.run(
        [sys.executable, "-m", "azrender.node", "sync", "--job", "job-9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (
        again.stdout.strip()
        == "sync: 4 files, 1 downloaded (8 bytes), 3 unchanged"  # only remap.py
    )

    gone = subprocess.run(
        [sys.executable, "-m", "azrender.node", "release", "--job", "job-9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert gone.returncode == 0
    assert not (shared / "jobs" / "job-9").exists()


def test_command_line_failure_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], container: str
) -> None:
    monkeypatch.delenv("AZ_BATCH_NODE_SHARED_DIR", raising=False)
    monkeypatch.setenv("AZRENDER_ASSETS_CONTAINER", container)
    assert node_main(["sync", "--job", "job-1"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: AZ_BATCH_NODE_SHARED_DIR is not set")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_command_line_unreachable_storage_hides_the_sas(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from azrender.local.azurite import free_port

    monkeypatch.setenv("AZ_BATCH_NODE_SHARED_DIR", str(tmp_path))
    monkeypatch.setenv(
        "AZRENDER_ASSETS_CONTAINER_URL",
        f"http://127.0.0.1:{free_port()}/{DEV_ACCOUNT}/assets?sv=2022-11-02&sig=SEKRIT",
    )
    assert node_main(["sync", "--job", "job-1"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach blob storage" in err
    assert "SEKRIT" not in err
    assert err.count("\n") == 1


def test_cache_past_its_limit_loses_the_least_recently_used_assets_no_job_holds(
    client: ContainerClient, tmp_path: Path
) -> None:
    kib = 1024
    files = {}
    for name in "abcd":
        files[name] = tmp_path / "lib" / f"{name}.exr"
        files[name].parent.mkdir(parents=True, exist_ok=True)
        files[name].write_bytes(os.urandom(100 * kib))
    shared = tmp_path / "node"
    cached = lambda: {p.name for p in (shared / "assets").rglob("*.exr")}  # noqa: E731
    limit = 250 * kib  # room for two assets and a half

    _submit(client, "j1", [files["a"], files["b"]], tmp_path)
    sync_job("j1", client=client, shared_dir=shared, cache_limit=limit)
    release_job("j1", shared_dir=shared)
    _submit(client, "j2", [files["c"]], tmp_path)
    sync_job("j2", client=client, shared_dir=shared, cache_limit=limit)  # j2 is not released: c is held
    _submit(client, "j3", [files["d"]], tmp_path)
    sync_job("j3", client=client, shared_dir=shared, cache_limit=limit)
    # a and b (last used by j1, released) made room; c is j2's, d is j3's.
    assert cached() == {"c.exr", "d.exr"}
    index = json.loads((shared / "assets" / NODE_INDEX_NAME).read_text())
    assert set(index) == {mirror_key(files["c"]), mirror_key(files["d"])}

    release_job("j2", shared_dir=shared)
    release_job("j3", shared_dir=shared)
    _submit(client, "j4", [files["a"]], tmp_path)
    summary = sync_job("j4", client=client, shared_dir=shared, cache_limit=limit)
    # c was used before d: it goes first, and once is enough.
    assert cached() == {"a.exr", "d.exr"} and summary.downloaded_files == 2  # a and the remap script
    # Without a limit nothing is evicted while the disk has room.
    _submit(client, "j5", [files["b"], files["c"]], tmp_path)
    sync_job("j5", client=client, shared_dir=shared)
    assert cached() == {"a.exr", "b.exr", "c.exr", "d.exr"}
