"""`azrender submit` without --frames renders the range saved in the scene (Blender, Maya, 3ds Max).

Each case goes through the real command line (``--dry-run --json``) and checks
the planned tasks' frames; the per-adapter reads are checked against the
values written into the file (and, for Blender, against bpy in
tests/blender/test_scene_frames.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from azrender.apps import AppAdapter, frames_between
from azrender.errors import SceneError, UsageError
from azrender.submit import default_frames
from azrender_max.adapter import MaxAdapter
from azrender_max.assetmeta import AssetRecord
from azrender_maya.adapter import MayaAdapter

# cfb_writer and asset_stream_writer build .max test scenes; they live with the 3ds Max tests.
sys.path.insert(0, str(Path(__file__).parent / "max"))
from asset_stream_writer import encode_asset_stream
from cfb_writer import compound_file, doc_summary

MAYA_REAL = "Autodesk__maya-usd/test/testSamples/MaterialX/OpenPBRShowcase.ma"
MAX_REAL = "BabylonJS__Exporters/3ds Max/Samples/sourceModels/SmilingFace/SmilingFace.max"
PRESET = 'name = "frames"\n[backend]\nkind = "local"\n[render]\nchunk = 2\nformat = "PNG"\n'

HAVE_BPY = importlib.util.find_spec("bpy") is not None

# A bpy-made scene whose range and step differ from Blender's defaults (1-250).
MAKE_BLEND = r"""
import sys, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.frame_start, scene.frame_end, scene.frame_step = 10, 20, 3
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1])
"""


def submit(scene: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    return subprocess.run(
        [sys.executable, "-m", "azrender.cli", "submit", str(scene), "--preset", str(preset),
         "--dry-run", "--json", *extra],
        capture_output=True, text=True, timeout=120, env={**os.environ}, check=False,
    )  # fmt: skip


def task_frames(proc: subprocess.CompletedProcess[str]) -> list[list[int]]:
    assert proc.returncode == 0, proc.stderr
    return [t["frames"] for t in json.loads(proc.stdout)["job"]["tasks"]]


def write_max(path: Path, render: list[str] | None) -> Path:
    """A .max with one bitmap record; ``render`` is its summary's Render Data (None: no summary)."""
    record = AssetRecord(uuid.uuid4(), "Bitmap", "a.png", "")
    streams = {"FileAssetMetaData3": encode_asset_stream([record], 3), "Scene": b"\x00" * 5000}
    if render is not None:
        groups = {"General": ["3ds Max Version: 26,00"], "Render Data": render}
        streams["\x05DocumentSummaryInformation"] = doc_summary(groups)
    path.write_bytes(compound_file(streams))
    return path


# -- through the command line --------------------------------------------------------


@pytest.mark.skipif(not HAVE_BPY, reason="bpy (Blender as a module) is not installed")
def test_blend_without_frames_renders_its_saved_range(tmp_path: Path) -> None:
    scene = tmp_path / "shot.blend"
    made = subprocess.run([sys.executable, "-c", MAKE_BLEND, str(scene)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr[-2000:]
    # 10-20 every 3rd frame, in tasks of two (the preset's chunk).
    assert task_frames(submit(scene, tmp_path)) == [[10, 13], [16, 19]]
    # --frames still wins over the scene.
    assert task_frames(submit(scene, tmp_path, "--frames", "5")) == [[5]]


def test_real_ma_without_frames_renders_its_render_range(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / MAYA_REAL
    # The file sets no render range, so Maya's own default 1-10 applies (not the 1-120 playback range).
    assert "playbackOptions -min 1 -max 120" in scene.read_text(encoding="utf-8", errors="replace")
    assert task_frames(submit(scene, tmp_path)) == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]


def test_real_max_without_frames_renders_its_time_segment(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / MAX_REAL
    # Its summary says Animation Start=0, Animation End=0: the single frame 0.
    assert task_frames(submit(scene, tmp_path)) == [[0]]


def test_max_with_a_saved_range(tmp_path: Path) -> None:
    scene = write_max(tmp_path / "anim.max", ["Animation Start=100", "Animation End=103"])
    assert task_frames(submit(scene, tmp_path)) == [[100, 101], [102, 103]]


def test_scene_that_does_not_say_is_one_line_asking_for_frames(tmp_path: Path) -> None:
    scene = write_max(tmp_path / "nosummary.max", None)
    proc = submit(scene, tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"give --frames: {scene} does not say which frames to render" in lines[0]
    # With --frames the same scene submits.
    assert task_frames(submit(scene, tmp_path, "--frames", "1-3")) == [[1, 2], [3]]


def test_missing_scene_without_frames_names_the_scene(tmp_path: Path) -> None:
    proc = submit(tmp_path / "gone.ma", tmp_path)
    assert proc.returncode != 0 and "scene not found" in proc.stderr and "gone.ma" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# -- per adapter --------------------------------------------------------------------


def test_frames_between() -> None:
    assert frames_between(1, 250).spec == "1-250" and len(frames_between(1, 250)) == 250
    assert frames_between(10, 20, 3).frames == (10, 13, 16, 19)
    assert frames_between(-3, 1).frames == (-3, -2, -1, 0, 1)
    assert frames_between(7, 7).frames == (7,) and frames_between(9, 4).frames == (9,)
    assert frames_between(1, 3, 0).frames == (1, 2, 3)


def test_maya_scene_frames_from_render_globals(tmp_path: Path) -> None:
    scene = tmp_path / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\ncurrentUnit -t film;\n'
        'select -ne :defaultRenderGlobals;\n\tsetAttr ".fs" 101;\n\tsetAttr ".ef" 111;\n'
        '\tsetAttr ".bfs" 5;\n'
    )
    adapter = MayaAdapter()
    assert isinstance(adapter, AppAdapter)
    frames = adapter.scene_frames(scene)
    assert frames.spec == "101-111x5" and frames.frames == (101, 106, 111)
    bare = tmp_path / "bare.ma"
    bare.write_text('//Maya ASCII 2024 scene\nrequires maya "2024";\n')
    assert adapter.scene_frames(bare).frames == tuple(range(1, 11))  # Maya's default range


def test_maya_scene_frames_real(real_fixtures: Path) -> None:
    scene = real_fixtures / MAYA_REAL
    assert MayaAdapter().scene_frames(scene).spec == MayaAdapter().scene_settings(scene).frame_spec == "1-10"


def test_max_scene_frames(real_fixtures: Path, tmp_path: Path) -> None:
    adapter = MaxAdapter()
    assert adapter.scene_frames(real_fixtures / MAX_REAL).frames == (0,)  # type: ignore[union-attr]
    ranged = write_max(tmp_path / "r.max", ["Animation Start=-2", "Animation End=2"])
    assert adapter.scene_frames(ranged).frames == (-2, -1, 0, 1, 2)  # type: ignore[union-attr]
    assert adapter.scene_frames(write_max(tmp_path / "n.max", None)) is None
    # A summary without the time segment (an older writer) does not say either.
    assert adapter.scene_frames(write_max(tmp_path / "w.max", ["Render Width=640"])) is None


def test_default_frames_errors(tmp_path: Path) -> None:
    none = write_max(tmp_path / "n.max", None)
    with pytest.raises(UsageError, match=r"give --frames: .*n\.max does not say which frames to render"):
        default_frames(none)
    with pytest.raises(SceneError, match="scene not found"):
        default_frames(tmp_path / "absent.blend")
    broken = tmp_path / "broken.ma"
    broken.write_bytes(b"\x00\x01 not maya")
    with pytest.raises(SceneError):
        default_frames(broken)
    other = tmp_path / "shot.txt"
    other.write_text("x")
    with pytest.raises(UsageError, match="no installed application handles"):
        default_frames(other)
