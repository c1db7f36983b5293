"""Build a small production-like Blender shot with ``bpy``: ``python scripts/demo_scene.py DEST``.

Everything is generated here, textures included, so the demo and the tests
need no downloaded assets. The shot exercises what breaks farm renders::

    DEST/shot010.blend                      Cycles CPU, 320x180, 8 samples, frames 1-4,
                                            cameras "Camera" (active) and "CameraSide"
    DEST/textures/brick wall.png            a file name with a space
    DEST/textures/paint.1001.png, .1002     a UDIM set (image source TILED)
    DEST/textures/flicker/flicker.0001..3   an image sequence, one image per frame
    DEST/lib/prop.blend                     a linked library ...
    DEST/lib/textures/prop wood.png         ... with its own texture

All paths are stored relative (``//``), as studios do. Rerunning overwrites.
"""

from __future__ import annotations

import math
import shutil
import sys
import warnings
from pathlib import Path
from typing import Any

import bpy
import numpy as np

SIZE = 128
FRAMES = (1, 4)
LIB_COLLECTION = "PropCollection"


def _pattern(kind: str, seed: int) -> Any:
    """RGBA float pixels, colourful and non-uniform so a render is never flat."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    hue = (seed * 0.23) % 1.0
    if kind == "brick":
        row = np.floor(y * 8)
        offset = (row % 2) * 0.5 / 4
        mortar = ((y * 8) % 1 < 0.1) | (((x + offset) * 4) % 1 < 0.06)
        r = np.where(mortar, 0.8, 0.55 + 0.2 * np.sin(row * 3.1))
        g = np.where(mortar, 0.8, 0.18 + 0.05 * np.cos(row * 1.7))
        b = np.where(mortar, 0.75, 0.12)
    elif kind == "wood":
        rings = np.sin((x * 0.3 + np.sqrt((x - 0.5) ** 2 + (y * 0.2) ** 2)) * 60)
        r = 0.45 + 0.15 * rings
        g = 0.28 + 0.1 * rings
        b = 0.12 + 0.05 * rings
    else:  # "paint": bold checker stripes tinted by the seed
        checks = (np.floor(x * 6) + np.floor(y * 6)) % 2
        r = 0.5 + 0.5 * np.sin(2 * math.pi * (hue + x))
        g = 0.5 + 0.5 * np.sin(2 * math.pi * (hue + y + 0.33)) * checks
        b = 0.5 + 0.5 * np.cos(2 * math.pi * (hue + x * y))
    rgba = np.stack([r, g, b, np.ones_like(r)], axis=-1).astype(np.float32)
    return np.clip(rgba, 0.0, 1.0)


def _save_png(path: Path, kind: str, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new(f"_gen_{path.name}", SIZE, SIZE, alpha=True)
    image.pixels.foreach_set(_pattern(kind, seed).ravel())
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)


def _use_nodes(idblock: Any) -> None:
    """Give a material or world a node tree (Blender 5 deprecates the switch, 4.x needs it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        idblock.use_nodes = True


def _material(name: str, image: Any, *, sequence_frames: int = 0) -> Any:
    """Principled material whose base colour (and a little emission) is ``image``."""
    mat = bpy.data.materials.new(name)
    _use_nodes(mat)
    nodes = mat.node_tree.nodes
    bsdf = nodes.get("Principled BSDF")
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    if sequence_frames:
        user = tex.image_user
        user.frame_duration = sequence_frames
        user.frame_start = 1
        user.frame_offset = 0  # frame 1 shows flicker.0001, frame 2 .0002, ...
        user.use_cyclic = True
        user.use_auto_refresh = True
    links = mat.node_tree.links
    links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    links.new(tex.outputs["Color"], bsdf.inputs["Emission Color"])
    bsdf.inputs["Emission Strength"].default_value = 0.3
    return mat


def _object(name: str, mesh_op: str, location: tuple[float, float, float], mat: Any) -> Any:
    getattr(bpy.ops.mesh, mesh_op)(location=location)
    obj = bpy.context.active_object
    obj.name = name
    obj.data.materials.append(mat)
    return obj


def _save(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path), compress=False)
    # Store every path relative to the file it is in, as a studio would.
    bpy.ops.file.make_paths_relative()
    bpy.ops.wm.save_mainfile(filepath=str(path), compress=False)


def _make_library(dest: Path) -> Path:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    # No .blend1 backups next to the demo files.
    bpy.context.preferences.filepaths.save_version = 0
    wood = dest / "lib" / "textures" / "prop wood.png"
    _save_png(wood, "wood", 7)
    coll = bpy.data.collections.new(LIB_COLLECTION)
    bpy.context.scene.collection.children.link(coll)
    mat = _material("PropWood", bpy.data.images.load(str(wood)))
    prop = _object("Prop", "primitive_cube_add", (0.0, 0.0, 0.0), mat)
    prop.scale = (0.6, 0.6, 0.6)
    for c in list(prop.users_collection):
        c.objects.unlink(prop)
    coll.objects.link(prop)
    lib = dest / "lib" / "prop.blend"
    _save(lib)
    return lib


def make_demo_scene(dest: Path) -> Path:
    """Write the demo shot below ``dest`` and return the main .blend path."""
    dest = Path(dest).absolute()
    for old in ("textures", "lib", "shot010.blend", "shot010.blend1"):
        target = dest / old
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    dest.mkdir(parents=True, exist_ok=True)
    lib = _make_library(dest)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.save_version = 0
    tex = dest / "textures"
    brick_path = tex / "brick wall.png"
    _save_png(brick_path, "brick", 1)
    for i, tile in enumerate((1001, 1002)):
        _save_png(tex / f"paint.{tile}.png", "paint", 3 + 4 * i)
    for frame in (1, 2, 3):
        _save_png(tex / "flicker" / f"flicker.{frame:04d}.png", "paint", 11 + 5 * frame)

    brick = bpy.data.images.load(str(brick_path))
    brick.name = "brick wall"

    paint = bpy.data.images.load(str(tex / "paint.1001.png"))
    paint.name = "paint"
    paint.source = "TILED"
    paint.filepath = str(tex / "paint.<UDIM>.png")
    if not any(t.number == 1002 for t in paint.tiles):
        paint.tiles.new(tile_number=1002)
    paint.reload()

    flicker = bpy.data.images.load(str(tex / "flicker" / "flicker.0001.png"))
    flicker.name = "flicker"
    flicker.source = "SEQUENCE"

    scene = bpy.context.scene
    scene.name = "shot010"
    _object("Wall", "primitive_plane_add", (0.0, 1.5, 0.0), _material("Brick", brick)).rotation_euler = (
        math.radians(90),
        0.0,
        0.0,
    )
    wall = bpy.data.objects["Wall"]
    wall.scale = (3.0, 1.5, 1.0)

    floor = _object("Floor", "primitive_plane_add", (0.0, 0.0, -0.6), _material("Paint", paint))
    floor.scale = (4.0, 2.0, 1.0)
    # Stretch the UVs over two UDIM tiles (u in 0..2) so 1001 and 1002 both show.
    for loop in floor.data.uv_layers.active.data:
        loop.uv[0] *= 2.0

    screen = _object(
        "Screen", "primitive_cube_add", (-1.6, 0.0, 0.0), _material("Flicker", flicker, sequence_frames=3)
    )
    screen.scale = (0.5, 0.5, 0.5)

    with bpy.data.libraries.load(str(lib), link=True, relative=True) as (_src, linked):
        linked.objects = ["Prop"]
    prop = linked.objects[0]
    scene.collection.objects.link(prop)

    cam_data = bpy.data.cameras.new("Camera")
    cam = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(cam)
    cam.location = (0.0, -6.0, 1.2)
    cam.rotation_euler = (math.radians(82), 0.0, 0.0)
    scene.camera = cam
    # A second view of the same set, for camera overrides (``azrender submit --camera``).
    side = bpy.data.objects.new("CameraSide", bpy.data.cameras.new("CameraSide"))
    scene.collection.objects.link(side)
    side.location = (-5.0, -3.5, 2.5)
    side.rotation_euler = (math.radians(70), 0.0, math.radians(-55))

    light_data = bpy.data.lights.new("Key", type="SUN")
    light_data.energy = 3.0
    light = bpy.data.objects.new("Key", light_data)
    light.rotation_euler = (math.radians(50), math.radians(10), math.radians(-30))
    scene.collection.objects.link(light)

    world = bpy.data.worlds.new("World")
    _use_nodes(world)
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.07, 0.1, 1.0)
    scene.world = world

    render = scene.render
    render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 8
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.max_bounces = 2
    render.resolution_x, render.resolution_y = 320, 180
    render.resolution_percentage = 100
    render.image_settings.file_format = "PNG"
    scene.frame_start, scene.frame_end = FRAMES
    render.filepath = "//render/shot010_####"

    main = dest / "shot010.blend"
    _save(main)
    return main


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python scripts/demo_scene.py DEST", file=sys.stderr)
        return 2
    print(make_demo_scene(Path(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
