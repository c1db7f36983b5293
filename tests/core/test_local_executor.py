"""The emulated Batch node: environment, task folders, slots, output files, failures.

Tasks here are real processes (the venv's Python) so the executor's behaviour is
observed, not assumed; uploads go to an in-memory sink.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from azrender.local.executor import LocalExecutor, expand_output_pattern
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore
from azrender.model import FrameRange, JobSpec, OutputFileSpec, TaskSpec, UploadCondition

PY = shlex.quote(sys.executable)

WRITE_ENV = (
    "import json, os, pathlib; "
    "keys = [k for k in os.environ if k.startswith('AZ_BATCH_')]; "
    "out = pathlib.Path(os.environ['AZ_BATCH_TASK_WORKING_DIR'], 'out'); "
    "out.mkdir(); (out / 'sub').mkdir(); "
    "(out / 'sub' / 'frame.txt').write_text(os.environ['AZ_BATCH_TASK_ID']); "
    "print(json.dumps({k: os.environ[k] for k in keys}))"
)


def task(task_id: str, code: str, **kw: object) -> TaskSpec:
    return TaskSpec(
        task_id=task_id,
        command_line=f"{PY} -c {shlex.quote(code)}",
        output_files=(
            OutputFileSpec("out/**/*", f"job1/{task_id}", UploadCondition.SUCCESS),
            OutputFileSpec("../stdout.txt", f"job1/logs/{task_id}/stdout.txt"),
        ),
        **kw,  # type: ignore[arg-type]
    )


def make_job(tasks: list[TaskSpec], preparation: TaskSpec | None = None) -> JobSpec:
    return JobSpec(
        job_id="job1",
        app="test",
        scene=Path("/x.blend"),
        frames=FrameRange.parse("1-2"),
        chunk_size=1,
        assets_container="assets",
        outputs_container="outputs",
        preparation=preparation,
        release=TaskSpec("jobrelease", f"{PY} -c \"print('released')\""),
        tasks=tasks,
    )


class Sink:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def __call__(self, items: list[tuple[Path, str]]) -> None:
        for path, blob in items:
            self.blobs[blob] = path.read_bytes()


def run(tmp_path: Path, job: JobSpec, slots: int = 2) -> tuple[JobRecord, Sink, NodeLayout, JobStore]:
    layout = NodeLayout(tmp_path / "node")
    store = JobStore(tmp_path / "jobs")
    sink = Sink()
    record = JobRecord.new(job)
    LocalExecutor(layout, store, sink, slots=slots).run(record)
    return store.load(job.job_id), sink, layout, store


def test_tasks_run_with_batch_environment_and_outputs(tmp_path: Path) -> None:
    job = make_job([task("t1", WRITE_ENV), task("t2", WRITE_ENV)])
    record, sink, layout, _ = run(tmp_path, job)
    assert record.state == "completed"
    assert [t.result for t in record.tasks] == ["success", "success"]
    assert sink.blobs["job1/t1/sub/frame.txt"] == b"t1"
    assert sink.blobs["job1/t2/sub/frame.txt"] == b"t2"
    env = json.loads(sink.blobs["job1/logs/t1/stdout.txt"])
    assert env["AZ_BATCH_TASK_ID"] == "t1"
    assert env["AZ_BATCH_JOB_ID"] == "job1"
    assert env["AZ_BATCH_NODE_SHARED_DIR"] == str(layout.shared_dir)
    assert env["AZ_BATCH_TASK_WORKING_DIR"] == str(layout.task_dir("job1", "t1") / "wd")
    assert Path(env["AZ_BATCH_NODE_ROOT_DIR"]) == layout.root
    assert record.release.result == "success"
    assert (layout.task_dir("job1", "jobrelease") / "stdout.txt").read_text().strip() == "released"


def test_failed_task_uploads_logs_but_not_frames_and_is_retried(tmp_path: Path) -> None:
    code = (
        "import os, pathlib, sys; "
        "p = pathlib.Path(os.environ['AZ_BATCH_TASK_WORKING_DIR'], 'out'); p.mkdir(exist_ok=True); "
        "(p / 'partial.png').write_text('x'); print('attempt'); sys.exit(3)"
    )
    job = make_job([task("bad", code, max_retries=2)])
    record, sink, _, _ = run(tmp_path, job)
    bad = record.task("bad")
    assert (bad.result, bad.exit_code) == ("failure", 3)
    assert "exit code 3" in (bad.failure or "")
    assert "job1/bad/partial.png" not in sink.blobs
    # Batch appends every attempt's output to the same stdout.txt: three attempts.
    assert sink.blobs["job1/logs/bad/stdout.txt"].decode().split() == ["attempt"] * 3


def test_failed_preparation_fails_every_task_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    prep = TaskSpec("jobpreparation", f"{PY} -c \"import sys; sys.exit(1)\"")
    job = make_job([task("t1", f"open({str(marker)!r}, 'w')")], preparation=prep)
    record, _, _, _ = run(tmp_path, job)
    assert record.preparation.result == "failure"
    assert record.task("t1").result == "failure"
    assert record.task("t1").failure == "job preparation task failed"
    assert not marker.exists()


def test_missing_executable_is_a_task_failure_not_a_crash(tmp_path: Path) -> None:
    job = make_job([TaskSpec("t1", "no-such-renderer-xyz -b scene")])
    record, _, _, _ = run(tmp_path, job)
    assert record.task("t1").result == "failure"
    assert "command not found" in (record.task("t1").failure or "")


def test_slots_run_tasks_in_parallel(tmp_path: Path) -> None:
    # Each task waits until both have started; with one slot this would never finish,
    # so the bounded wait turns a serial run into a failure instead of a hang.
    code = (
        "import os, pathlib, time; d = pathlib.Path({d!r}); "
        "(d / os.environ['AZ_BATCH_TASK_ID']).touch(); "
        "deadline = time.time() + 20\n"
        "while len(list(d.iterdir())) < 2 and time.time() < deadline: time.sleep(0.05)\n"
        "raise SystemExit(0 if len(list(d.iterdir())) == 2 else 9)"
    )
    rendezvous = tmp_path / "rv"
    rendezvous.mkdir()
    job = make_job([task(f"t{i}", code.format(d=str(rendezvous))) for i in (1, 2)])
    record, _, _, _ = run(tmp_path, job, slots=2)
    assert [t.result for t in record.tasks] == ["success", "success"]


def test_output_pattern_semantics(tmp_path: Path) -> None:
    task_dir = tmp_path / "task"
    (task_dir / "wd" / "out" / "deep").mkdir(parents=True)
    (task_dir / "wd" / "out" / "a.png").write_text("a")
    (task_dir / "wd" / "out" / "deep" / "b.png").write_text("b")
    (task_dir / "wd" / "out" / "c.txt").write_text("c")
    (task_dir / "stdout.txt").write_text("log")
    pngs = expand_output_pattern(task_dir, OutputFileSpec("out/**/*.png", "j/frames"))
    assert sorted(blob for _, blob in pngs) == ["j/frames/a.png", "j/frames/deep/b.png"]
    log = expand_output_pattern(task_dir, OutputFileSpec("../stdout.txt", "j/logs/t/stdout.txt"))
    assert [(p.read_text(), b) for p, b in log] == [("log", "j/logs/t/stdout.txt")]
    assert expand_output_pattern(task_dir, OutputFileSpec("../nothing.txt", "x")) == []


def test_store_rejects_unknown_job(tmp_path: Path) -> None:
    from azrender.errors import JobError

    with pytest.raises(JobError, match="no local job 'nope'"):
        JobStore(tmp_path).load("nope")
