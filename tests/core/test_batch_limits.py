"""Pool settings the service or the network would refuse are refused before anything is
uploaded or created, with one line each; the sound ones reach the pool body."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from azrender.batch.dryrun import dry_run_document
from azrender.batch.limits import licence_hosts, max_task_slots, pool_problems
from azrender.batch.validate import validate_body
from azrender.errors import UsageError
from azrender.jobs import JobRequest, build_job
from azrender.model import FrameRange
from azrender.presets import Preset, parse_preset
from azrender.storage.modes import storage_plan
from azrender_blender.adapter import BlenderAdapter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
BASE = 'name = "show"\n[storage]\naccount_url = "https://showstore.blob.core.windows.net"\n'
IDENTITY = "/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/render"
SUBNET = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/render"
NFS = 'mode = "nfs"\n[share]\nsource = "{host}:/export/show"\n[[paths]]\nsource = "/show"\ntarget = "."\n'

#: One preset per refusal, and the words its one line must carry.
REFUSED = {
    "auto-pool-identity": (
        BASE + f'[batch]\npool_mode = "auto"\n[pool]\nidentity = "{IDENTITY}"\n',
        "an auto-pool cannot carry pool.identity",
    ),
    "too-many-task-slots": (
        BASE + '[pool]\nvm_size = "Standard_D4s_v5"\ntask_slots = 17\n',
        "pool.task_slots = 17 exceeds what Standard_D4s_v5 allows (16",
    ),
    "private-server-without-subnet": (
        BASE + NFS.format(host="10.1.0.4"),
        "the nfs server 10.1.0.4 is on a private network",
    ),
}


def parse(text: str) -> Preset:
    return parse_preset(text, Path("show.toml"))


def dry_run(preset: Preset) -> dict:  # type: ignore[type-arg]
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-4"),
                         chunk_size=2, assets_container="assets", outputs_container="outputs")
    job = build_job(request, BlenderAdapter(), "shot-1", storage_plan(preset, node_os=preset.pool.os))
    return dry_run_document(job, preset, now=NOW, environ={})


@pytest.mark.parametrize("code", sorted(REFUSED))
def test_each_refusal_is_one_problem_and_stops_the_dry_run(code: str) -> None:
    text, words = REFUSED[code]
    preset = parse(text)
    assert [p.code for p in pool_problems(preset)] == [code]
    with pytest.raises(UsageError) as info:
        dry_run(preset)
    assert words in info.value.message and "\n" not in str(info.value)


def test_task_slots_at_the_limit_and_unknown_sizes_pass() -> None:
    assert max_task_slots("standard_d4s_v5") == 16 and max_task_slots("Standard_HB120rs_v3") == 256
    assert pool_problems(parse(BASE + '[pool]\nvm_size = "Standard_D4s_v5"\ntask_slots = 16\n')) == []
    # A size the table does not know is left to the service, and an existing pool keeps its own.
    assert pool_problems(parse(BASE + '[pool]\nvm_size = "Standard_X9_v9"\ntask_slots = 200\n')) == []
    existing = BASE + '[batch]\npool_mode = "existing"\n[pool]\nvm_size = "Standard_D2s_v5"\ntask_slots = 64\n'
    assert pool_problems(parse(existing)) == []


def test_private_servers_need_a_subnet_which_the_pool_body_carries() -> None:
    for host in ("10.1.0.4", "192.168.7.2", "fs01", "nas.studio.local"):
        assert [p.code for p in pool_problems(parse(BASE + NFS.format(host=host)))] == [
            "private-server-without-subnet"
        ], host
    for host in ("20.61.1.5", "nfs.example.com"):
        assert pool_problems(parse(BASE + NFS.format(host=host))) == [], host
    cifs = BASE + 'mode = "cifs"\n[share]\nsource = "//filer/show"\n[[paths]]\nsource = "/show"\ntarget = "."\n'
    assert "the cifs server filer" in pool_problems(parse(cifs))[0].message
    licence = BASE + '[pool]\nlicence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1"\n'
    assert "the licence server lic1" in pool_problems(parse(licence))[0].message
    assert licence_hosts("A=27000@lic1:2080@10.0.0.9 B=/opt/lic.dat") == ["lic1", "10.0.0.9"]
    # An existing pool is on whatever network it was made in.
    assert pool_problems(parse(BASE + NFS.format(host="10.1.0.4") + '[batch]\npool_mode = "existing"\n')) == []

    on_subnet = parse(BASE + NFS.format(host="10.1.0.4") + f'[pool]\nsubnet_id = "{SUBNET}"\n')
    doc = dry_run(on_subnet)
    assert doc["pool"]["networkConfiguration"] == {"subnetId": SUBNET}
    assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    auto = parse(BASE + NFS.format(host="10.1.0.4") + f'[batch]\npool_mode = "auto"\n[pool]\nsubnet_id = "{SUBNET}"\n')
    spec = dry_run(auto)["job"]["poolInfo"]["autoPoolSpecification"]["pool"]
    assert spec["networkConfiguration"] == {"subnetId": SUBNET}
    assert validate_body("BatchJobCreateOptions", dry_run(auto)["job"]) == []


def test_a_subnet_id_that_is_not_one_is_a_preset_error() -> None:
    from azrender.errors import PresetError

    with pytest.raises(PresetError, match="is not a virtual network subnet resource id"):
        parse(BASE + '[pool]\nsubnet_id = "render-subnet"\n')


@pytest.mark.parametrize("code", sorted(REFUSED))
def test_submit_refuses_before_scanning_or_uploading_with_one_line(code: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from azrender.cli import main

    text, words = REFUSED[code]
    preset = tmp_path / "show.toml"
    preset.write_text(text)
    scene = tmp_path / "missing.blend"  # never read: the backend refuses first
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("AZURE_", "AZRENDER_"))}
    done = CliRunner().invoke(
        main, ["submit", str(scene), "--preset", str(preset), "--frames", "1", "--backend", "azure"], env=unset
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.exit_code != 0 and "Traceback" not in done.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr


def test_sas_window_stays_within_the_delegation_key_limit() -> None:
    from azrender.sas import MAX_SAS_WINDOW, sas_window

    start, expiry = sas_window(NOW, 10050)  # the longest job: its SAS ends at 7 days exactly
    assert expiry - NOW == MAX_SAS_WINDOW and start < NOW
    with pytest.raises(UsageError) as info:
        dry_run(parse(BASE + "[batch]\nmax_job_minutes = 10080\n"))
    assert "outlive the 7 days a user delegation key may last" in info.value.message
    assert "10050 or less" in (info.value.hint or "")
    # Nodes that use the pool's identity carry no SAS: a week-long job is fine.
    identity = BASE + ('[batch]\nmax_job_minutes = 10080\nnode_access = "identity"\npool_mode = "existing"\n'
                       f'[pool]\nidentity = "{IDENTITY}"\n')
    assert dry_run(parse(identity))["job"]["constraints"]["maxWallClockTime"] == "P7D"


def test_the_refusals_are_preflight_errors_on_azure_only(tmp_path: Path) -> None:
    from azrender.preflight.checks import check_pool
    from azrender.preflight.codes import DEFAULT_SEVERITY

    for code, (text, words) in REFUSED.items():
        [finding] = check_pool(parse(text), on_azure=True)
        assert (finding.code, finding.severity) == (code, "error") and words in finding.message
        assert DEFAULT_SEVERITY[code] == "error"
        assert check_pool(parse(text), on_azure=False) == []
