"""``storage.node_sync = "azcopy"``: the preset switch, the command line, the Batch body, and real azcopy.

The last tests run Microsoft's azcopy (installed by scripts/setup.sh) on the emulated
node against Azurite: the preparation task gets the job's folder as resource files
and azcopy fetches exactly the job's assets, only the changed ones on the next job.
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import pytest
from azure.storage.blob import ContainerClient

from azrender.batch.dryrun import dry_run_document
from azrender.batch.validate import validate_body
from azrender.errors import PresetError
from azrender.jobs import JobRequest, build_job, preparation_task
from azrender.local.backend import LocalBackend
from azrender.local.node import NodeLayout, find_azcopy
from azrender.local.state import JobStore
from azrender.model import FrameRange, JobSpec, TaskSpec
from azrender.nodebundle.bundle import running_ref
from azrender.presets import parse_preset
from azrender.storage import azcopy
from azrender.storage.hashing import IndexEntry
from azrender.storage.manifest import write_job
from azrender.storage.modes import blob_copy_plan, storage_plan
from azrender_blender.adapter import BlenderAdapter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BASE = 'name = "show"\n[storage]\naccount_url = "https://showstore.blob.core.windows.net"\nnode_sync = "azcopy"\n'


def azcopy_job(preset_text: str = BASE) -> tuple[JobSpec, dict[str, object]]:
    preset = parse_preset(preset_text, Path("show.toml"))
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-2"),
                         chunk_size=1, assets_container="assets", outputs_container="outputs")
    job = build_job(request, BlenderAdapter(), "shot-1", storage_plan(preset))
    return job, dry_run_document(job, preset, now=NOW, environ={})


# --- the preset switch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ('layout = "content"\n', 'needs `storage.layout = "mirror"`'),
        ('mode = "blobfuse"\n', 'only applies to mode "blob-copy", not "blobfuse"'),
        ('[pool]\nos = "windows"\n', "Linux pools only"),
    ],
)
def test_preset_refuses_azcopy_where_it_cannot_work(extra: str, needle: str) -> None:
    with pytest.raises(PresetError) as err:
        parse_preset(BASE + extra, Path("show.toml"))
    assert needle in str(err.value)
    assert "show.toml line 4" in str(err.value) and "storage.node_sync" in str(err.value)


def test_default_is_the_azrender_sync() -> None:
    preset = parse_preset('name = "a"\n', Path("a.toml"))
    assert preset.storage.node_sync == "azrender"
    assert storage_plan(preset).sync_tool == "azrender"


# --- the command line and the Batch body ---------------------------------------------------


def test_preparation_line_copies_job_files_fetches_the_list_and_checks_it() -> None:
    job, _ = azcopy_job()
    prep = job.preparation
    assert prep is not None
    argv = shlex.split(prep.command_line)
    assert argv[:2] == ["/bin/bash", "-c"] and len(argv) == 3
    steps = argv[2].split(" && ")
    bundle = running_ref().bundle_id
    assert steps[1].startswith(f"python3 azrender-node/{bundle}/install.py ")  # the node bundle first
    steps = steps[2:]
    assert steps[:3] == [
        'mkdir -p "$AZ_BATCH_NODE_SHARED_DIR/jobs" "$AZ_BATCH_NODE_SHARED_DIR/assets"',
        'rm -rf "$AZ_BATCH_NODE_SHARED_DIR/jobs/shot-1"',
        'cp -R jobs/shot-1 "$AZ_BATCH_NODE_SHARED_DIR/jobs/shot-1"',
    ]
    copy = shlex.split(steps[4])
    assert copy[:4] == ["azcopy", "copy", "$AZRENDER_ASSETS_CONTAINER_URL", "$AZ_BATCH_NODE_SHARED_DIR/assets"]
    assert set(copy[4:]) == {
        "--list-of-files=jobs/shot-1/azcopy-files.txt", "--as-subdir=false", "--from-to=BlobLocal",
        "--overwrite=ifSourceNewer", "--preserve-last-modified-time=true", "--check-md5=FailIfDifferent",
        "--log-level=WARNING", "--output-level=essential",
    }
    assert steps[5].startswith("while IFS= read -r f; do") and steps[5].endswith("< jobs/shot-1/azcopy-files.txt")
    assert [(r.blob_prefix, r.file_path) for r in prep.resource_files] == [(f"azrender-node/{bundle}/", ""), ("jobs/shot-1/", "")]
    assert job.release is not None
    assert shlex.split(job.release.command_line) == ["/bin/bash", "-c", 'rm -rf "$AZ_BATCH_NODE_SHARED_DIR/jobs/shot-1"']
    # The render tasks read the remap script where the preparation task put it.
    # The render task reads the remap script from the job's folder (bash expands the node root).
    assert "$AZ_BATCH_NODE_SHARED_DIR/jobs/shot-1/remap.py" in shlex.split(shlex.split(job.tasks[0].command_line)[-1])


def test_batch_body_gives_the_list_as_resource_files_and_azcopy_the_sas() -> None:
    _, doc = azcopy_job()
    prep = doc["job"]["jobPreparationTask"]  # type: ignore[index]
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    [bundle, resource] = prep["resourceFiles"]
    assert bundle["blobPrefix"] == f"azrender-node/{running_ref().bundle_id}/"
    assert bundle["storageContainerUrl"] == resource["storageContainerUrl"]
    assert resource["blobPrefix"] == "jobs/shot-1/"
    assert resource["storageContainerUrl"].startswith("https://showstore.blob.core.windows.net/assets?")
    assert "sp=rl" in resource["storageContainerUrl"] and "sig=***" in resource["storageContainerUrl"]
    env = {e["name"]: e["value"] for e in prep["environmentSettings"]}
    assert env["AZRENDER_ASSETS_CONTAINER_URL"] == resource["storageContainerUrl"]
    assert "azcopy copy" in prep["commandLine"] and "sig=" not in prep["commandLine"]


def test_identity_access_logs_azcopy_in_with_the_pools_identity() -> None:
    identity = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/render"
    text = BASE + f'[batch]\nnode_access = "identity"\n[pool]\nidentity = "{identity}"\nidentity_client_id = "1111"\n'
    _, doc = azcopy_job(text)
    prep = doc["job"]["jobPreparationTask"]  # type: ignore[index]
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    [bundle, resource] = prep["resourceFiles"]
    assert bundle["blobPrefix"] == f"azrender-node/{running_ref().bundle_id}/"
    assert bundle["storageContainerUrl"] == resource["storageContainerUrl"]
    assert resource["identityReference"] == {"resourceId": identity}
    assert resource["storageContainerUrl"] == "https://showstore.blob.core.windows.net/assets"
    env = {e["name"]: e["value"] for e in prep["environmentSettings"]}
    assert env["AZRENDER_ASSETS_CONTAINER_URL"] == "https://showstore.blob.core.windows.net/assets"
    assert env["AZCOPY_AUTO_LOGIN_TYPE"] == "MSI" and env["AZCOPY_MSI_CLIENT_ID"] == "1111"
    assert "?" not in json.dumps(doc["job"])


# --- real azcopy on the emulated node --------------------------------------------------------


@pytest.fixture
def azcopy_on_node() -> str:
    found = find_azcopy()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("azcopy is missing: scripts/setup.sh installs it into .tools/azcopy")
        pytest.skip("azcopy is not installed (bash scripts/setup.sh)")
    return found


class Node(NamedTuple):
    container: ContainerClient
    layout: NodeLayout
    backend: LocalBackend


@pytest.fixture
def node(azcopy_on_node: str, storage_env: str, tmp_path: Path) -> Node:
    """An emulated node with azcopy, and a fresh assets container in the session's Azurite."""
    container = ContainerClient.from_connection_string(storage_env, f"azcopy-{uuid.uuid4().hex[:12]}")
    container.create_container()
    layout = NodeLayout(tmp_path / "node")
    return Node(container, layout, LocalBackend(store=JobStore(tmp_path / "jobs"), layout=layout))


def put(container: ContainerClient, blob: str, data: bytes) -> IndexEntry:
    container.upload_blob(blob, data, overwrite=True)
    return IndexEntry(hash=f"{len(data):032x}", size=len(data), mtime_ns=0)


def run_prep(backend: LocalBackend, container: ContainerClient, job_id: str, assets: dict[str, IndexEntry]) -> JobSpec:
    """Write the job's files as a submit does and run a job that only prepares and releases."""
    files = {"remap.py": b"print('remap')\n", azcopy.LIST_NAME: azcopy.list_of_files(assets).encode()}
    write_job(container, job_id, assets, files)
    plan = blob_copy_plan(sync_tool="azcopy")
    job = JobSpec(job_id=job_id, app="blender", scene=Path("/s.blend"), frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container=container.container_name, outputs_container="outputs",
                  preparation=preparation_task(job_id, plan, {"AZRENDER_ASSETS_CONTAINER": container.container_name}),
                  release=TaskSpec("jobrelease", azcopy.release_command(job_id)),
                  tasks=[TaskSpec("frames-001", "/bin/bash -c 'cat \"$AZ_BATCH_NODE_SHARED_DIR/jobs/" + job_id + "/remap.py\"'")])
    backend.submit(job, wait=True)
    return job


def test_real_azcopy_fetches_the_list_then_only_what_changed(node: Node) -> None:
    container, layout, backend = node
    assets = {
        "P/show/tex/brick wall.png": put(container, "P/show/tex/brick wall.png", b"brick" * 1000),
        "mnt/show/cache/fluid.0001.vdb": put(container, "mnt/show/cache/fluid.0001.vdb", os.urandom(300_000)),
    }
    put(container, "P/show/not/in/this/job.png", b"other")

    run_prep(backend, container, "az-1", assets)
    record = backend.store.load("az-1")
    prep_dir = layout.task_dir("az-1", "jobpreparation")
    assert record.preparation.result == "success", (prep_dir / "stderr.txt").read_text()
    shared = layout.shared_dir / "assets"
    got = sorted(str(p.relative_to(shared)) for p in shared.rglob("*") if p.is_file())
    assert got == sorted(assets)  # exactly the job's files, not the whole container
    for blob in assets:
        assert (shared / blob).read_bytes() == container.download_blob(blob).readall()
    log = (prep_dir / "stdout.txt").read_text()
    assert "Number of File Transfers Completed: 2" in log
    assert record.tasks[0].result == "success"  # the render task read the job's file azcopy's prep placed
    assert "print('remap')" in (layout.task_dir("az-1", "frames-001") / "stdout.txt").read_text()
    assert not (layout.shared_dir / "jobs" / "az-1").exists()  # the release task removed the job's files
    assert (prep_dir / "azcopy").is_dir()  # azcopy's logs stay with the task, not in ~/.azcopy
    # The node got a read+list SAS; the job record on disk never holds it.
    assert "sig=" not in backend.store.path("az-1").read_text()

    # Unchanged: nothing moves. One changed blob: exactly that one moves.
    run_prep(backend, container, "az-2", assets)
    log = (layout.task_dir("az-2", "jobpreparation") / "stdout.txt").read_text()
    assert "Number of File Transfers Completed: 0" in log and "Number of File Transfers Skipped: 2" in log
    assets["P/show/tex/brick wall.png"] = put(container, "P/show/tex/brick wall.png", b"new brick")
    run_prep(backend, container, "az-3", assets)
    log = (layout.task_dir("az-3", "jobpreparation") / "stdout.txt").read_text()
    assert "Number of File Transfers Completed: 1" in log and "Number of File Transfers Skipped: 1" in log
    assert (shared / "P/show/tex/brick wall.png").read_bytes() == b"new brick"


def test_a_listed_blob_that_is_gone_fails_the_preparation_by_name(node: Node) -> None:
    container, layout, backend = node
    assets = {"a/here.png": put(container, "a/here.png", b"x"), "a/gone.png": IndexEntry("0" * 32, 1, 0)}
    run_prep(backend, container, "az-gone", assets)
    record = backend.store.load("az-gone")
    assert record.preparation.result == "failure"
    stderr = (layout.task_dir("az-gone", "jobpreparation") / "stderr.txt").read_text()
    assert "azcopy did not fetch a/gone.png: the blob is gone from the assets container" in stderr
    assert record.tasks[0].result == "failure" and record.tasks[0].failure == "job preparation task failed"


def test_a_pool_azrender_creates_installs_azcopy_only_when_asked() -> None:
    _, doc = azcopy_job()
    start = shlex.split(doc["pool"]["startTask"]["commandLine"])  # type: ignore[index]
    assert start[:2] == ["/bin/bash", "-c"]
    assert "command -v azcopy >/dev/null || (curl -fsSL https://aka.ms/downloadazcopy-v10-linux" in start[2]
    assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    plain = parse_preset(BASE.replace('node_sync = "azcopy"\n', ""), Path("show.toml"))
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1"),
                         chunk_size=1, assets_container="assets", outputs_container="outputs")
    job = build_job(request, BlenderAdapter(), "shot-2", storage_plan(plain))
    assert "azcopy" not in json.dumps(dry_run_document(job, plain, now=NOW, environ={}))
