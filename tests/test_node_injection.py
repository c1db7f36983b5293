"""Nothing from a scene, a flag or a preset runs on the render node: names reach the renderer as data.

For every adapter (Blender, Maya, 3ds Max), every node OS it renders on and
every storage mode of ``docs/presets``, hostile names (``$(...)``, backticks,
``;``, ``&``, ``|``, ``%VAR%``, ``!VAR!``, quotes, line breaks...) go into the
scene's file name, the camera, the render layer and, for 3ds Max, the
renderer's path, and the task command line the job really carries is run:

* Linux lines as the local node and Batch start them (split into argv, no
  shell) under real ``/bin/bash``, with stub renderers on ``PATH`` that record
  the argv they get; a stub at the node bundle's Python stands in for the watcher
  (``<bundle python> -m azrender.node run -- argv`` execs ``argv``, as
  :func:`azrender.node.watch.run` does on POSIX). The renderer must be called
  exactly once, with each name exactly as written, and nothing else may run:
  no marker file appears, in the task's folder or in ``$HOME``.
* Windows lines through the cmd.exe / C runtime model of ``tests/winargv.py``:
  cmd.exe must run exactly the storage plan's commands and the renderer, with
  no ``|``, ``<``, ``>`` outside quotes, and the renderer's argv must hold
  each name exactly. What cmd.exe cannot pass unchanged (``%``, ``!``, ``"``,
  a line break) may instead be refused with a :class:`UsageError`; on Linux
  nothing may be refused but what Maya itself forbids in node names
  (``,`` and ``"``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.node_lines import BUNDLE

from azrender.errors import PresetError, UsageError
from azrender.jobs import JobRequest, build_job
from azrender.model import FrameRange, RenderOptions
from azrender.node.watch import command_after_marker
from azrender.presets import parse_preset
from azrender.storage.modes import StoragePlan, storage_plan
from azrender_blender.adapter import BlenderAdapter
from azrender_max.adapter import MaxAdapter, MaxRenderOptions
from azrender_maya.adapter import MayaAdapter
from winargv import cmd_c_payload, cmd_commands, expand_cmd, split_ucrt

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "presets"
MARKER = "pwned"
# Pieces a name is made of: shell syntax that would run `touch pwned`, expansions, quoting.
PIECES = (
    f"$(touch {MARKER})", f"`touch {MARKER}`", f"; touch {MARKER}", f"& touch {MARKER}", f"| touch {MARKER}",
    f"&& touch {MARKER} &&", f"\ntouch {MARKER}\n", f"' ; touch {MARKER} ; '", f'" & touch {MARKER} & "',
    f"$(cd;touch {MARKER})", "%VAR%", "%PATH%", "!VAR!", "$VAR", "${VAR}", "$HOME", "'", '"', "\\", "^",
    "(", ")", "<", ">", "*", "?", "~", "#", " ", "\t", "\r", ",", "é", "日本",
)  # fmt: skip


def _names(pieces: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces) | st.text("abz-_.", min_size=1, max_size=3), min_size=1, max_size=5).map(
        "".join
    )


def _file_name(name: str) -> bool:
    return "/" not in name and "\\" not in name and name.strip(". ") == name


def _name_sets(pieces: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str, str, str]]:
    """(scene file name, camera, layer, 3ds Max folder) made of ``pieces``."""
    names = _names(pieces)
    return st.tuples(names.filter(_file_name), names, names, names.filter(_file_name))


# Half the examples hold only what cmd.exe can pass, so that Windows lines are run, not just refused.
CMD_PASSABLE = tuple(p for p in PIECES if not set(p) & set('%!"\n\r'))
NAME_SETS = _name_sets(CMD_PASSABLE) | _name_sets(PIECES)
# Every variable the node defines; VAR is defined too, so that an expansion of the names' $VAR/%VAR% shows.
# A real folder: the node bundle's Python (a stub here) lives below it, as on a node.
NODE_SHARED = Path(tempfile.gettempdir()) / f"azrender-injection-{os.getpid()}" / "shared"
NODE_ENV = {
    "AZ_BATCH_NODE_SHARED_DIR": str(NODE_SHARED), "AZ_BATCH_NODE_MOUNTS_DIR": "/node/fsmounts",
    "AZ_BATCH_TASK_WORKING_DIR": "/node/task/wd", "AZ_BATCH_JOB_ID": "j1", "VAR": "EXPANDED",
}  # fmt: skip
WINDOWS_ENV = {
    "AZ_BATCH_NODE_SHARED_DIR": "D:\\batch\\shared", "AZ_BATCH_NODE_MOUNTS_DIR": "D:\\batch\\fsmounts",
    "AZ_BATCH_TASK_WORKING_DIR": "D:\\batch\\task\\wd", "AZ_BATCH_JOB_ID": "j1", "VAR": "EXPANDED",
    "PATH": "C:\\Windows",
}  # fmt: skip


def _plans() -> Iterator[tuple[str, str, StoragePlan]]:
    """(label, node OS, plan) for every example preset and node OS it supports, job-level blobfuse too."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.toml"))}
    texts["blobfuse-job"] = texts["blobfuse"].replace('mount_at = "pool"', 'mount_at = "job"')
    texts["azure-files-unc"] = texts["azure-files"].replace('windows_paths = "drive"', 'windows_paths = "unc"')
    for label, text in texts.items():
        preset = parse_preset(text, Path(f"{label}.toml"))
        for node_os in ("linux", "windows"):
            try:
                yield label, node_os, storage_plan(preset, node_os=node_os)
            except PresetError:
                continue  # a Linux-only mode


PLANS = {(label, node_os): plan for label, node_os, plan in _plans()}
CASES = [
    (app, label, node_os)
    for app, systems in (("blender", ("linux", "windows")), ("maya", ("linux", "windows")), ("max", ("windows",)))
    for (label, node_os) in PLANS
    if node_os in systems
]


@dataclass(frozen=True)
class Names:
    scene: str
    camera: str
    layer: str
    executable_dir: str


def local_scene(plan: StoragePlan, file_name: str) -> Path:
    """A workstation path the plan maps: below its first rule's source, else in a mirrored folder."""
    source = plan.pathmap.rules[0].source if plan.pathmap.rules else "P:\\show"
    return Path(source.rstrip("\\") + "\\sh010\\" + file_name)


def command_for(app: str, plan: StoragePlan, names: Names) -> tuple[str, str]:
    """(the render task's command line, the node scene path) for a one-task job with ``names``."""
    suffix = {"blender": ".blend", "maya": ".ma", "max": ".max"}[app]
    scene = local_scene(plan, names.scene + suffix)
    render = RenderOptions(camera=names.camera, layers=(names.layer,) if app == "maya" else ())
    adapter: BlenderAdapter | MayaAdapter | MaxAdapter
    if app == "blender":
        adapter = BlenderAdapter()
    elif app == "maya":
        adapter = MayaAdapter()
    else:
        executable = "C:\\" + names.executable_dir + "\\3dsmaxcmdio.exe"
        adapter = MaxAdapter(options=MaxRenderOptions(executable=executable, width=64, height=48))
    request = JobRequest(scene, app, FrameRange.parse("1-2"), 2, "assets", "outputs", render=render)
    job = build_job(request, adapter, "j1", plan)
    return job.tasks[0].command_line, job.node_scene


def expected_path(node_path: str, windows: bool) -> str:
    """``node_path`` with the node's own AZ_BATCH_* variables replaced, the way the node's shell must."""
    if windows:
        return re.sub(r"%(AZ_BATCH_\w+)%", lambda m: WINDOWS_ENV[m.group(1)], node_path)
    return re.sub(r"\$\{?(AZ_BATCH_[A-Z_]+)\}?", lambda m: NODE_ENV[m.group(1)], node_path)


def check_argv(app: str, argv: list[str], names: Names, node_scene: str, windows: bool) -> None:
    """The renderer got every name exactly, where its command line takes it."""
    scene = expected_path(node_scene, windows)
    name = (PureWindowsPath if windows else PurePosixPath)(scene).name
    assert name.startswith(names.scene), (name, names.scene)
    if app == "blender":
        assert argv[argv.index("-b") + 1] == scene
        assert argv[argv.index("--azrender-camera") + 1] == names.camera
        # The output name is the scene's stem made safe for a file name (azrender.naming): in the task's folder.
        output = argv[argv.index("-o") + 1]
        assert output.startswith(expected_path("$AZ_BATCH_TASK_WORKING_DIR/out/", False) if not windows
                                 else expected_path("%AZ_BATCH_TASK_WORKING_DIR%\\out\\", True))
        assert output.endswith("_####") and argv[argv.index("-o") + 2] == "-F"
    elif app == "maya":
        assert argv[-1] == scene
        assert argv[argv.index("-cam") + 1] == names.camera
        assert argv[argv.index("-rl") + 1] == names.layer
        assert argv[argv.index("-im") + 1] == names.scene
    else:
        assert argv[0] == "C:\\" + names.executable_dir + "\\3dsmaxcmdio.exe"
        assert argv[-1] == scene
        assert "-camera:" + names.camera in argv
        output = next(a for a in argv if a.startswith("-outputName:"))
        assert output.endswith("\\" + names.scene + "_.png")


STUB_RECORDER = """#!/bin/bash
# A stub renderer: record the argv it was started with (NUL-separated), one file per call.
out=$(mktemp "$AZRENDER_TEST_CALLS/call.XXXXXX")
printf '%s\\0' "$(basename "$0")" "$@" > "$out"
"""
# The watcher on POSIX execs the argv after `run --` (azrender.node.watch.run); nothing else may start.
STUB_PYTHON = """#!/bin/bash
if [ "$1" = -m ] && [ "$2" = azrender.node ] && [ "$3" = run ] && [ "$4" = -- ]; then shift 4; exec "$@"; fi
echo "unexpected python3 call: $*" >&2; exit 99
"""


@pytest.fixture(scope="module")
def node_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("node-bin")
    for name, text in (("blender", STUB_RECORDER), ("Render", STUB_RECORDER), ("python3", STUB_PYTHON)):
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    # Where the job's preparation task installs the node bundle (azrender.nodebundle.bootstrap).
    python = NODE_SHARED / "azrender" / BUNDLE / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True, exist_ok=True)
    python.write_text(STUB_PYTHON)
    python.chmod(0o755)
    yield folder
    shutil.rmtree(NODE_SHARED.parent, ignore_errors=True)


def run_linux(line: str, node_bin: Path, work: Path) -> tuple[list[list[str]], subprocess.CompletedProcess[str]]:
    """Start ``line`` as the local node does (argv split, no shell) with the stubs first on PATH."""
    calls, home, task = work / "calls", work / "home", work / "task"
    for folder in (calls, home, task):
        folder.mkdir()
    env = {**NODE_ENV, "PATH": f"{node_bin}:/usr/bin:/bin", "HOME": str(home), "AZRENDER_TEST_CALLS": str(calls)}
    proc = subprocess.run(shlex.split(line), cwd=task, env=env, capture_output=True, text=True, timeout=30)
    recorded = [f.read_bytes().decode().split("\0")[:-1] for f in sorted(calls.iterdir())]
    created = [p.name for folder in (home, task) for p in folder.iterdir()]
    assert not created, f"the command line created {created}: something besides the renderer ran"
    return recorded, proc


def outside_quotes(payload: str) -> str:
    """The characters of a cmd.exe line outside double quotes (where ``| < > &`` are operators)."""
    return "".join(part for i, part in enumerate(payload.split('"')) if i % 2 == 0)


def run_windows(line: str, plan: StoragePlan) -> list[str]:
    """The renderer's argv on a Windows node, after the checks that cmd.exe runs nothing else."""
    tail = command_after_marker(line)
    assert tail is not None, line
    payload = cmd_c_payload(tail)
    assert not set("\n\r") & set(payload), "a line break ends a cmd.exe command wherever it stands"
    commands = cmd_commands(payload)
    assert commands[:-1] == list(plan.task_prefix), commands
    assert not set("|<>") & set(outside_quotes(commands[-1])), commands[-1]
    return split_ucrt(expand_cmd(commands[-1], WINDOWS_ENV))


def refusable(app: str, names: Names, windows: bool) -> bool:
    """Whether a UsageError is a fair answer for ``names``: what cmd.exe cannot pass, what Maya forbids."""
    values = (names.scene, names.camera, names.executable_dir) + ((names.layer,) if app == "maya" else ())
    if windows and any(c in v for v in values for c in '%!"\n\r'):
        return True
    return app == "maya" and any(c in v for v in (names.camera, names.layer) for c in ',"')


@pytest.mark.parametrize(("app", "label", "node_os"), CASES)
@settings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=NAME_SETS)
@example(values=(f"x$(cd;touch {MARKER})", f"$(touch {MARKER})", f"`touch {MARKER}`", "Autodesk & co"))
@example(values=("a %VAR% b", "cam !VAR!", "rs_$VAR", "^x"))
def test_names_reach_the_renderer_as_data(
    app: str, label: str, node_os: str, values: tuple[str, str, str, str],
    node_bin: Path, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    names = Names(*values)
    scene = names.scene
    windows = node_os == "windows"
    plan = PLANS[(label, node_os)]
    try:
        line, node_scene = command_for(app, plan, names)
    except UsageError as exc:
        assert refusable(app, names, windows), f"{names} refused: {exc}"
        assert "\n" not in str(exc).replace(repr(scene), "")
        return
    if windows:
        check_argv(app, run_windows(line, plan), names, node_scene, windows=True)
        return
    calls, proc = run_linux(line, node_bin, tmp_path_factory.mktemp("task"))
    assert proc.returncode == 0, proc.stderr
    assert len(calls) == 1, calls
    check_argv(app, calls[0][1:], names, node_scene, windows=False)


def test_the_cases_cover_every_adapter_os_and_mode() -> None:
    labels = {label for _, label, _ in CASES}
    assert {"blob-copy", "blobfuse", "blobfuse-job", "nfs", "cifs", "azure-files", "azure-files-unc"} <= labels
    assert {(app, os_) for app, _, os_ in CASES} == {
        ("blender", "linux"), ("blender", "windows"), ("maya", "linux"), ("maya", "windows"), ("max", "windows"),
    }

