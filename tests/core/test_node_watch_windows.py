"""The node watcher on Windows nodes: the renderer's ``cmd /c "..."`` line reaches CreateProcess byte for byte.

A Windows task line is ``python -m azrender.node run -- <the app's line>``. On
the node Python splits its command line by the C runtime's rules (modelled by
``winargv.split_ucrt``), which mangles the nested quotes of ``cmd /c "..."``;
the watcher therefore starts the raw text after ``azrender.node run --``
(``GetCommandLineW``), unsplit. These tests build each app's real Windows line
through ``build_job``, model what Batch and cmd.exe hand to Python, run the
watcher's own entry point (``python -m azrender.node``'s ``main``) with that
command line, and check the exact string it gives ``subprocess.Popen``.
Windows itself is not here: the started process is a stand-in Python.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.node_lines import LINUX_WATCHER, WINDOWS_WATCHER

from azrender.apps import get_adapter
from azrender.jobs import JobRequest, build_job, watched
from azrender.model import FrameRange, JobSpec
from azrender.node import __main__ as node_main
from azrender.node import watch
from azrender.node.contract import EXIT_LICENCE_UNAVAILABLE
from azrender.node.watch import command_after_marker, popen_command, taskkill_command
from azrender.presets import parse_preset
from azrender.storage.modes import blob_copy_plan, storage_plan
from winargv import cmd_c_payload, cmd_commands, expand_cmd, split_ucrt

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "presets"
WATCHER = WINDOWS_WATCHER  # the node bundle's python.exe (azrender.nodebundle.bootstrap)
NODE_ENV = {"AZ_BATCH_NODE_SHARED_DIR": r"D:\batch\tasks\shared", "AZ_BATCH_TASK_WORKING_DIR": r"D:\batch\wd 1"}
SCENES = {
    "blender": "P:\\show\\sh 010 (final) & co\\shot.blend",
    "maya": "P:\\show\\sh 010 (final) & co\\shot.ma",
    "max": "P:\\show\\sh 010 (final) & co\\shot 1.max",
}
REAL_POPEN = subprocess.Popen


def windows_job(app: str, frames: str = "1-3", chunk: int = 3, mount_at: str | None = None,
                scenes: dict[str, str] = SCENES) -> JobSpec:
    request = JobRequest(Path(scenes[app]), app, FrameRange.parse(frames), chunk, "assets", "outputs")
    if mount_at is None:
        plan = blob_copy_plan("windows")
    else:
        text = (EXAMPLES / "azure-files.toml").read_text().replace('mount_at = "task"', f'mount_at = "{mount_at}"')
        plan = storage_plan(parse_preset(text + '[pool]\nos = "windows"\n', Path("w.toml")), node_os="windows")
    return build_job(request, get_adapter(app), "j1", plan)


class FakeNode:
    """Python on a Windows node, as far as the watcher can tell: its raw command line and argv."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, raw: str, script: str = "print('Fra:1 done')") -> None:
        self.raw = raw
        self.started: list[tuple[Any, dict[str, Any]]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.killed: list[list[str]] = []
        self.script = script
        # `python -m azrender.node run -- ...`: argv[0] is the module's file, then what follows it.
        words = split_ucrt(raw)
        assert words[1:4] == ["-m", "azrender.node", "run"], words
        self.argv = [str(Path(node_main.__file__)), *words[3:]]
        monkeypatch.setattr(sys, "argv", self.argv)
        monkeypatch.setattr(watch, "ON_WINDOWS", True)
        monkeypatch.setattr(watch, "own_command_line", lambda: raw)
        monkeypatch.setattr(watch.subprocess, "Popen", self.popen)
        monkeypatch.setattr(watch.subprocess, "run", self.taskkill)

    def popen(self, args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        self.started.append((args, kwargs))
        proc = REAL_POPEN([sys.executable, "-c", self.script], **kwargs)
        self.procs.append(proc)
        return proc

    def taskkill(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        self.killed.append(args)
        pid = int(args[-1])
        for proc in self.procs:
            if proc.pid == pid:
                proc.kill()
        return subprocess.CompletedProcess(args, 0, b"", b"")

    def main(self) -> int:
        return node_main.main(self.argv[1:])

    def end(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()


@pytest.fixture
def fake_node(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeNode]]:
    made: list[FakeNode] = []

    def make(raw: str, script: str = "print('Fra:1 done')") -> FakeNode:
        made.append(FakeNode(monkeypatch, raw, script))
        return made[-1]

    yield make
    for node in made:
        node.end()


@pytest.mark.parametrize("app", sorted(SCENES))
def test_each_apps_windows_line_reaches_createprocess_unchanged(
    app: str, fake_node: Callable[..., FakeNode], capfd: pytest.CaptureFixture[str]
) -> None:
    job = windows_job(app, frames="1-2,7", chunk=3)  # Maya chains two Render.exe runs with &&
    line = job.tasks[0].command_line
    assert line.startswith(WATCHER + 'cmd /c "'), line
    render = line[len(WATCHER) :]
    assert line == watched(render, "windows")
    # Python's own split of the line is lossy (nested quotes): argv cannot rebuild it.
    node = fake_node(line)
    assert subprocess.list2cmdline(node.argv[3:]) != render
    # The watcher starts the raw text: one string, which Popen hands to CreateProcess as it is.
    assert node.main() == 0
    [(args, kwargs)] = node.started
    assert args == render and isinstance(args, str)
    assert kwargs["start_new_session"] is False
    assert capfd.readouterr().out == "Fra:1 done\n"  # the renderer's output, streamed through
    # ...which cmd.exe then runs as it runs the unwatched line: Maya's two runs, the others' one.
    assert len(cmd_commands(cmd_c_payload(args))) == (2 if app == "maya" else 1)


def test_golden_blender_watched_line_and_what_blender_receives(fake_node: Callable[..., FakeNode]) -> None:
    line = windows_job("blender").tasks[0].command_line
    assert line == WATCHER + (
        r'cmd /c "blender.exe'
        r' -b "%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\sh 010 (final) & co\shot.blend"'
        r' --python-exit-code 1 --python "%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py"'
        r' -o "%AZ_BATCH_TASK_WORKING_DIR%\out\shot_####" -F PNG -s 1 -e 3 -a"'
    )
    node = fake_node(line)
    assert node.main() == 0
    started = node.started[0][0]
    # cmd.exe expands the node's variables and blender.exe splits what is left.
    assert split_ucrt(expand_cmd(cmd_c_payload(started), NODE_ENV)) == [
        "blender.exe", "-b", r"D:\batch\tasks\shared\assets\P\show\sh 010 (final) & co\shot.blend",
        "--python-exit-code", "1", "--python", r"D:\batch\tasks\shared\jobs\j1\remap.py",
        "-o", r"D:\batch\wd 1\out\shot_####", "-F", "PNG", "-s", "1", "-e", "3", "-a",
    ]  # fmt: skip


@pytest.mark.parametrize("app", sorted(SCENES))
def test_under_a_task_prefix_net_use_runs_inside_the_renderers_cmd(
    app: str, fake_node: Callable[..., FakeNode]
) -> None:
    """azure-files with mount_at = "task": ``python -m azrender.node run -- cmd /c "net use S: ... && <render>"``.

    The prefix goes inside the app's own ``cmd /c "..."``, so its quoted paths stay
    quoted: an ``&`` in a node path is part of the path, not a command separator.
    """
    job = windows_job(app, frames="1-2,7", chunk=3, mount_at="task")
    line = job.tasks[0].command_line
    assert line.startswith(WATCHER + 'cmd /c "net use S: '), line
    # The same share mounted by the pool: the same render line, without net use.
    pooled = windows_job(app, frames="1-2,7", chunk=3, mount_at="pool").tasks[0].command_line
    node = fake_node(line)
    assert node.main() == 0
    started = node.started[0][0]
    net_use, *render = cmd_commands(cmd_c_payload(started))
    assert net_use.startswith("net use S: ") and net_use.endswith(" /persistent:no")
    # After net use, cmd.exe runs exactly what the unprefixed line runs: the & stays in the path.
    assert render == cmd_commands(cmd_c_payload(pooled[len(WATCHER):]))
    assert len(render) == (2 if app == "maya" else 1) and " & co" in render[0]


def test_a_licence_failure_ends_the_whole_tree_with_taskkill(
    fake_node: Callable[..., FakeNode], capfd: pytest.CaptureFixture[str]
) -> None:
    line = windows_job("max").tasks[0].command_line
    script = ("import time; print('Licensing error: (ADSK) server 27000@lic1 not reachable', flush=True); "
              "time.sleep(600)")
    node = fake_node(line, script)
    # The licence server cannot be reached: 66 at once, no second attempt.
    assert node.main() == EXIT_LICENCE_UNAVAILABLE
    [proc] = node.procs
    assert node.killed == [taskkill_command(proc.pid)] == [["taskkill", "/F", "/T", "/PID", str(proc.pid)]]
    assert capfd.readouterr().err.strip().splitlines()[-1].startswith("azrender: licence unavailable (flexnet): ")


def test_taskkill_failing_falls_back_to_killing_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    proc = REAL_POPEN([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        def failing(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
            raise FileNotFoundError("taskkill")

        monkeypatch.setattr(watch.subprocess, "run", failing)
        watch._end_group(proc, windows=True)  # type: ignore[arg-type]
        assert proc.wait(10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(("raw", "tail"), [
    ('python -m azrender.node run -- cmd /c "x.exe "a b""', 'cmd /c "x.exe "a b""'),
    ('"C:\\Program Files\\Python311\\python.exe" -X utf8 -m azrender.node run --   cmd /c "x"',
     'cmd /c "x"'),
    # Blender's own line has a ` -- ` of its own: only the first marker counts.
    ('python -m azrender.node run -- cmd /c "blender.exe -b "a.blend" -a -- --cycles-device CUDA"',
     'cmd /c "blender.exe -b "a.blend" -a -- --cycles-device CUDA"'),
    ("python -m azrender.node run --", None),
    ("python -m azrender.node run --   ", None),
    ("python -m azrender.node sync --job j", None),
    ("python -m myazrender.node run -- x", None),
])
def test_command_after_marker(raw: str, tail: str | None) -> None:
    assert command_after_marker(raw) == tail


def test_only_the_processs_own_arguments_use_the_raw_line() -> None:
    raw = 'python -m azrender.node run -- cmd /c "x.exe "a b""'
    own = ["m.py", "run", "--", *split_ucrt(raw)[5:]]
    assert popen_command(own[3:], windows=True, raw_command_line=raw, process_argv=own) == 'cmd /c "x.exe "a b""'
    # Called with other words (a library caller), or on Linux: the argv list, as before.
    assert popen_command(["x.exe", "a b"], windows=True, raw_command_line=raw, process_argv=own) == ["x.exe", "a b"]
    assert popen_command(own[3:], windows=False, raw_command_line=raw, process_argv=own) == own[3:]
    assert popen_command(own[3:], windows=True, raw_command_line="", process_argv=own) == own[3:]


def test_linux_lines_keep_running_as_argv_on_the_local_node(tmp_path: Path) -> None:
    """The emulated (Linux) node shlex-splits the task line; the watcher runs the words after -- as argv."""
    out = tmp_path / "args"
    line = watched("/bin/bash -c " + "'printf \"%s|\" \"$@\" > \"$0\"' " + f"'{out}' 'a b' c")
    assert line.startswith(LINUX_WATCHER + "/bin/bash -c ")
    argv = shlex.split(line)
    # This Python stands in for the bundle's: the words from its "-m azrender.node run --" on.
    done = subprocess.run([sys.executable, *argv[argv.index("-m"):]], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "a b|c|"
