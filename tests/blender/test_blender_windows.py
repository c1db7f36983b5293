"""BlenderAdapter on Windows nodes: ``cmd /c "blender.exe ..."`` with ``%AZ_BATCH_*%``, as cmd and Blender read it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from azrender.apps import RenderInvocation
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec, RenderOptions, TaskSpec, task_to_json
from azrender_blender.adapter import BlenderAdapter, cmd_quote
from winargv import cmd_c_payload, run_under_cmd, split_ucrt

ADAPTER = BlenderAdapter()
SCENE = r"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot.blend"
REMAP = r"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py"
OUT = r"%AZ_BATCH_TASK_WORKING_DIR%\out"
NODE_ENV = {"AZ_BATCH_NODE_SHARED_DIR": r"D:\batch\tasks\shared", "AZ_BATCH_TASK_WORKING_DIR": r"D:\batch\wd"}


def line_for(render: RenderOptions | None = None, *, scene: str = SCENE, remap: str = REMAP, out: str = OUT,
             frames: tuple[int, ...] = (1, 2, 3), node_os: str = "windows") -> str:
    job = JobSpec(job_id="j1", app="blender", scene=Path("P:/show/shot.blend"), frames=FrameRange.parse("1-3"),
                  chunk_size=3, assets_container="a", outputs_container="o", render=render or RenderOptions())
    inv = RenderInvocation(job=job, chunk=FrameChunk(frames), node_scene=scene, remap_script=remap,
                           output_dir=out, node_os=node_os)  # type: ignore[arg-type]
    return ADAPTER.command_line(inv)


def test_golden_windows_line() -> None:
    assert line_for() == (
        r'cmd /c "blender.exe -b "%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot.blend"'
        r' --python-exit-code 1 --python "%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py"'
        r' -o "%AZ_BATCH_TASK_WORKING_DIR%\out\shot_####" -F PNG -s 1 -e 3 -a"'
    )


def test_golden_windows_line_with_every_option() -> None:
    render = RenderOptions(camera="Cam side", renderer="cycles", width=1920, height=1080, threads=8, device="optix")
    line = line_for(render, frames=(1, 3))
    assert line == (
        r'cmd /c "blender.exe -b "%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot.blend" -E CYCLES -t 8'
        r' --python-exit-code 1 --python "%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py"'
        r' -o "%AZ_BATCH_TASK_WORKING_DIR%\out\shot_####" -F PNG -f 1,3'
        r' -- --cycles-device OPTIX --azrender-camera "Cam side" --azrender-width 1920 --azrender-height 1080"'
    )
    # What blender.exe receives once cmd has expanded the node's variables.
    assert run_under_cmd(line, NODE_ENV) == [
        "blender.exe", "-b", r"D:\batch\tasks\shared\assets\P\show\shot.blend", "-E", "CYCLES", "-t", "8",
        "--python-exit-code", "1", "--python", r"D:\batch\tasks\shared\jobs\j1\remap.py",
        "-o", r"D:\batch\wd\out\shot_####", "-F", "PNG", "-f", "1,3",
        "--", "--cycles-device", "OPTIX", "--azrender-camera", "Cam side",
        "--azrender-width", "1920", "--azrender-height", "1080",
    ]  # fmt: skip


def test_the_same_invocation_on_linux_is_the_bash_line() -> None:
    """node_os decides the form, whatever the paths look like."""
    line = line_for(scene="/show/a b.blend", remap="/jobs/j1/remap.py", out="/out", node_os="linux")
    assert line.startswith("/bin/bash -c 'blender -b '\\''/show/a b.blend'\\''")
    windows = line_for(scene=r"S:\show\a b.blend", remap=r"S:\jobs\remap.py", out=r"D:\out")
    assert windows.startswith('cmd /c "blender.exe -b "S:\\show\\a b.blend"')
    assert '-o "D:\\out\\a b_####"' in windows, "the stem comes from a Windows path on a Windows node"


@pytest.mark.parametrize("folder", [
    r"S:\Prüfung\日本語 シーン", r"S:\a & b (final)\x^y", "S:\\trailing\\",
])
def test_windows_quoting_spaces_unicode_and_cmd_characters(folder: str) -> None:
    scene = folder.rstrip("\\") + "\\shot 1.blend"
    line = line_for(scene=scene, remap=folder + "remap.py" if folder.endswith("\\") else folder, out=folder)
    argv = split_ucrt(cmd_c_payload(line))
    assert argv[argv.index("-b") + 1] == scene
    remap = argv[argv.index("--python") + 1]
    assert remap == (folder + "remap.py" if folder.endswith("\\") else folder)
    assert argv[argv.index("-o") + 1] == folder.rstrip("\\") + "\\shot 1_####"
    # Inside the Batch JSON the same line is escaped and comes back byte for byte.
    task = task_to_json(TaskSpec(task_id="frames-001", command_line=line, frames=(1, 2, 3)))
    assert json.loads(json.dumps(task))["command_line"] == line


def test_a_trailing_backslash_is_doubled_before_the_closing_quote() -> None:
    assert cmd_quote("S:\\out\\") == '"S:\\out\\\\"'
    line = line_for(remap="S:\\jobs\\")
    assert split_ucrt(cmd_c_payload(line))[5:7] == ["--python", "S:\\jobs\\"]


@pytest.mark.parametrize(("render", "scene", "message"), [
    (None, 'S:\\a "b".blend', "double quote"),
    (None, "S:\\a\nb.blend", "line break"),
    (RenderOptions(camera='Cam "1"'), SCENE, "double quote"),
    (RenderOptions(camera="Cam %USERNAME%"), SCENE, "% sign"),
    (RenderOptions(camera="%USERNAME%"), SCENE, "% sign"),
    # cmd.exe expands %NAME% (names may hold spaces) and, with delayed expansion on, !NAME!, inside quotes too.
    (None, "S:\\100% sure\\shot.blend", "% sign"),
    (None, "S:\\wow!\\shot.blend", "! sign"),
])
def test_what_cmd_cannot_pass_is_refused_in_one_line(render: RenderOptions | None, scene: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        line_for(render, scene=scene)
    assert "\n" not in str(info.value).replace(scene, "")


def test_a_percent_in_a_camera_name_is_fine_on_linux() -> None:
    line = line_for(RenderOptions(camera="Cam 100%"), scene="/s/a.blend", remap="/r.py", out="/o", node_os="linux")
    assert shlex.split(shlex.split(line)[2])[-2:] == ["--azrender-camera", "Cam 100%"]
