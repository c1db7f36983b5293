"""Build the version-matrix shot with whatever bpy runs this: ``python matrix_scene.py DEST``.

Run by each Blender of the matrix (bpy 5.3, 5.0, 4.5 LTS) in its own
environment, with ``scripts/`` on ``PYTHONPATH`` for the demo shot's
texture and material helpers (the LTS environment has bpy only)::

    DEST/plan_été.blend                             the shot; relative paths, as studios save
    DEST/textures/façade.png                        the shot's own texture, a non-ASCII name
    DEST/lib/bibliothèque_木.blend                  a linked library, a non-ASCII name, with
    DEST/lib/textures/écorce wood.png               ... its own texture (non-ASCII, a space)
    DEST/lib/textures/tuiles.1001.png, .1002.png    ... UDIM tiles
    DEST/lib/textures/séquence/frame.0001..3.png    ... an image sequence

Prints ``AZR-BUILT <json>``: the scene, the Blender that saved it, and every
file written, so the test knows the answer from what was made, not from a scan.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
from demo_scene import _material, _object, _save, _save_png

SHOT = "plan_été.blend"
LIBRARY = "bibliothèque_木.blend"
COLLECTION = "Props"


def _fresh() -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.save_version = 0  # no .blend1 backups


def _library(dest: Path, written: list[Path]) -> Path:
    _fresh()
    tex = dest / "lib" / "textures"
    bark = tex / "écorce wood.png"
    tiles = [tex / f"tuiles.{tile}.png" for tile in (1001, 1002)]
    frames = [tex / "séquence" / f"frame.{n:04d}.png" for n in (1, 2, 3)]
    for i, path in enumerate([bark, *tiles, *frames]):
        _save_png(path, "wood" if path == bark else "paint", 20 + i)
    written += [bark, *tiles, *frames]

    tiled = bpy.data.images.load(str(tiles[0]))
    tiled.source = "TILED"
    tiled.filepath = str(tex / "tuiles.<UDIM>.png")
    if not any(t.number == 1002 for t in tiled.tiles):
        tiled.tiles.new(tile_number=1002)
    sequence = bpy.data.images.load(str(frames[0]))
    sequence.source = "SEQUENCE"

    coll = bpy.data.collections.new(COLLECTION)
    bpy.context.scene.collection.children.link(coll)
    for name, image, x in (("Bark", bpy.data.images.load(str(bark)), 0.0), ("Tiles", tiled, 1.5),
                           ("Screen", sequence, -1.5)):
        obj = _object(name, "primitive_cube_add", (x, 0.0, 0.0), _material(name, image, sequence_frames=3
                                                                          if image is sequence else 0))
        for c in list(obj.users_collection):
            c.objects.unlink(obj)
        coll.objects.link(obj)
    lib = dest / "lib" / LIBRARY
    _save(lib)
    written.append(lib)
    return lib


def build(dest: Path) -> dict[str, object]:
    dest = dest.absolute()
    written: list[Path] = []
    lib = _library(dest, written)

    _fresh()
    facade = dest / "textures" / "façade.png"
    _save_png(facade, "brick", 1)
    written.append(facade)
    _object("Wall", "primitive_plane_add", (0.0, 2.0, 0.0), _material("Façade", bpy.data.images.load(str(facade))))
    with bpy.data.libraries.load(str(lib), link=True, relative=True) as (_src, linked):
        linked.collections = [COLLECTION]
    instance = bpy.data.objects.new(COLLECTION, None)
    instance.instance_type = "COLLECTION"
    instance.instance_collection = linked.collections[0]
    bpy.context.scene.collection.objects.link(instance)
    shot = dest / SHOT
    _save(shot)
    return {
        "scene": str(shot),
        "blender": bpy.app.version_string,
        "written": sorted(str(p) for p in written),
    }


if __name__ == "__main__":
    print("AZR-BUILT " + json.dumps(build(Path(sys.argv[-1]))))
