"""Dry-run bodies for every storage mode validate; the validator rejects bad bodies; local/Batch parity."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.core.batch_routes import validate_request

from azrender import __version__
from azrender.batch.dryrun import dry_run_document
from azrender.batch.validate import validate_body
from azrender.errors import UsageError
from azrender.jobs import JobRequest, build_job
from azrender.local.executor import expand_output_pattern
from azrender.local.node import NodeLayout
from azrender.model import FrameRange, JobSpec
from azrender.nodebundle.bundle import running_ref
from azrender.presets import Preset, parse_preset
from azrender.storage import blobfuse
from azrender.storage.modes import storage_plan
from azrender_blender.adapter import BlenderAdapter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BASE = 'name = "show"\n[storage]\naccount_url = "https://showstore.blob.core.windows.net"\n'
SUBNET = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/render"
ON_SUBNET = f'[pool]\nsubnet_id = "{SUBNET}"\n'  # private file and licence servers need it
MODES = {
    "blob-copy": "",
    "blobfuse": 'mode = "blobfuse"\n',
    "azure-files": 'mode = "azure-files"\n[azure_files]\naccount = "showfiles"\nshare = "show"\n',
    "nfs": 'mode = "nfs"\n[share]\nsource = "10.0.0.4:/export/show"\n[[paths]]\nsource = "/show"\ntarget = "show"\n'
    + ON_SUBNET,
    "cifs": 'mode = "cifs"\n[share]\nsource = "//filer/show"\nusername = "render"\n[[paths]]\nsource = "/show"\ntarget = "show"\n'
    + ON_SUBNET,
}


def make_job(preset: Preset | None = None) -> JobSpec:
    """The job for ``preset``'s storage plan and node OS (blob-copy on Linux without one)."""
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-5"),
                         chunk_size=2, assets_container="assets", outputs_container="outputs")
    plan = storage_plan(preset, node_os=preset.pool.os) if preset else None
    return build_job(request, BlenderAdapter(), "shot-1", plan)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_dry_run_validates_for_every_storage_mode(mode: str) -> None:
    preset = parse_preset(BASE + MODES[mode], Path("show.toml"))  # `mode` lands under [storage]
    doc = dry_run_document(make_job(preset), preset, now=NOW, environ={})
    assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    assert validate_body("BatchJobUpdateOptions", doc["jobUpdate"]) == []
    assert all(validate_body("BatchTaskCreateOptions", t) == [] for t in doc["tasks"])
    mounts = doc["pool"].get("mountConfiguration", [])
    assert (mode in ("blob-copy",)) == (mounts == [])
    text_doc = json.dumps(doc)
    assert "sig=***" in text_doc and "sp=rl" in text_doc and "sp=cw" in text_doc
    if mode in ("azure-files", "cifs"):
        assert "***" in json.dumps(mounts)  # the secret's slot is shown, not its value


def test_dry_run_shape_and_no_secret_with_identity() -> None:
    text = BASE + ('[batch]\nnode_access = "identity"\n[pool]\n'
                   'identity = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/render"\n'
                   'identity_client_id = "1111"\nos = "windows"\nimage = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/max"\n'
                   'node_agent_sku = "batch.node.windows amd64"\nlicence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1"\n'
                   f'subnet_id = "{SUBNET}"\n')
    preset = parse_preset(text, Path("s.toml"))
    doc = dry_run_document(make_job(preset), preset, now=NOW, environ={})
    spec = doc["pool"]
    assert spec["networkConfiguration"] == {"subnetId": SUBNET}
    assert spec["virtualMachineConfiguration"]["imageReference"] == {
        "virtualMachineImageId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/max"}
    out = doc["tasks"][0]["outputFiles"][0]["destination"]["container"]
    assert out["identityReference"]["resourceId"].endswith("/render") and "?" not in out["containerUrl"]
    env = {e["name"]: e["value"] for e in doc["job"]["jobPreparationTask"]["environmentSettings"]}
    assert env["AZURE_CLIENT_ID"] == "1111" and "AZRENDER_ASSETS_CONTAINER_URL" not in env
    assert {"name": "ADSKFLEX_LICENSE_FILE", "value": "27000@lic1"} in doc["job"]["commonEnvironmentSettings"]
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []


def test_validator_rejects_bad_bodies() -> None:
    good = dry_run_document(make_job(), parse_preset(BASE, Path("s.toml")), now=NOW, environ={})["pool"]
    assert validate_body("BatchPoolCreateOptions", good) == []
    cases = {
        "unknown key": ({**good, "vmsize": "x"}, 'unknown key "vmsize"'),
        "missing key": ({k: v for k, v in good.items() if k != "vmSize"}, 'missing required key "vmSize"'),
        "wrong type": ({**good, "taskSlotsPerNode": "4"}, "expected an integer"),
        "bool is no int": ({**good, "targetDedicatedNodes": True}, "expected an integer"),
        "duration": ({**good, "resizeTimeout": "15 minutes"}, "not an ISO 8601 duration"),
        "enum": ({**good, "startTask": {"commandLine": "x", "userIdentity": {"autoUser": {"scope": "node"}}}},
                 "'node' is not one of"),
        "read-only": ({**good, "virtualMachineConfiguration": {
            **good["virtualMachineConfiguration"],
            "imageReference": {"virtualMachineImageId": "x", "exactVersion": "1"}}}, "read-only"),
        "null": ({**good, "displayName": None}, "null"),
    }
    for name, (body, needle) in cases.items():
        problems = validate_body("BatchPoolCreateOptions", body)
        assert problems and needle in problems[0], (name, problems)
    version = {"api-version": "2025-06-01"}
    assert validate_request("POST", "/pools", {"api-version": "2024-01-01"}, good, has_body=True)
    assert validate_request("DELETE", "/pools/azrender", version, None, has_body=False)
    too_many = {"value": [{"id": f"t{i}", "commandLine": "x"} for i in range(101)]}
    assert "at most 100" in validate_request("POST", "/jobs/j/addtaskcollection", version, too_many,
                                             has_body=True)[-1]


def test_one_jobspec_same_commands_environment_and_outputs_locally_and_on_batch(tmp_path: Path) -> None:
    job = make_job()
    layout = NodeLayout(tmp_path / "node")
    doc = dry_run_document(job, parse_preset(BASE, Path("s.toml")), now=NOW, environ={})
    common = {e["name"]: e["value"] for e in doc["job"].get("commonEnvironmentSettings", [])}
    for spec, body in zip(job.tasks, doc["tasks"], strict=True):
        # The local node runs shlex.split(command_line) without a shell; Batch runs commandLine as is.
        assert shlex.split(body["commandLine"]) == shlex.split(spec.command_line)
        batch_env = {**common, **{e["name"]: e["value"] for e in body.get("environmentSettings", [])}}
        assert batch_env == {**job.environment, **spec.environment}  # job's variables: commonEnvironmentSettings
        local_env = layout.task_environment(job.job_id, spec.task_id, {**job.environment, **spec.environment})
        assert {k: local_env[k] for k in batch_env} == batch_env
        rules = [(o["filePattern"], o["destination"]["container"]["path"], o["uploadOptions"]["uploadCondition"])
                 for o in body["outputFiles"]]
        assert rules == [(o.pattern, o.destination, o.condition.value) for o in spec.output_files]
        # And the local node's reading of those rules names the same blobs Batch would.
        task_dir = tmp_path / spec.task_id
        (task_dir / "wd" / "out").mkdir(parents=True)
        frame = task_dir / "wd" / "out" / f"shot_{spec.frames[0]:04d}.png"
        frame.write_bytes(b"png")
        (task_dir / "stderr.txt").write_text("")
        local = [blob for o in spec.output_files for _, blob in expand_output_pattern(task_dir, o)]
        assert f"shot-1/frames/shot_{spec.frames[0]:04d}.png" in local
        assert f"shot-1/logs/{spec.task_id}/stderr.txt" in local
    prep = doc["job"]["jobPreparationTask"]
    assert prep["commandLine"] == job.preparation.command_line if job.preparation else False
    assert doc["job"]["jobReleaseTask"]["commandLine"] == (job.release.command_line if job.release else "")


def test_node_commands_use_the_python_of_the_node_os() -> None:
    text = BASE + MODES["azure-files"] + ('mount_at = "task"\n[pool]\nos = "windows"\n'
                                          'image = "microsoftwindowsserver/windowsserver/2022-datacenter"\n'
                                          'node_agent_sku = "batch.node.windows amd64"\n')
    preset = parse_preset(text, Path("w.toml"))
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-2"),
                         chunk_size=2, assets_container="assets", outputs_container="outputs")
    win = build_job(request, BlenderAdapter(), "shot-1", storage_plan(preset, "windows"))
    doc = dry_run_document(win, preset, now=NOW, environ={})
    bundle = running_ref().bundle_id
    home = rf"C:\ProgramData\azrender\{bundle}"
    # The bundle is installed first (a batch file from the resource files), then its own Python syncs.
    assert doc["job"]["jobPreparationTask"]["commandLine"] == (
        rf'cmd /c "azrender-node\{bundle}\bootstrap.cmd {home} && {home}\python\python.exe -m azrender.node sync --job shot-1"'
    )
    assert doc["job"]["jobReleaseTask"]["commandLine"] == rf"{home}\python\python.exe -m azrender.node release --job shot-1"
    linux = make_job()
    assert linux.preparation is not None and linux.release is not None
    venv_python = f'"$AZ_BATCH_NODE_SHARED_DIR/azrender/{bundle}/venv/bin/python"'
    script = shlex.split(linux.preparation.command_line)[2]
    assert script.endswith(f"&& {venv_python} -m azrender.node sync --job shot-1")
    assert f"&& python3 azrender-node/{bundle}/install.py --target " in script
    assert shlex.split(linux.release.command_line) == [
        "/bin/bash", "-c", f'exec {venv_python} "$@"', "azrender-node", "-m", "azrender.node", "release", "--job", "shot-1"]


BLOBFUSE_JOB = BASE + 'mode = "blobfuse"\n[blobfuse]\nmount_at = "job"\n'


def test_job_level_blobfuse_mount_runs_in_an_elevated_preparation_task_with_the_read_sas() -> None:
    preset = parse_preset(BLOBFUSE_JOB, Path("bf.toml"))
    doc = dry_run_document(make_job(preset), preset, now=NOW, environ={})
    assert "mountConfiguration" not in doc["pool"]  # not a pool mount: the job mounts it
    prep = doc["job"]["jobPreparationTask"]
    assert "blobfuse2 mount" in prep["commandLine"] and "--container-name=assets" in prep["commandLine"]
    assert prep["commandLine"].index("blobfuse2 mount") < prep["commandLine"].index("azrender.node sync")
    assert prep["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}  # FUSE needs root
    env = {e["name"]: e["value"] for e in prep["environmentSettings"]}
    assert env["AZURE_STORAGE_ACCOUNT"] == "showstore" and env["AZURE_STORAGE_AUTH_TYPE"] == "SAS"
    assert "sp=rl" in env["AZURE_STORAGE_SAS_TOKEN"] and env["AZURE_STORAGE_SAS_TOKEN"].endswith("sig=***")
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    # Tasks themselves stay non-admin; pool mounts keep the non-admin preparation task.
    assert all(t["userIdentity"]["autoUser"]["elevationLevel"] == "nonadmin" for t in doc["tasks"])
    pool_mode = parse_preset(BASE + MODES["blobfuse"], Path("p.toml"))
    pool_doc = dry_run_document(make_job(pool_mode), pool_mode, now=NOW, environ={})
    assert pool_doc["job"]["jobPreparationTask"]["userIdentity"]["autoUser"]["elevationLevel"] == "nonadmin"


@pytest.mark.parametrize("cache", ["file", "block", "none"])
def test_job_level_blobfuse_dry_run_for_each_cache_mode(cache: str) -> None:
    preset = parse_preset(BLOBFUSE_JOB + f'cache = "{cache}"\ncache_size_mb = 4096\n', Path("bf.toml"))
    doc = dry_run_document(make_job(preset), preset, now=NOW, environ={})
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    script = shlex.split(doc["job"]["jobPreparationTask"]["commandLine"])[2]
    options = script.split("--container-name=assets ", 1)[1].split(")", 1)[0]
    blobfuse.check_options(options)  # every flag is one blobfuse2 defines
    cache_flag = {"block": "--block-cache-path", "file": "--tmp-path", "none": "--tmp-path"}[cache]
    assert f"{cache_flag}=/mnt/resource/blobfuse2/$AZ_BATCH_JOB_ID" in options
    size_flag = {"block": "--block-cache-disk-size=4096", "file": "--cache-size-mb=4096", "none": ""}[cache]
    assert size_flag in options
    # The release task unmounts (as root) before the job's files go, so the node stays usable.
    release = doc["job"]["jobReleaseTask"]
    assert release["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}
    assert shlex.split(release["commandLine"])[2].index("blobfuse2 unmount") < release["commandLine"].index(
        "azrender.node release"
    )


def test_job_level_blobfuse_with_identity_uses_msi_and_no_token() -> None:
    text = BLOBFUSE_JOB + ('[batch]\nnode_access = "identity"\n[pool]\nidentity_client_id = "2222"\nidentity = '
                           '"/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"\n')
    preset = parse_preset(text, Path("bf.toml"))
    prep = dry_run_document(make_job(preset), preset, now=NOW, environ={})["job"]["jobPreparationTask"]
    env = {e["name"]: e["value"] for e in prep["environmentSettings"]}
    assert (env["AZURE_STORAGE_AUTH_TYPE"], env["AZURE_STORAGE_IDENTITY_CLIENT_ID"]) == ("MSI", "2222")
    assert "AZURE_STORAGE_SAS_TOKEN" not in env


def test_a_job_built_for_another_plan_is_refused() -> None:
    text = BASE + MODES["azure-files"] + ('mount_at = "task"\n[pool]\nos = "windows"\n'
                                          'image = "microsoftwindowsserver/windowsserver/2022-datacenter"\n'
                                          'node_agent_sku = "batch.node.windows amd64"\n')
    windows = parse_preset(text, Path("w.toml"))
    with pytest.raises(UsageError) as info:
        dry_run_document(make_job(), windows, now=NOW, environ={})  # built for blob-copy on Linux
    assert "was not built for the azure-files storage of w.toml on windows nodes" in str(info.value)
    assert "\n" not in str(info.value)
    # The right job passes, and every task maps the drive first.
    doc = dry_run_document(make_job(windows), windows, now=NOW, environ={})
    watcher = rf"C:\ProgramData\azrender\{running_ref().bundle_id}\python\python.exe -m azrender.node run -- "
    assert all(t["commandLine"].startswith(watcher + 'cmd /c "net use S: ') for t in doc["tasks"])
    job = make_job(windows)
    job.tasks[1] = replace(job.tasks[1], command_line=job.tasks[1].command_line.replace("net use", "rem"))
    with pytest.raises(UsageError, match="before task frames-002"):
        dry_run_document(job, windows, now=NOW, environ={})


def test_licence_names_without_value_come_from_the_submitting_environment() -> None:
    from azrender.batch.access import planned_access
    from azrender.batch.payload import plan_batch

    preset = parse_preset(BASE + ON_SUBNET + 'licence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1 RLM_LICENSE="\n',
                          Path("s.toml"))
    doc = dry_run_document(make_job(preset), preset, now=NOW, environ={"RLM_LICENSE": "5053@site2"})
    common = {e["name"]: e["value"] for e in doc["job"]["commonEnvironmentSettings"]}
    assert common == {"ADSKFLEX_LICENSE_FILE": "27000@lic1", "RLM_LICENSE": "5053@site2", "AZRENDER_JOB_VERSION": __version__}
    # A real submit refuses to send an empty licence variable to every node; doctor says the same.
    access = planned_access(preset, now=NOW, environ={})
    with pytest.raises(UsageError) as err:
        plan_batch(make_job(preset), preset, access, environ={}, strict=True)
    assert "pool.licence_env names RLM_LICENSE without a value" in str(err.value)
    assert "export RLM_LICENSE=" in (err.value.hint or "")
    from azrender.doctor import check_licence

    assert check_licence(preset, {}, "azure").status == "fail"
    assert check_licence(preset, {"RLM_LICENSE": "5053@site2"}, "azure").status == "ok"
