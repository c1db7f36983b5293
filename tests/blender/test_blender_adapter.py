"""BlenderAdapter: command lines as Blender and bash read them, formats, remap script."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from azrender.apps import AppAdapter, RenderInvocation
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec
from azrender.paths import PathMap
from azrender_blender.adapter import BlenderAdapter, blender_format

ADAPTER = BlenderAdapter()


def invocation(
    frames: tuple[int, ...],
    *,
    scene: str = "$AZ_BATCH_NODE_SHARED_DIR/assets/mnt/show/shot 010/shot010.blend",
    remap: str = "$AZ_BATCH_TASK_WORKING_DIR/azrender_remap.py",
    out: str = "$AZ_BATCH_TASK_WORKING_DIR/out",
    fmt: str = "PNG",
) -> RenderInvocation:
    job = JobSpec(
        job_id="job1",
        app="blender",
        scene=Path("/mnt/show/shot 010/shot010.blend"),
        frames=FrameRange.parse("1-10"),
        chunk_size=5,
        assets_container="assets",
        outputs_container="outputs",
        output_format=fmt,
    )
    return RenderInvocation(job=job, chunk=FrameChunk(frames), node_scene=scene, remap_script=remap, output_dir=out)


def inner_argv(line: str) -> list[str]:
    """The argv bash would run: split the outer line, then the -c string (vars unexpanded)."""
    outer = shlex.split(line)
    assert outer[:2] == ["/bin/bash", "-c"] and len(outer) == 3
    return shlex.split(outer[2])


def test_is_an_app_adapter() -> None:
    assert isinstance(ADAPTER, AppAdapter)
    assert ADAPTER.name == "blender" and ADAPTER.suffixes == (".blend",)


def test_contiguous_chunk_uses_start_end_anim() -> None:
    line = ADAPTER.command_line(invocation((1, 2, 3, 4, 5)))
    assert line == (
        "/bin/bash -c 'blender -b \"$AZ_BATCH_NODE_SHARED_DIR\"'\\''/assets/mnt/show/shot 010/shot010.blend'\\''"
        " --python-exit-code 1 --python \"$AZ_BATCH_TASK_WORKING_DIR\"'\\''/azrender_remap.py'\\''"
        " -o \"$AZ_BATCH_TASK_WORKING_DIR\"'\\''/out/shot010_####'\\'' -F PNG -s 1 -e 5 -a'"
    )
    argv = inner_argv(line)
    assert argv[argv.index("-b") + 1] == "$AZ_BATCH_NODE_SHARED_DIR/assets/mnt/show/shot 010/shot010.blend"
    # Blender applies arguments in order: output and format before rendering.
    assert argv.index("-o") < argv.index("-a") and argv.index("-F") < argv.index("-s")
    assert argv[-5:] == ["-s", "1", "-e", "5", "-a"]


@pytest.mark.parametrize(
    ("frames", "tail"),
    [
        ((1, 3, 7), ["-f", "1,3,7"]),
        ((10, 9, 8), ["-f", "10,9,8"]),
        ((42,), ["-f", "42"]),
        ((0, 1), ["-s", "0", "-e", "1", "-a"]),
    ],
)
def test_frame_arguments(frames: tuple[int, ...], tail: list[str]) -> None:
    assert inner_argv(ADAPTER.command_line(invocation(frames)))[-len(tail) :] == tail


def test_negative_frames_are_refused() -> None:
    with pytest.raises(UsageError, match="negative frame -1"):
        ADAPTER.command_line(invocation((-1, 0)))


def test_awkward_paths_survive_bash_quoting() -> None:
    # (Backticks are checked with real bash below: shlex does not know bash's \`.)
    scene = '/node/a "quoted" dir/it\'s $HOME \\back/shot#1.blend'
    line = ADAPTER.command_line(invocation((1,), scene=scene, remap="", out="/out dir"))
    argv = inner_argv(line)
    # Inside the double quotes bash still sees the escapes; shlex mirrors that.
    assert argv[argv.index("-b") + 1] == scene
    assert "--python" not in argv, "no remap script, no --python"
    # '#' is Blender's frame placeholder: it must not leak from the scene name.
    assert argv[argv.index("-o") + 1] == "/out dir/shot_1_####"


def test_bash_expands_variables_but_nothing_else(tmp_path: Path) -> None:
    """Run the real line through bash with an `echo` blender: $VARS expand, quotes hold."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "blender").write_text('#!/bin/bash\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    (fake / "blender").chmod(0o755)
    scene = '$AZ_BATCH_NODE_SHARED_DIR/assets/it\'s "q" `not run` \\ x.blend'
    line = ADAPTER.command_line(invocation((2, 4), scene=scene))
    env = {
        "PATH": f"{fake}:/usr/bin:/bin",
        "AZ_BATCH_NODE_SHARED_DIR": "/shared dir",
        "AZ_BATCH_TASK_WORKING_DIR": "/wd",
    }
    argv = shlex.split(line)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [
        "-b",
        '/shared dir/assets/it\'s "q" `not run` \\ x.blend',
        "--python-exit-code",
        "1",
        "--python",
        "/wd/azrender_remap.py",
        "-o",
        "/wd/out/it's \"q\" `not run` \\ x_####",
        "-F",
        "PNG",
        "-f",
        "2,4",
    ]


@pytest.mark.parametrize(
    ("given", "blender"),
    [("PNG", "PNG"), ("png", "PNG"), ("OPEN_EXR", "OPEN_EXR"), ("exr", "OPEN_EXR"), ("JPEG", "JPEG"),
     ("jpg", "JPEG"), ("TIFF", "TIFF"), ("multilayer", "OPEN_EXR_MULTILAYER")],
)
def test_output_formats(given: str, blender: str) -> None:
    assert blender_format(given) == blender
    argv = inner_argv(ADAPTER.command_line(invocation((1,), fmt=given)))
    assert argv[argv.index("-F") + 1] == blender


def test_unknown_format() -> None:
    with pytest.raises(UsageError, match="cannot write output format 'GIF'"):
        blender_format("GIF")


def test_output_pattern_matches_frames() -> None:
    import fnmatch

    pattern = ADAPTER.output_pattern()
    assert fnmatch.fnmatch("shot010_0001.png", pattern)
    assert fnmatch.fnmatch("shot 010_12345.exr", pattern)
    assert not fnmatch.fnmatch("shot010.blend", pattern)
    assert not fnmatch.fnmatch("stdout.txt", pattern)


def test_remap_script_embeds_the_mapping(tmp_path: Path) -> None:
    source = ADAPTER.remap_script(PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets"))
    compile(source, "azrender_remap.py", "exec")
    assert "import azrender" not in source and "from azrender" not in source
    # Importing it (not as __main__) must not need bpy and must expose the config.
    namespace: dict[str, object] = {"__name__": "azrender_remap"}
    exec(compile(source, "azrender_remap.py", "exec"), namespace)
    import json

    config = json.loads(str(namespace["AZRENDER_CONFIG"]))
    assert config == {"mirror_root": "$AZ_BATCH_NODE_SHARED_DIR/assets", "node_os": "linux", "version": 1}
    remap_path = namespace["remap_path"]
    assert remap_path("/mnt/a.png", "/n") == "/n/mnt/a.png"  # type: ignore[operator]
