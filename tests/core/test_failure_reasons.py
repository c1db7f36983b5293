"""Why a task failed reaches the artist as one line, not as "exit code N; see <file>".

Real processes on the emulated node: a shell that cannot find the renderer, a
Python renderer that raises, one that prints progress after its error, one
that says nothing. The status keeps each task's one-line reason.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from azrender.local.executor import LocalExecutor
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore
from azrender.model import FrameRange, JobSpec, TaskSpec

PY = shlex.quote(sys.executable)


def python_task(task_id: str, code: str) -> TaskSpec:
    return TaskSpec(task_id, f"{PY} -c {shlex.quote(code)}")


def run(tmp_path: Path, tasks: list[TaskSpec]) -> JobRecord:
    job = JobSpec(job_id="why", app="test", scene=Path("/x.blend"), frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container="assets", outputs_container="outputs", tasks=tasks)
    store = JobStore(tmp_path / "jobs")
    LocalExecutor(NodeLayout(tmp_path / "node"), store, lambda items: None, slots=2).run(
        JobRecord.new(job))
    return store.load("why")


def test_each_failed_task_says_why_in_one_line(tmp_path: Path) -> None:
    record = run(tmp_path, [
        TaskSpec("shell", "/bin/bash -c 'Render -r arnold /s/shot.ma'"),
        python_task("raises", "import sys\nsys.stderr.write('Fra:1 Mem:12M\\n')\n"
                              "raise ValueError('unknown engine BLENDER_FOO')"),
        python_task("progress-after", "import sys; sys.stderr.write('Error: Cannot read file "
                                      "shot.blend\\nFra:1 Mem:3M\\n\\n'); sys.exit(2)"),
        python_task("silent", "import sys; sys.exit(9)"),
        python_task("leaks", "import sys; sys.stderr.write('failed: https://a.blob.core.windows.net/"
                             "c?sv=2024&sig=SECRETSIG\\n'); sys.exit(1)"),
    ])
    failure = {t.task_id: t.failure or "" for t in record.tasks}
    assert failure["shell"] == "exit code 127: /bin/bash: line 1: Render: command not found"
    assert failure["raises"] == "exit code 1: ValueError: unknown engine BLENDER_FOO"
    assert failure["progress-after"] == "exit code 2: Error: Cannot read file shot.blend"
    assert failure["silent"].startswith("exit code 9; see ")
    assert failure["silent"].endswith("stderr.txt") and "\n" not in failure["silent"]
    assert "SECRETSIG" not in failure["leaks"] and failure["leaks"].startswith("exit code 1: failed:")
    assert all("\n" not in f for f in failure.values())
