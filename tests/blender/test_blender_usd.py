"""A .blend's USD cache file (CacheFile datablock on a MeshSequenceCache) is followed through its layers.

The .blend is saved by real Blender (bpy, ``bpy.ops.cachefile.open``); the stage by Pixar's
usd-core, whose ``UsdUtils.ComputeAllDependencies`` is the list the scan must contain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from blender_helpers import bpy_run, needs_bpy

from azrender_blender.scan import scan_blend

_SAVE = r"""
import sys, bpy
stage, blend = sys.argv[-2:]
bpy.ops.wm.read_factory_settings(use_empty=True)
assert bpy.ops.cachefile.open(filepath=stage) == {"FINISHED"}
mesh = bpy.data.meshes.new("pot")
obj = bpy.data.objects.new("pot", mesh)
bpy.context.scene.collection.objects.link(obj)
obj.modifiers.new("cache", "MESH_SEQUENCE_CACHE").cache_file = bpy.data.cache_files[0]
bpy.ops.wm.save_as_mainfile(filepath=blend)
"""



@needs_bpy
def test_usd_cache_file_stage_is_followed(pxr: Any, tmp_path: Path) -> None:
    Sdf, Usd, UsdShade = pxr.Sdf, pxr.Usd, pxr.UsdShade
    caches = tmp_path / "caches"
    (caches / "tex").mkdir(parents=True)
    (caches / "tex" / "pot_diffuse.png").write_bytes(b"x")
    anim = Usd.Stage.CreateNew(str(caches / "pot_anim.usdc"))
    anim.DefinePrim("/Pot")
    anim.GetRootLayer().Save()
    stage = Usd.Stage.CreateNew(str(caches / "pot.usda"))
    stage.GetRootLayer().subLayerPaths.append("./pot_anim.usdc")
    stage.DefinePrim("/Pot").GetReferences().AddReference("./pot_rig_gone.usda")
    shader = UsdShade.Shader.Define(stage, "/Looks/tex")
    shader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("./tex/pot_diffuse.png")
    stage.GetRootLayer().Save()
    blend = tmp_path / "shot.blend"
    bpy_run(_SAVE, str(caches / "pot.usda"), str(blend))

    result = scan_blend(blend)
    layers, assets, unresolved = pxr.UsdUtils.ComputeAllDependencies(str(caches / "pot.usda"))
    truth = {Path(layer.realPath) for layer in layers} | {Path(a) for a in assets}
    assert {a.path for a in result.present} == truth | {blend}
    assert [a.path.name for a in result.missing] == [Path(u).name for u in unresolved] == ["pot_rig_gone.usda"]
    assert result.missing[0].referrer == f"USD layer {caches / 'pot.usda'}: references"
    assert result.warnings == []
