"""azrender-blender: Blender's command line on top of bpy, rendering the demo shot for real."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from blender_helpers import RUNNER, bpy_run, needs_bpy

from azrender.apps import RenderInvocation
from azrender.model import FrameChunk, FrameRange, JobSpec
from azrender.paths import PathMap, mirror_key
from azrender_blender.adapter import BlenderAdapter
from azrender_blender.node.runner import Action, RunnerError, expand_frames, main, parse_args


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUNNER), *args], capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, **(env or {})},
    )


def image_stats(path: Path) -> tuple[int, float, float]:
    """(distinct colours, pixel std-dev, share of magenta pixels) of a rendered frame.

    Blender shades missing textures magenta; after lighting and the view
    transform that is a pink with red and blue well above green, not (255, 0, 255).
    """
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        colours = len(rgb.getcolors(maxcolors=1 << 20) or [])
        spread = sum(ImageStat.Stat(rgb).stddev) / 3
        flat = getattr(rgb, "get_flattened_data", rgb.getdata)  # Pillow 12 renamed it
        pixels = list(flat())
    magenta = sum(1 for r, g, b in pixels if r > g + 50 and b > g + 50 and abs(r - b) < 40)
    return colours, spread, magenta / len(pixels)


# --- argument handling (no Blender needed) -----------------------------------

def test_parse_in_order_and_script_args() -> None:
    plan = parse_args(["-b", "s.blend", "--python", "x.py", "-o", "/o/f_####", "-F", "PNG",
                       "-s", "2", "-e", "+3", "-j", "2", "-a", "-noaudio", "--", "--mine", "-f"])
    assert [a.kind for a in plan.actions] == [
        "background", "load", "python", "output", "format", "frame_start", "frame_end",
        "frame_jump", "render_anim", "noop",
    ]
    assert plan.actions[1] == Action("load", "s.blend")
    assert plan.script_args == ["--mine", "-f"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-b", "s.blend", "--cycles-device", "CUDA"], "unsupported argument '--cycles-device'"),
        (["-b", "s.blend", "-f"], "-f needs a value"),
        (["-b", "s.blend", "-f", "1-3"], "expected frames like"),
        (["-b", "s.blend", "-F", "GIF"], "-F 'GIF': unknown format"),
        (["-b", "s.blend", "-E", "LUXCORE"], "unknown engine"),
        (["-b", "s.blend", "-t", "many"], "not a whole number"),
        ([], "nothing to do"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("azrender-blender: error:")


def test_expand_frames() -> None:
    assert expand_frames("1,3,7", 1, 10) == [1, 3, 7]
    assert expand_frames("5..8", 1, 10) == [5, 6, 7, 8]
    assert expand_frames("3..1", 1, 10) == [3, 2, 1]
    assert expand_frames("+0,+2,-0,-1", 5, 20) == [5, 7, 20, 19]


def test_runner_error_carries_exit_code() -> None:
    assert RunnerError("x", 5).exit_code == 5


# --- with Blender -------------------------------------------------------------

@needs_bpy
@pytest.mark.bpy
def test_missing_scene_fails(tmp_path: Path) -> None:
    proc = run("-b", str(tmp_path / "nope.blend"), "-f", "1")
    assert proc.returncode == 1
    assert "cannot read file" in proc.stderr and "nope.blend" in proc.stderr


@needs_bpy
@pytest.mark.bpy
def test_python_script_sees_blender_argv_and_file(demo_scene_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    report = tmp_path / "report.json"
    script.write_text(
        "import bpy, json, sys\n"
        "args = sys.argv[sys.argv.index('--') + 1:]\n"
        "json.dump({'file': __file__, 'args': args, 'name': __name__,"
        " 'scene': bpy.data.filepath}, open(args[0], 'w'))\n"
    )
    proc = run("-b", str(demo_scene_dir / "shot010.blend"), "--python", str(script), "--", str(report), "x y")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data == {
        "file": str(script), "args": [str(report), "x y"], "name": "__main__",
        "scene": str(demo_scene_dir / "shot010.blend"),
    }


@needs_bpy
@pytest.mark.bpy
def test_python_exit_code(demo_scene_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("raise ValueError('remap exploded')\n")
    scene = str(demo_scene_dir / "shot010.blend")
    # Like Blender: a failing script is printed and ignored ...
    assert run("-b", scene, "--python", str(bad)).returncode == 0
    # ... unless --python-exit-code says otherwise (our command lines do).
    proc = run("-b", scene, "--python-exit-code", "3", "--python", str(bad), "-f", "1")
    assert proc.returncode == 3
    assert "remap exploded" in proc.stderr and "Saved:" not in proc.stdout


@needs_bpy
@pytest.mark.bpy
@pytest.mark.slow
def test_render_frame_is_a_real_picture(demo_scene_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out dir"
    proc = run("-b", str(demo_scene_dir / "shot010.blend"), "-o", f"{out}/shot010_####", "-F", "PNG",
               "-t", "2", "-f", "1")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    frame = out / "shot010_0001.png"
    assert f"Saved: '{frame}'" in proc.stdout.splitlines()
    assert sorted(p.name for p in out.iterdir()) == ["shot010_0001.png"]
    colours, spread, magenta = image_stats(frame)
    assert colours > 500 and spread > 20, "a textured shot, not a flat or blank frame"
    assert magenta < 0.2, "the demo's own pinks stay well below a missing-texture frame"


@needs_bpy
@pytest.mark.bpy
@pytest.mark.slow
def test_render_anim_with_start_end_jump(demo_scene_dir: Path, tmp_path: Path) -> None:
    proc = run("-b", str(demo_scene_dir / "shot010.blend"), "-o", f"{tmp_path}/f_", "-F", "JPEG",
               "-s", "2", "-e", "4", "-j", "2", "-a")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # No '#' in -o: Blender appends the frame number, as here.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f_0002.jpg", "f_0004.jpg"]


_MAKE_ABSOLUTE = r"""
import sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-2])
bpy.ops.file.make_paths_absolute()
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1], relative_remap=False)
"""


@needs_bpy
@pytest.mark.bpy
@pytest.mark.slow
def test_adapter_command_line_renders_from_the_node_mirror(demo_scene_dir: Path, tmp_path: Path) -> None:
    """The whole node path: bash line, $VARS, remap script, mirrored tree only, real render.

    The artist's copy stores absolute paths (library, brick, UDIM, sequence) and
    is moved away before rendering, so only a working remap finds the textures.
    """
    artist = tmp_path / "artist" / "show 1"
    shutil.copytree(demo_scene_dir, artist)
    bpy_run(_MAKE_ABSOLUTE, str(artist / "shot010.blend"), str(artist / "shot010_abs.blend"))

    shared = tmp_path / "node shared"
    mirror = shared / "assets"
    shutil.copytree(artist, mirror / mirror_key(artist))
    artist.rename(tmp_path / "artist" / "moved away")

    wd = tmp_path / "wd"
    wd.mkdir()
    adapter = BlenderAdapter()
    pathmap = PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets")
    (wd / "azrender_remap.py").write_text(adapter.remap_script(pathmap))
    job = JobSpec(job_id="j", app="blender", scene=artist / "shot010_abs.blend", frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container="a", outputs_container="o")
    node_scene = pathmap.to_node(artist / "shot010_abs.blend")

    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "blender").write_text(f'#!/bin/bash\nexec {shlex.quote(str(RUNNER))} "$@"\n')
    (shim / "blender").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}",
           "AZ_BATCH_NODE_SHARED_DIR": str(shared), "AZ_BATCH_TASK_WORKING_DIR": str(wd)}

    def render(remap: str, out: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        inv = RenderInvocation(job=job, chunk=FrameChunk((1,)), node_scene=node_scene, remap_script=remap,
                               output_dir=f"$AZ_BATCH_TASK_WORKING_DIR/{out}")
        line = adapter.command_line(inv)
        proc = subprocess.run(shlex.split(line), env=env, capture_output=True, text=True, timeout=180, check=False)
        return proc, wd / out / "shot010_abs_0001.png"

    # Control: without the remap the absolute paths point at the moved-away tree.
    proc, frame = render("", "plain")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert image_stats(frame)[2] > 0.6, "missing textures render magenta"

    proc, frame = render("$AZ_BATCH_TASK_WORKING_DIR/azrender_remap.py", "remapped")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rewrites = [ln for ln in proc.stdout.splitlines() if ln.startswith("azrender remap: ") and " -> " in ln]
    assert {ln.split(":")[1].strip() for ln in rewrites} == {
        "Library 'prop.blend'", "Image 'brick wall'", "Image 'paint'", "Image 'flicker'",
    }
    assert all(f" -> {mirror}/" in ln for ln in rewrites)
    colours, spread, magenta = image_stats(frame)
    assert magenta < 0.2 and colours > 500 and spread > 20


def test_main_module_entry() -> None:
    proc = subprocess.run([sys.executable, "-m", "azrender_blender.node.runner", "--bogus"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2 and "unsupported argument '--bogus'" in proc.stderr
