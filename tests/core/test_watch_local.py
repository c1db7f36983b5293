"""A render task whose renderer prints a licence failure ends within seconds on the local node,
and `azrender status` says why (the watcher's one-line reason, not "exit code 64")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from azure.storage.blob import ContainerClient
from tests.node_lines import LINUX_WATCHER

from azrender.local.executor import watcher_reason
from azrender.node.contract import EXIT_LICENCE_UNAVAILABLE
from azrender.outputs import job_outputs_container

BIN = Path(sys.executable).parent
BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"
LICENCE_LINE = "Licensing error: (ADSK) server 27000@lic1 not reachable"


def fake_blender(folder: Path) -> Path:
    """A `blender` that prints progress, then a licence failure, then hangs with a child, as a stuck one does."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "blender"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import subprocess, sys, time
        if sys.argv[1:] == ["--version"]:  # as a Blender answers the local node's question
            print("Blender 4.2.0")
            sys.exit(0)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(sys.argv[0] + ".calls", "a") as calls:
            calls.write(" ".join(sys.argv[1:]) + "\\n")
        print("Blender 4.2.0 (hash abc) Fra:1 Mem:10M | Syncing Cube", flush=True)
        print({LICENCE_LINE!r}, file=sys.stderr, flush=True)
        time.sleep(600)
    """))
    script.chmod(0o755)
    return script


def azrender(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "azrender"), *args], env=env, capture_output=True, text=True,
                          timeout=180, check=False)


def test_licence_failure_ends_the_task_in_seconds_and_status_shows_why(
    storage_env: str, real_fixtures: Path, tmp_path: Path
) -> None:
    scene = real_fixtures / BLENDFILES / "basic_file.blend"
    blender = fake_blender(tmp_path / "fakebin")
    env = dict(os.environ)
    env["PATH"] = f"{blender.parent}{os.pathsep}{env['PATH']}"
    env["AZRENDER_LOCAL_BLENDERS"] = str(blender)  # the one Blender of this node
    preset = tmp_path / "show.toml"
    preset.write_text('name = "show"\n[storage]\nassets_container = "wl-assets"\n'
                      'outputs_container = "wl-outputs"\n[backend]\nkind = "local"\n')

    start = time.monotonic()
    done = azrender(env, "submit", str(scene), "--preset", str(preset), "--frames", "1", "--wait", "--json")
    elapsed = time.monotonic() - start
    assert done.returncode == 4, done.stderr  # a job with failed tasks
    assert elapsed < 90, f"the task hung for {elapsed:.0f}s"
    doc = json.loads(done.stdout)
    [task] = doc["tasks"]
    # The licence server cannot be reached: 66 (licence unavailable), not retried (max_retries is 1)
    # and not tried again by the watcher, whose back-off is for a shortage (64) only.
    assert task["exit_code"] == EXIT_LICENCE_UNAVAILABLE and task["result"] == "failure"
    assert task["failure"] == f"licence unavailable (flexnet): {LICENCE_LINE}"
    assert len(Path(str(blender) + ".calls").read_text().splitlines()) == 1

    status = azrender(env, "status", doc["job_id"], "--preset", str(preset), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["tasks"][0]["failure"] == task["failure"]
    # The task's stderr.txt went to the job's outputs container with the renderer's line and the reason.
    outputs = job_outputs_container("wl-outputs", doc["job_id"])
    log = ContainerClient.from_connection_string(storage_env, outputs).download_blob(
        f"{doc['job_id']}/logs/{task['task_id']}/stderr.txt").readall().decode()
    assert LICENCE_LINE in log and log.strip().splitlines()[-1].startswith("azrender: licence unavailable")


def test_watcher_reason_reads_the_last_azrender_line(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    log.write_bytes(b"x" * 20000 + b"\nazrender: old\nrenderer noise\nazrender: missing plug-in (maya): gone\nbye\n")
    assert watcher_reason(log) == "missing plug-in (maya): gone"
    log.write_text("Fra:1 crashed\n")
    assert watcher_reason(log) is None
    assert watcher_reason(tmp_path / "absent.txt") is None


def test_linux_render_tasks_run_under_the_watcher() -> None:
    from azrender.jobs import JobRequest, build_job
    from azrender.model import FrameRange
    from azrender_blender.adapter import BlenderAdapter

    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse("1-2"),
                         chunk_size=1, assets_container="a", outputs_container="o")
    job = build_job(request, BlenderAdapter(), "j1")
    for task in job.tasks:
        assert task.command_line.startswith(LINUX_WATCHER + "/bin/bash -c 'blender -b ")
    assert job.preparation is not None and "node run" not in job.preparation.command_line
