"""BlenderAdapter.scene_frames reads the current scene's range headless, as real Blender sees it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from blender_helpers import bpy_run, needs_bpy

from azrender.errors import SceneError
from azrender_blender.adapter import BlenderAdapter, blend_frames

ADAPTER = BlenderAdapter()

# What Blender renders with `blender -b file -a`: the context scene after loading.
GROUND_TRUTH = r"""
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
s = bpy.context.scene
print("AZR-GT " + json.dumps([s.name, s.frame_start, s.frame_end, s.frame_step]))
"""

# Two scenes; the window shows the second, whose range and step are not the defaults.
TWO_SCENES = r"""
import sys, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
first = bpy.context.scene
first.frame_start, first.frame_end = 1, 250
second = bpy.data.scenes.new("Second")
second.frame_start, second.frame_end, second.frame_step = 12, 40, 7
bpy.context.window.scene = second
bpy.context.preferences.filepaths.use_file_compression = sys.argv[-2] == "compress"
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1], compress=sys.argv[-2] == "compress")
"""


def bpy_frames(blend: Path) -> tuple[int, ...]:
    proc = bpy_run(GROUND_TRUTH, str(blend))
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-GT "))
    _, start, end, step = json.loads(line[len("AZR-GT ") :])
    return tuple(range(start, end + 1, step))


@needs_bpy
def test_demo_scene_matches_blender(demo_scene_dir: Path) -> None:
    blend = demo_scene_dir / "shot010.blend"
    frames = ADAPTER.scene_frames(blend)
    assert frames is not None and frames.spec == "1-4"
    assert frames.frames == bpy_frames(blend) == (1, 2, 3, 4)


@needs_bpy
@pytest.mark.parametrize("compress", ["plain", "compress"])
def test_current_scene_of_several_matches_blender(tmp_path: Path, compress: str) -> None:
    blend = tmp_path / f"two_{compress}.blend"
    bpy_run(TWO_SCENES, compress, str(blend))
    if compress == "compress":
        assert blend.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd: read through BAT's decompression
    frames = ADAPTER.scene_frames(blend)
    assert frames is not None and frames.spec == "12-40x7"
    assert frames.frames == bpy_frames(blend) == (12, 19, 26, 33, 40)


@needs_bpy
@pytest.mark.parametrize(
    "name", ["alembic-sequence-source.blend", "ocean_modifier.blend", "with_sequencer.blend", "basic_file.blend"]
)
def test_real_blend_files_match_blender(blendfiles: Path, name: str) -> None:
    blend = blendfiles / name
    frames = blend_frames(blend)
    assert frames is not None and frames.frames == bpy_frames(blend)


def test_unreadable_blend_is_a_scene_error(blendfiles: Path, tmp_path: Path) -> None:
    with pytest.raises(SceneError, match=r"corrupt_only_magic\.blend is not a readable \.blend"):
        ADAPTER.scene_frames(blendfiles / "corrupt_only_magic.blend")
    with pytest.raises(SceneError, match="does not exist"):
        ADAPTER.scene_frames(tmp_path / "nope.blend")
    truncated = tmp_path / "cut.blend"
    truncated.write_bytes((blendfiles / "basic_file.blend").read_bytes()[:3000])
    with pytest.raises(SceneError, match=r"cut\.blend is not a readable \.blend"):
        ADAPTER.scene_frames(truncated)
