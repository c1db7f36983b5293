"""RenderOptions on Blender: -E, -t and --cycles-device on the command line; camera and size via remap.

The last tests render the demo shot for real through the adapter's own bash
line (a ``blender`` shim that runs ``azrender-blender``): the override changes
the written image size, another camera gives another picture, and an unknown
camera fails the task with one line before anything renders.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from blender_helpers import RUNNER, needs_bpy

from azrender.apps import RenderInvocation
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec, RenderOptions
from azrender.paths import PathMap
from azrender_blender.adapter import BlenderAdapter, blender_engine, cycles_device
from azrender_blender.node.remap import RenderOverrides, render_overrides
from azrender_blender.node.runner import cycles_device_arg, main, parse_args

ADAPTER = BlenderAdapter()
SCENE = "$AZ_BATCH_NODE_SHARED_DIR/assets/show/shot010.blend"
REMAP = "$AZ_BATCH_NODE_SHARED_DIR/jobs/j/remap.py"


def line_for(render: RenderOptions, *, scene: str = SCENE, remap: str = REMAP, frames: tuple[int, ...] = (1,),
             out: str = "$AZ_BATCH_TASK_WORKING_DIR/out") -> str:
    job = JobSpec(job_id="j", app="blender", scene=Path("/show/shot010.blend"), frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container="a", outputs_container="o", render=render)
    inv = RenderInvocation(job=job, chunk=FrameChunk(frames), node_scene=scene, remap_script=remap, output_dir=out)
    return ADAPTER.command_line(inv)


def argv_of(line: str) -> list[str]:
    outer = shlex.split(line)
    assert outer[:2] == ["/bin/bash", "-c"] and len(outer) == 3
    return shlex.split(outer[2])


def test_golden_line_with_every_option() -> None:
    render = RenderOptions(camera="Cam 'side'", renderer="cycles", width=1920, height=1080, threads=8, device="optix")
    assert argv_of(line_for(render, frames=(1, 2))) == [
        "blender", "-b", SCENE, "-E", "CYCLES", "-t", "8",
        "--python-exit-code", "1", "--python", REMAP,
        "-o", "$AZ_BATCH_TASK_WORKING_DIR/out/shot010_####", "-F", "PNG", "-s", "1", "-e", "2", "-a",
        "--", "--cycles-device", "OPTIX",
        "--azrender-camera", "Cam 'side'", "--azrender-width", "1920", "--azrender-height", "1080",
    ]  # fmt: skip


def test_no_options_no_extra_words() -> None:
    argv = argv_of(line_for(RenderOptions()))
    assert "--" not in argv and "-E" not in argv and "-t" not in argv


def test_threads_zero_means_all_cores_and_engine_alone() -> None:
    argv = argv_of(line_for(RenderOptions(renderer="eevee", threads=0)))
    assert argv[3:7] == ["-E", "BLENDER_EEVEE", "-t", "0"] and "--" not in argv


@pytest.mark.parametrize(
    ("given", "engine"),
    [("cycles", "CYCLES"), ("EEVEE", "BLENDER_EEVEE"), ("BLENDER_EEVEE_NEXT", "BLENDER_EEVEE_NEXT"),
     ("workbench", "BLENDER_WORKBENCH"), ("octane", "OCTANE")],
)
def test_engine_names(given: str, engine: str) -> None:
    assert blender_engine(given) == engine


@pytest.mark.parametrize(("given", "device"), [("cpu", "CPU"), ("CUDA", "CUDA"), ("hip+cpu", "HIP+CPU"),
                                               ("metal", "METAL"), ("oneapi", "ONEAPI")])
def test_cycles_devices(given: str, device: str) -> None:
    assert cycles_device(given) == device


@pytest.mark.parametrize(
    ("render", "message"),
    [
        (RenderOptions(device="vulkan"), "Cycles cannot render on device 'vulkan'"),
        (RenderOptions(device="CPU+CPU"), "Cycles cannot render on device"),
        (RenderOptions(renderer="eevee", device="CUDA"), "is a Cycles setting, but the engine is BLENDER_EEVEE"),
        (RenderOptions(renderer="my engine!"), "is not a Blender render engine name"),
        (RenderOptions(width=2, height=100), "4 to 65536 pixels a side, not 2"),
        (RenderOptions(threads=-1), "0 (all) or more"),
    ],
)
def test_bad_options_are_one_line_errors(render: RenderOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        line_for(render)


def test_overrides_need_the_remap_script() -> None:
    with pytest.raises(UsageError, match="needs the job's remap script"):
        line_for(RenderOptions(camera="C"), remap="")
    # A device alone is Cycles' business and needs no script.
    assert argv_of(line_for(RenderOptions(device="CPU"), remap=""))[-3:] == ["--", "--cycles-device", "CPU"]


def test_remap_reads_only_its_words_after_the_separator() -> None:
    argv = argv_of(line_for(RenderOptions(camera="Cam 2", width=640, device="CPU")))
    assert render_overrides(argv) == RenderOverrides(camera="Cam 2", width=640, height=None)
    assert render_overrides(argv[: argv.index("--")]) == RenderOverrides()
    with pytest.raises(RuntimeError, match="--azrender-height 'big' is not a whole number"):
        render_overrides(["blender", "--", "--azrender-height", "big"])


def test_runner_accepts_the_new_words() -> None:
    argv = argv_of(line_for(RenderOptions(renderer="cycles", threads=2, device="CPU", camera="C", height=90)))
    plan = parse_args(argv[1:])
    kinds = [a.kind for a in plan.actions]
    assert kinds[:4] == ["background", "load", "engine", "threads"]
    assert cycles_device_arg(plan.script_args) == "CPU"
    assert plan.script_args[2:] == ["--azrender-camera", "C", "--azrender-height", "90"]


# --- real renders ---------------------------------------------------------------


def _node(tmp_path: Path) -> dict[str, str]:
    """A node: ``blender`` on PATH runs azrender-blender; the job's remap script in the shared folder."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "blender").write_text(f'#!/bin/bash\nexec {shlex.quote(str(RUNNER))} "$@"\n')
    (shim / "blender").chmod(0o755)
    shared = tmp_path / "shared"
    (shared / "jobs" / "j").mkdir(parents=True, exist_ok=True)
    script = ADAPTER.remap_script(PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets"))
    (shared / "jobs" / "j" / "remap.py").write_text(script)
    return {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "AZ_BATCH_NODE_SHARED_DIR": str(shared),
            "AZ_BATCH_TASK_WORKING_DIR": str(tmp_path / "wd")}


def _render(demo: Path, tmp_path: Path, render: RenderOptions, name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    env = _node(tmp_path)
    line = line_for(render, scene=str(demo / "shot010.blend"), out=f"$AZ_BATCH_TASK_WORKING_DIR/{name}")
    proc = subprocess.run(shlex.split(line), env=env, capture_output=True, text=True, timeout=240, check=False)
    return proc, tmp_path / "wd" / name / "shot010_0001.png"


@needs_bpy
@pytest.mark.bpy
@pytest.mark.slow
def test_camera_and_resolution_overrides_render_for_real(demo_scene_dir: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageChops, ImageStat

    base = RenderOptions(renderer="cycles", threads=2, device="CPU", width=160, height=96)
    proc, front = _render(demo_scene_dir, tmp_path, base, "front")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Cycles device override: CPU" in proc.stdout
    proc, side = _render(demo_scene_dir, tmp_path, RenderOptions(camera="CameraSide", width=160, height=96), "side")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "azrender: rendering through camera 'CameraSide'" in proc.stdout
    with Image.open(front) as a, Image.open(side) as b:
        assert a.size == b.size == (160, 96), "the saved size is 320x180; the override wins"
        diff = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean
        assert sum(diff) / 3 > 10, "another camera, another picture"


@needs_bpy
@pytest.mark.bpy
def test_unknown_camera_fails_the_task_in_one_line(demo_scene_dir: Path, tmp_path: Path) -> None:
    proc, frame = _render(demo_scene_dir, tmp_path, RenderOptions(camera="Nope"), "bad")
    assert proc.returncode == 1
    reason = [ln for ln in proc.stderr.splitlines() if ln.startswith("azrender-blender: error:")]
    assert len(reason) == 1
    assert "scene 'shot010' has no camera named 'Nope' (cameras: Camera, CameraSide)" in reason[0]
    assert not frame.exists() and "Saved:" not in proc.stdout


@needs_bpy
@pytest.mark.bpy
def test_unknown_cycles_device_exits_1(demo_scene_dir: Path) -> None:
    assert main(["-b", str(demo_scene_dir / "shot010.blend"), "--", "--cycles-device", "VULKAN"]) == 1
