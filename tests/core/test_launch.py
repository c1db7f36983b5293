"""``azrender.launch``: a plain ``azrender scan`` is read without click, and means what click would read.

The click command (``azrender.commands.scan``) is the reference: its options
and the root group's flags are read from click's own parameter objects, so an
option added to the command and not to the plain grammar fails here.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from azrender import cli, launch
from azrender.commands.scan import scan as scan_command

BASIC = "helio__blender-asset-tracer/tests/blendfiles/basic_file.blend"


def click_flags(command: click.Command) -> dict[str, str]:
    """Every flag of ``command`` (but help and version) -> its parameter name, as click declares them."""
    return {
        opt: str(param.name)
        for param in command.params
        if isinstance(param, click.Option) and param.is_flag and param.name not in ("help", "version")
        for opt in param.opts
    }


def test_the_plain_grammar_knows_exactly_the_click_commands_flags() -> None:
    assert click_flags(scan_command) == launch.SCAN_FLAGS
    assert click_flags(cli.main) == launch.ROOT_FLAGS
    arguments = [p for p in scan_command.params if isinstance(p, click.Argument)]
    assert [a.name for a in arguments] == ["scene"] and not [
        p for p in scan_command.params if isinstance(p, click.Option) and not p.is_flag
    ]  # one scene and flags only: anything else would need more grammar here


@pytest.mark.parametrize(
    ("args", "scene", "flags", "root"),
    [
        (["scan", "a.blend"], "a.blend", set(), set()),
        (["scan", "--json", "a.blend", "--strict"], "a.blend", {"as_json", "strict"}, set()),
        (["--debug", "--json-progress", "scan", "--no-cache", "a.blend"], "a.blend", {"no_cache"},
         {"debug", "json_progress"}),
        (["scan", "--json", "--", "-odd name.blend"], "-odd name.blend", {"as_json"}, set()),
        (["scan", "-"], "-", set(), set()),
    ],
)
def test_a_plain_scan_is_read(args: list[str], scene: str, flags: set[str], root: set[str]) -> None:
    assert launch.read_scan(args) == launch.ScanArgs(scene, frozenset(flags), frozenset(root))


@pytest.mark.parametrize(
    "args",
    [
        [], ["--version"], ["--help"], ["scan"], ["scan", "--help"], ["scan", "-h"],
        ["scan", "a.blend", "b.blend"], ["scan", "a.blend", "--jsn"], ["scan", "--json=1", "a.blend"],
        ["upload", "a.blend"], ["scan", "a.blend", "--debug"], ["--debug"],
    ],
)
def test_anything_else_goes_to_click(args: list[str]) -> None:
    assert launch.read_scan(args) is None


def run(main: object, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``main(args)`` in this process."""
    assert callable(main)
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("head", "tail"),
    [([], ["--json"]), ([], ["--json", "--no-cache"]), ([], ["--json", "--strict"]), ([], []),
     (["--json-progress"], ["--json", "--no-cache"])],
)
def test_both_paths_print_the_same_scan(
    real_fixtures: Path, head: list[str], tail: list[str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("AZRENDER_DEBUG", raising=False)
    scene = str(real_fixtures / BASIC)
    args = [*head, "scan", scene, *tail]
    fast = run(launch.main, args, capsys)
    slow = run(lambda a: cli.main(a, prog_name="azrender", standalone_mode=True), args, capsys)
    assert fast == slow and fast[0] == 0
    if "--json" in tail:
        assert json.loads(fast[1])["scene"] == scene
    if head:  # progress as JSON lines on stderr
        assert json.loads(fast[2].splitlines()[0]) == {"note": "scanning basic_file.blend (blender)"}


def test_both_paths_fail_a_missing_scene_with_the_same_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZRENDER_DEBUG", raising=False)
    args = ["scan", str(tmp_path / "gone.blend"), "--json"]
    fast = run(launch.main, args, capsys)
    slow = run(lambda a: cli.main(a, prog_name="azrender"), args, capsys)
    assert fast == slow
    code, out, err = fast
    assert code == 2 and out == "" and err.strip().startswith("error: scene not found:") and "gone.blend" in err
    assert len(err.strip().splitlines()) == 1


def test_debug_shows_the_error_itself(tmp_path: Path) -> None:
    from azrender.errors import SceneError

    with pytest.raises(SceneError, match="scene not found"):
        launch.main(["--debug", "scan", str(tmp_path / "gone.blend")])


# Leaves marks: an exit handler's, which the interpreter's teardown runs and os._exit does not, and
# one for each cycle collection that starts once azrender.launch is being imported.
_SITECUSTOMIZE = """
import atexit, gc, os, sys
atexit.register(lambda: open(os.environ["TEARDOWN_MARK"], "w").close())
def _collected(phase, info):
    if phase == "start" and "azrender.launch" in sys.modules:
        with open(os.environ["COLLECTED_MARK"], "a") as mark:
            mark.write(str(info["generation"]))
gc.callbacks.append(_collected)
"""


def run_process(args: list[str], tmp_path: Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], bool, bool]:
    """``python -m azrender args`` in its own process; whether the interpreter's teardown ran, and
    whether the cycle collector ran once azrender's command line was being loaded."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    mark, collected = tmp_path / "teardown-ran", tmp_path / "collected"
    mark.unlink(missing_ok=True)
    collected.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    env.update(PYTHONPATH=os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])]),
               TEARDOWN_MARK=str(mark), COLLECTED_MARK=str(collected))  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "azrender", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)  # fmt: skip
    return done, mark.exists(), collected.exists()


def test_a_plain_scan_process_skips_the_teardown_with_its_answer_whole(
    real_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = str(real_fixtures / BASIC)
    done, teardown, collected = run_process(["scan", scene, "--json", "--no-cache"], tmp_path, cwd=tmp_path)
    assert (done.returncode, teardown, collected) == (0, False, False), done.stderr[-2000:]
    assert done.stdout.endswith("}\n")
    assert done.stdout == run(launch.main, ["scan", scene, "--json", "--no-cache"], capsys)[1]


def test_a_plain_scan_process_keeps_its_exit_code_and_error_line(tmp_path: Path) -> None:
    done, teardown, collected = run_process(["scan", str(tmp_path / "gone.blend"), "--json"], tmp_path, cwd=tmp_path)
    assert (done.returncode, teardown, collected, done.stdout) == (2, False, False, "")
    assert done.stderr.strip().startswith("error: scene not found:") and len(done.stderr.strip().splitlines()) == 1


def test_every_other_command_exits_as_python_does(tmp_path: Path) -> None:
    done, teardown, collected = run_process(["--version"], tmp_path, cwd=tmp_path)
    assert (done.returncode, teardown, collected) == (0, True, True) and done.stdout.strip()
    done, teardown, _ = run_process(["scan", "a.blend", "--jsn"], tmp_path, cwd=tmp_path)  # click answers it
    assert (done.returncode, teardown) == (2, True) and "No such option" in done.stderr


class _Exited(Exception):
    """Stands in for os._exit in this process: carries the status it was asked for."""


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The cycle collector on again after the test, whatever console() left it as."""
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize(("outcome", "status"), [(None, 0), (3, 3), (2, 2)])
@pytest.mark.usefixtures("collector_restored")
def test_a_plain_scan_runs_with_the_collector_off_to_the_exit_with_its_code(
    monkeypatch: pytest.MonkeyPatch, outcome: int | None, status: int
) -> None:
    seen: list[bool] = []

    def fake_main() -> None:
        seen.append(gc.isenabled())
        if outcome is not None:
            sys.exit(outcome)

    def fake_exit(code: int) -> None:
        seen.append(gc.isenabled())
        raise _Exited(code)

    monkeypatch.setattr(launch, "main", fake_main)
    monkeypatch.setattr(launch.os, "_exit", fake_exit)
    monkeypatch.setattr(sys, "argv", ["azrender", "scan", "shot.blend", "--json"])
    assert gc.isenabled()
    with pytest.raises(_Exited) as left:
        launch.console()
    assert seen == [False, False] and left.value.args == (status,)


@pytest.mark.usefixtures("collector_restored")
def test_any_other_command_runs_with_the_collector_on_and_exits_through_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(launch, "main", lambda: seen.append(gc.isenabled()))
    monkeypatch.setattr(launch.os, "_exit", lambda code: pytest.fail("os._exit for a command that is not a scan"))
    monkeypatch.setattr(sys, "argv", ["azrender", "upload", "shot.blend"])
    gc.disable()  # as the executable's first module leaves it
    with pytest.raises(SystemExit) as left:
        launch.console()
    assert seen == [True] and left.value.code == 0
