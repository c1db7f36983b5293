"""Ctrl-C in `azrender submit --wait`: the waiting stops at once, the job does what was asked.

A pipeline or an artist pressing Ctrl-C must get the terminal back within
seconds. By default the job keeps rendering (a render farm job is not the
terminal's child) and the message says how to follow or cancel it; with
``--cancel-on-interrupt`` it is cancelled. Either way no render process of the
job is left behind on the local node once the job is cancelled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from azrender.local.azurite import AzuriteServer

pytestmark = [pytest.mark.azurite, pytest.mark.bpy, pytest.mark.slow]

BIN = Path(sys.executable).parent




@pytest.fixture
def env(azurite: AzuriteServer, tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out.update(
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONUNBUFFERED="1",
    )
    return out


@pytest.fixture
def preset(tmp_path: Path) -> Path:
    path = tmp_path / "ctrlc.toml"
    path.write_text(
        'name = "ctrlc"\n[storage]\nassets_container = "ctrlc-assets"\n'
        'outputs_container = "ctrlc-outputs"\n[backend]\nkind = "local"\nslots = 1\n'
    )
    return path


def job_processes(job_id: str) -> list[int]:
    """Processes whose environment names ``job_id`` as their Batch job (tasks and renders)."""
    needle = f"AZ_BATCH_JOB_ID={job_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def interrupt_while_rendering(
    env: dict[str, str], scene: Path, preset: Path, *extra: str
) -> tuple[str, subprocess.CompletedProcess[str], float]:
    """Start `submit --wait`, press Ctrl-C once a render task runs: (job id, result, seconds)."""
    proc = subprocess.Popen(
        [str(BIN / "azrender"), "submit", str(scene), "--preset", str(preset), "--frames", "1-40",
         "--chunk", "1", "--wait", *extra],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    jobs_dir = Path(env["AZRENDER_DATA_DIR"]) / "local" / "jobs"
    job_id = None
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            records = list(jobs_dir.glob("*.json")) if jobs_dir.is_dir() else []
            if records:
                job_id = records[0].stem
                if job_processes(job_id):
                    break
            time.sleep(0.2)
        assert job_id is not None and job_processes(job_id), "no render task started in time"
        pressed = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - pressed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return job_id, subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took


def cli_json(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run([str(BIN / "azrender"), *args, "--json"], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return dict(json.loads(done.stdout))


def wait_until_gone(job_id: str, seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while job_processes(job_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    return job_processes(job_id)


def test_ctrl_c_stops_waiting_and_leaves_the_job_running(
    demo_scene: Path, env: dict[str, str], preset: Path
) -> None:
    job_id, done, took = interrupt_while_rendering(env, demo_scene, preset)

    assert done.returncode == 130, done.stderr
    assert took < 2.0
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and f"job {job_id} keeps running" in lines[0]
    assert f"azrender cancel {job_id}" in lines[0]
    assert "Traceback" not in done.stderr
    assert cli_json(env, "status", job_id, "--preset", str(preset))["state"] == "active"
    assert job_processes(job_id), "the render went away with the waiting terminal"

    cancelled = cli_json(env, "cancel", job_id, "--preset", str(preset))
    assert cancelled["state"] == "completed"
    assert wait_until_gone(job_id) == []


def test_cancel_on_interrupt_cancels_and_leaves_no_process(
    demo_scene: Path, env: dict[str, str], preset: Path
) -> None:
    job_id, done, took = interrupt_while_rendering(
        env, demo_scene, preset, "--cancel-on-interrupt"
    )

    assert done.returncode == 130, done.stderr
    assert f"job {job_id} was cancelled" in done.stderr
    assert took < 12.0  # the cancel itself waits for the worker to end its renders
    status = cli_json(env, "status", job_id, "--preset", str(preset))
    assert status["state"] == "completed"
    assert wait_until_gone(job_id) == []
