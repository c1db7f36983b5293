"""In-app collection (bpy.data) against the headless scanner (the .blend on disk): same answer.

In both Blender generations the extension runs in: bpy 5.0 (CPython 3.11,
Blender 4.2-5.0) and bpy 5.3 (CPython 3.13, Blender 5.1+), each collecting
scenes it saved itself.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from blender_helpers import Built, bpy_python, bpy_run, needs_bpy

from azrender_blender.scan import scan_blend

pytestmark = [needs_bpy, pytest.mark.bpy]

COLLECT = r"""
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
from azrender_blender.ui.collect import collect_scene
found = collect_scene()
print("AZR-COLLECT " + json.dumps({"assets": [a.to_json() for a in found.assets],
                                   "packed": found.packed_count}))
"""

# Add what the demo lacks: a sound (used by a strip and a datablock), an image
# strip, a mesh cache that does not exist, an external text (not a dependency).
EXTEND = r"""
import os, sys, wave, bpy
src, dest = sys.argv[-2:]
bpy.ops.wm.open_mainfile(filepath=src)
root = os.path.dirname(dest)
wav = os.path.join(root, "audio", "click.wav")
os.makedirs(os.path.dirname(wav))
with wave.open(wav, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(b"\0\0" * 800)
bpy.data.sounds.load(wav).use_fake_user = True
script = os.path.join(root, "setup_shot.py")
with open(script, "w") as f:
    f.write("print('hello')\n")
bpy.data.texts.load(script)
mod = bpy.data.objects["Wall"].modifiers.new("cache", "MESH_CACHE")
mod.filepath = os.path.join(root, "caches", "wall.pc2")
editor = bpy.context.scene.sequence_editor_create()
strips = editor.strips if hasattr(editor, "strips") else editor.sequences
strips.new_image("plate", os.path.join(root, "textures", "brick wall.png"), 1, 1)
strips.new_sound("click", wav, 2, 1)
bpy.ops.wm.save_as_mainfile(filepath=dest, relative_remap=True)
"""


BLENDERS = ["5.0", "5.3"]


def collect(blend: Path, version: str) -> dict[str, Any]:
    """``collect_scene()`` of ``blend`` as the extension runs it, inside bpy ``version``."""
    proc = bpy_run(COLLECT, str(blend), python=bpy_python(version))
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-COLLECT "))
    return dict(json.loads(line[len("AZR-COLLECT "):]))


def key(asset: dict[str, Any]) -> tuple[str, str, bool, str]:
    return (asset["path"], asset["kind"], asset["exists"], asset["referrer"])


@pytest.mark.parametrize("version", BLENDERS)
def test_demo_scene_gives_the_same_assets_and_referrers(demo_shot_by: Callable[[str], Path], version: str) -> None:
    scene = demo_shot_by(version) / "shot010.blend"
    in_app = collect(scene, version)
    headless = scan_blend(scene)

    assert in_app["assets"][0] == headless.assets[0].to_json()  # the scene itself, first
    assert sorted(map(key, in_app["assets"])) == sorted(key(a.to_json()) for a in headless.assets)
    assert in_app["packed"] == headless.packed_count == 0
    kinds = {a["kind"] for a in in_app["assets"]}
    assert kinds == {"scene", "texture", "library"}
    assert len(in_app["assets"]) == 9  # scene, brick, 2 UDIM tiles, 3 frames, library, its texture


@pytest.mark.parametrize("version", BLENDERS)
def test_sounds_strips_and_caches_agree_including_what_is_missing(
    demo_shot_by: Callable[[str], Path], tmp_path: Path, version: str
) -> None:
    shot = tmp_path / "shot010"
    shutil.copytree(demo_shot_by(version), shot)
    extended = shot / "extended.blend"
    bpy_run(EXTEND, str(shot / "shot010.blend"), str(extended), python=bpy_python(version))
    (shot / "textures" / "paint.1002.png").unlink()  # a UDIM tile gone after saving

    in_app = collect(extended, version)
    headless = scan_blend(extended)

    by_path = {a["path"]: (a["kind"], a["exists"]) for a in in_app["assets"]}
    assert by_path == {str(a.path): (a.kind.value, a.exists) for a in headless.assets}
    assert by_path[str(shot / "audio" / "click.wav")] == ("audio", True)
    assert by_path[str(shot / "caches" / "wall.pc2")] == ("cache", False)
    assert str(shot / "setup_shot.py") not in by_path
    assert str(shot / "textures" / "paint.1002.png") not in by_path  # gone from disk: not listed
    assert by_path[str(shot / "textures" / "paint.1001.png")] == ("texture", True)
    missing = sorted(a["path"] for a in in_app["assets"] if not a["exists"])
    assert missing == sorted(str(a.path) for a in headless.missing) == [str(shot / "caches" / "wall.pc2")]
    cache = next(a for a in in_app["assets"] if a["kind"] == "cache")
    assert cache["referrer"] == "Object 'Wall' modifier 0 (MeshCacheModifierData)"


@pytest.mark.parametrize("version", BLENDERS)
def test_library_udim_sequence_and_non_ascii_names_agree(matrix_shot: Callable[[str], Built], version: str) -> None:
    """The version-matrix shot (tests/blender/matrix_scene.py), collected in the Blender that saved it."""
    shot = matrix_shot(version)
    in_app = collect(shot.scene, version)
    headless = scan_blend(shot.scene)
    assert sorted(map(key, in_app["assets"])) == sorted(key(a.to_json()) for a in headless.assets)
    assert {Path(a["path"]) for a in in_app["assets"]} == {shot.scene, *shot.written}
    assert in_app["packed"] == headless.packed_count == 0
