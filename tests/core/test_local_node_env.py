"""The emulated node's tasks get what a Batch node's get: no account key, no workstation credentials."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from azrender.local.executor import LocalExecutor
from azrender.local.node import NodeLayout
from azrender.local.nodeenv import KEEP, NETWORK
from azrender.local.state import JobRecord, JobStore
from azrender.model import FrameRange, JobSpec, TaskSpec

KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLW9uLWEtbm9kZQ=="
DUMP = f"{shlex.quote(sys.executable)} -c " + shlex.quote("import json, os; print(json.dumps(dict(os.environ)))")
SAS_URL = "http://127.0.0.1:10000/devstoreaccount1/assets?sv=2024-01-01&sp=rl&sig=job-sas"


def test_no_credential_of_this_machine_reaches_a_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workstation = {
        "AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY}",
        "AZURE_CLIENT_SECRET": KEY, "AZURE_CLIENT_ID": "0000", "AWS_SECRET_ACCESS_KEY": KEY,
        "SOME_TOOL_TOKEN": KEY, "HTTPS_PROXY": f"http://me:{KEY}@proxy:3128",
        "PYTHONPATH": "/workstation/site", "HOME": "/home/artist", "LC_ALL": "C.UTF-8",
    }  # fmt: skip
    for name, value in workstation.items():
        monkeypatch.setenv(name, value)
    layout = NodeLayout(tmp_path / "node")
    prep = TaskSpec("jobpreparation", DUMP, environment={"AZRENDER_ASSETS_CONTAINER": "assets"})
    job = JobSpec(
        job_id="job1", app="test", scene=Path("/x.blend"), frames=FrameRange.parse("1"), chunk_size=1,
        assets_container="assets", outputs_container="outputs", preparation=prep,
        tasks=[TaskSpec("t1", DUMP, environment={"ADSKFLEX_LICENSE_FILE": "27000@lic"})],
    )  # fmt: skip
    LocalExecutor(layout, JobStore(tmp_path / "jobs"), lambda items: None,
                  node_environment={"AZRENDER_ASSETS_CONTAINER_URL": SAS_URL}).run(JobRecord.new(job))
    seen = {task: json.loads((layout.task_dir("job1", task) / "stdout.txt").read_text())
            for task in ("jobpreparation", "t1")}  # fmt: skip
    for task, env in seen.items():
        assert not [k for k, v in env.items() if KEY in v], f"{task} got the key"
        allowed = {*KEEP, *NETWORK, "HOME", "AZRENDER_ASSETS_CONTAINER", "AZRENDER_ASSETS_CONTAINER_URL",
                   "ADSKFLEX_LICENSE_FILE"}  # fmt: skip
        unexpected = [k for k in env if k not in allowed and not k.startswith(("AZ_BATCH_", "LC_"))]
        # The interpreter itself may add a variable or two (LC_CTYPE coercion); none of the workstation's.
        assert not set(unexpected) & set(workstation), unexpected
        assert env["HOME"] == str(layout.home_dir) and layout.home_dir.is_dir()
        assert env["LC_ALL"] == "C.UTF-8" and str(layout.shim_dir) in env["PATH"].split(os.pathsep)
    # The preparation task reaches the assets with the job's read+list SAS; a render task
    # gets its own settings (the licence server), as on Batch.
    assert seen["jobpreparation"]["AZRENDER_ASSETS_CONTAINER_URL"] == SAS_URL
    assert "AZRENDER_ASSETS_CONTAINER_URL" not in seen["t1"]
    assert seen["t1"]["ADSKFLEX_LICENSE_FILE"] == "27000@lic"
