"""`retry` on the local node, for real: a task that fails the first time runs again and succeeds.

The tasks are real processes on the emulated node (the venv's Python) and the
frames go to the session's Azurite; the flaky task fails until a marker file
exists, as a render fails on a licence or a network share that comes back.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.backends import Retried
from azrender.errors import EXIT_ERROR, JobError
from azrender.local.backend import LocalBackend
from azrender.model import FrameRange, JobSpec, OutputFileSpec, TaskSpec, UploadCondition

pytestmark = pytest.mark.azurite

PY = shlex.quote(sys.executable)


def azrender(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "azrender"), *args], capture_output=True,
                          text=True, env=dict(os.environ), timeout=120, check=False)


def python_task(task_id: str, code: str, frames: tuple[int, ...] = ()) -> TaskSpec:
    return TaskSpec(
        task_id=task_id,
        command_line=f"{PY} -c {shlex.quote(code)}",
        frames=frames,
        output_files=(
            OutputFileSpec("out/*", "retry-job/frames", UploadCondition.SUCCESS),
            OutputFileSpec("../stderr.txt", f"retry-job/logs/{task_id}/stderr.txt"),
        ),
        max_retries=0,  # the failure must reach the job, not be absorbed by Batch's own retry
    )


def counting(path: Path) -> str:
    """Python that appends one line to ``path`` each time it runs."""
    return f"open({str(path)!r}, 'a').write('ran\\n'); "


def make_job(tmp_path: Path, outputs: str) -> JobSpec:
    marker = tmp_path / "licence-back"
    flaky = counting(tmp_path / "flaky.runs") + (
        "import os, pathlib, sys; "
        f"m = pathlib.Path({str(marker)!r}); "
        "back = m.exists(); m.touch(); "
        "sys.exit('Error: licence server did not answer') if not back else None; "
        "pathlib.Path('out').mkdir(); pathlib.Path('out/frame_0002.png').write_bytes(b'png2')"
    )
    steady = counting(tmp_path / "steady.runs") + (
        "import pathlib; pathlib.Path('out').mkdir(); pathlib.Path('out/frame_0001.png').write_bytes(b'png1')"
    )
    return JobSpec(
        job_id="retry-job", app="test", scene=Path("/show/shot.blend"), frames=FrameRange.parse("1-2"),
        chunk_size=1, assets_container="retry-assets", outputs_container=outputs,
        preparation=TaskSpec("jobpreparation", f"{PY} -c {shlex.quote(counting(tmp_path / 'prep.runs'))}"),
        release=TaskSpec("jobrelease", f"{PY} -c {shlex.quote(counting(tmp_path / 'release.runs'))}"),
        tasks=[python_task("frames-001", steady, (1,)), python_task("frames-002", flaky, (2,))],
    )


def runs(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_retry_runs_only_the_failed_task_again_and_it_succeeds(storage_env: str, tmp_path: Path) -> None:
    outputs = f"retry-out-{uuid.uuid4().hex[:10]}"
    # The default job store and node (below AZRENDER_DATA_DIR): the `azrender` command sees them too.
    backend = LocalBackend(slots=2, mounts={})
    container = ContainerClient.from_connection_string(storage_env, outputs)
    container.create_container()  # as submit does before it hands the job to the backend
    backend.submit(make_job(tmp_path, outputs), wait=False)
    with pytest.raises(JobError, match="still running"):
        backend.retry("retry-job")  # its worker owns the record until it ends
    first = backend.wait("retry-job")
    by_id = {t.task_id: t for t in first.tasks}
    assert by_id["frames-001"].result == "success"
    assert by_id["frames-002"].result == "failure"
    assert "licence server did not answer" in (by_id["frames-002"].failure or "")

    preset = tmp_path / "show.toml"
    preset.write_text('name = "show"\n[backend]\nkind = "local"\n')
    done = azrender("retry", "retry-job", "--failed", "--preset", str(preset), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"job_id": "retry-job", "backend": "local", "requeued": ["frames-002"],
                                       "rerun_job_id": None, "follow": "retry-job"}
    second = backend.wait("retry-job")

    assert second.state == "completed" and second.counts == {"active": 0, "running": 0, "succeeded": 2, "failed": 0}
    assert runs(tmp_path / "steady.runs") == 1  # a succeeded task is not run again
    assert runs(tmp_path / "flaky.runs") == 2
    # The release task removed the job's files when it ended: the node prepares again, then releases.
    assert runs(tmp_path / "prep.runs") == 2 and runs(tmp_path / "release.runs") == 2
    frames = sorted(b.name for b in container.list_blobs(name_starts_with="retry-job/frames/"))
    assert frames == ["retry-job/frames/frame_0001.png", "retry-job/frames/frame_0002.png"]
    assert container.download_blob("retry-job/frames/frame_0002.png").readall() == b"png2"

    for job_id, needle in (("retry-job", "no failed tasks to retry"), ("nope", "no local job 'nope'")):
        done = azrender("retry", job_id, "--preset", str(preset))
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == EXIT_ERROR and done.stdout == ""
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], done.stderr


def test_retry_line_names_the_requeued_tasks() -> None:
    assert Retried("j", ["frames-002"], "local").line() == "job j: 1 failed task(s) requeued (frames-002)"
    rerun = Retried("j", [f"frames-00{i}" for i in range(1, 6)], "azure", rerun_job_id="j-rerun1")
    assert rerun.line() == ("job j had ended: 5 failed task(s) (frames-001, frames-002, frames-003 and 2 more) "
                            "run again as job j-rerun1; its frames join j's")
