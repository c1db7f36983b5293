"""The panel's Cancel and Retry buttons in real Blender (bpy), on the local node.

As in test_ui_operators, each scenario runs in its own interpreter and the
driver calls the timer function itself in a bounded loop. Retry is pressed on a
job-list entry whose job really failed on the local node (a task that fails
until a marker file exists); Cancel is pressed right after Render on Azure.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient
from blender_helpers import needs_bpy
from test_ui_operators import drive
from tests.test_submit_interrupt import job_processes

from azrender.local.azurite import AzuriteServer
from azrender.local.executor import LocalExecutor
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore, jobs_dir, node_root
from azrender.model import FrameRange, JobSpec, OutputFileSpec, TaskSpec, UploadCondition
from azrender.outputs import job_outputs_container

pytestmark = [needs_bpy, pytest.mark.bpy, pytest.mark.azurite]

DRIVER = r"""
import importlib, json, os, sys, time
import bpy
import addon_utils

scene_path, preset_file, output, job_id, scenario = sys.argv[-5:]
bpy.ops.wm.open_mainfile(filepath=scene_path)
addon_utils.enable("azrender_blender", default_set=True, handle_error=None)
runtime = importlib.import_module("azrender_blender.ui.runtime")
bpy.context.preferences.addons["azrender_blender"].preferences.preset_path = os.path.dirname(preset_file)
settings = bpy.context.scene.azrender
out = {}

def run_op(op):
    try:
        return {"result": sorted(op()), "error": None}
    except RuntimeError as exc:
        return {"result": None, "error": str(exc)}

def settle(job):
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # bounded
        runtime.poll()
        if job.state not in seen:
            seen.append(job.state)
        if not runtime.WORK.busy():
            runtime.poll()
            break
        time.sleep(0.1)
    seen += [job.state] if job.state != seen[-1] else []
    return seen

def entry(job):
    return {k: getattr(job, k) for k in ("job_id", "state", "message", "error", "output_dir")}

if scenario == "retry":
    job = settings.jobs.add()
    job.key, job.job_id, job.state, job.preset = "k1", job_id, "failed", preset_file
    job.backend, job.output_root, job.error = "local", output, "frames-001: licence server did not answer"
    settings.job_index = 0
    out["cancel_ended"] = run_op(bpy.ops.azrender.cancel)
    out["retry"] = run_op(bpy.ops.azrender.retry)
    out["states"] = settle(job)
    out["job"] = entry(job)
    out["retry_again"] = run_op(bpy.ops.azrender.retry)
elif scenario == "cancel-upload":
    settings.preset = preset_file
    settings.use_scene_frames = False
    settings.frames = "1-2"
    settings.backend = "local"
    settings.output_dir = output
    out["submit"] = run_op(bpy.ops.azrender.submit)
    out["cancel"] = run_op(bpy.ops.azrender.cancel)  # pressed at once: the upload has not finished
    job = settings.jobs[0]
    out["states"] = settle(job)
    out["job"] = entry(job)
    out["retry_unsubmitted"] = run_op(bpy.ops.azrender.retry)
elif scenario == "cancel-job":
    from azrender.local.state import JobStore
    settings.preset = preset_file
    settings.use_scene_frames = False
    settings.frames = "1-40"
    settings.chunk = 1
    settings.backend = "local"
    settings.output_dir = output
    out["submit"] = run_op(bpy.ops.azrender.submit)
    job = settings.jobs[0]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # bounded: until one of the job's renders runs
        runtime.poll()
        if job.job_id and job.state == "running" and any(
                t.state == "running" for t in JobStore().load(job.job_id).tasks):
            break
        time.sleep(0.1)
    out["rendering"] = entry(job)
    out["cancel"] = run_op(bpy.ops.azrender.cancel)
    out["states"] = settle(job)
    out["job"] = entry(job)
print("AZR-RESULT " + json.dumps(out))
"""


@pytest.fixture
def env(azurite: AzuriteServer) -> dict[str, str]:
    """This test's own data folders (AZRENDER_DATA_DIR): the driver sees the same local jobs."""
    out = dict(os.environ)
    out.update(AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string, PYTHONWARNINGS="ignore")
    out.pop("AZRENDER_PRESET_PATH", None)
    return out


@pytest.fixture
def preset(tmp_path: Path) -> Path:
    shows = tmp_path / "shows"
    shows.mkdir()
    path = shows / "retry.toml"
    path.write_text('name = "retry"\n[storage]\nassets_container = "ui-retry-assets"\n'
                    'outputs_container = "ui-retry-outputs"\n[backend]\nkind = "local"\nslots = 1\n')
    return path


def failed_job(tmp_path: Path, azurite: AzuriteServer) -> str:
    """A job that failed on the local node: its task fails until a marker file exists."""
    job_id = "shot010-retry"
    marker = tmp_path / "licence-back"
    code = ("import pathlib, sys; "
            f"m = pathlib.Path({str(marker)!r}); back = m.exists(); m.touch(); "
            "back or sys.exit('Error: licence server did not answer'); "
            "pathlib.Path('out').mkdir(); pathlib.Path('out/shot010_0001.png').write_bytes(b'png')")
    outputs = job_outputs_container("ui-retry-outputs", job_id)
    ContainerClient.from_connection_string(azurite.connection_string, outputs).create_container()
    task = TaskSpec("frames-001", f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}", frames=(1,),
                    max_retries=0, output_files=(
                        OutputFileSpec("out/*", f"{job_id}/frames", UploadCondition.SUCCESS),
                        OutputFileSpec("../stderr.txt", f"{job_id}/logs/frames-001/stderr.txt")))
    job = JobSpec(job_id=job_id, app="blender", scene=Path("/show/shot010.blend"), frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container="ui-retry-assets", outputs_container=outputs, tasks=[task])
    record = LocalExecutor(NodeLayout(node_root()), JobStore(jobs_dir()), lambda items: None).run(JobRecord.new(job))
    assert record.tasks[0].result == "failure"
    return job_id


def test_retry_renders_the_failed_task_again_and_brings_its_frame(
    demo_scene_dir: Path, env: dict[str, str], preset: Path, tmp_path: Path, azurite: AzuriteServer
) -> None:
    job_id = failed_job(tmp_path, azurite)
    output = tmp_path / "frames-here"
    out = drive(env, str(demo_scene_dir / "shot010.blend"), str(preset), str(output), job_id, "retry",
                driver=DRIVER)

    assert out["cancel_ended"]["result"] is None
    assert f"job {job_id} has ended (failed); there is nothing to cancel" in out["cancel_ended"]["error"]
    assert out["retry"] == {"result": ["FINISHED"], "error": None}
    job = out["job"]
    assert job["state"] == "done" and job["error"] == "", out
    assert "running" in out["states"], out["states"]
    assert (output / job_id / "frames" / "shot010_0001.png").read_bytes() == b"png"
    assert JobStore(jobs_dir()).load(job_id).counts["succeeded"] == 1
    assert f"job {job_id} has no failed tasks to retry (done)" in out["retry_again"]["error"]


def test_cancel_right_after_submit_stops_the_upload_and_submits_nothing(
    demo_scene_dir: Path, env: dict[str, str], preset: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, shot)
    out = drive(env, str(shot / "shot010.blend"), str(preset), str(tmp_path / "out"), "-", "cancel-upload",
                driver=DRIVER)

    assert out["submit"] == {"result": ["FINISHED"], "error": None}
    assert out["cancel"] == {"result": ["FINISHED"], "error": None}
    job = out["job"]
    assert job["state"] == "cancelled" and job["job_id"] == "" and job["error"] == "", out
    assert job["message"].startswith("cancelled: ")
    assert JobStore(jobs_dir()).all() == []  # nothing reached the local node
    assert "never submitted; there is nothing to retry" in out["retry_unsubmitted"]["error"]


@pytest.mark.slow
def test_cancel_while_rendering_cancels_the_job_on_the_local_node(
    demo_scene_dir: Path, env: dict[str, str], preset: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, shot)
    out = drive(env, str(shot / "shot010.blend"), str(preset), str(tmp_path / "out"), "-", "cancel-job",
                driver=DRIVER)

    job_id = out["rendering"]["job_id"]
    assert out["rendering"]["state"] == "running" and job_id, out
    assert out["cancel"] == {"result": ["FINISHED"], "error": None}
    job = out["job"]
    assert job["state"] == "cancelled" and job["message"].startswith(f"job {job_id} cancelled: "), out
    record = JobStore(jobs_dir()).load(job_id)
    assert record.state == "completed" and any(t.failure == "job cancelled" for t in record.tasks)
    assert job_processes(job_id) == []  # no render of the job is left on the local node
