"""azrender for Blender: headless scanning, node command lines and a bpy-backed renderer.

* :mod:`azrender_blender.scan` — ``scan_blend(path) -> AssetSet`` (blender-asset-tracer).
* :mod:`azrender_blender.adapter` — ``BlenderAdapter``, the ``azrender.apps`` entry point.
* :mod:`azrender_blender.remap` — the script Blender runs on the node to point absolute
  paths at the mirrored assets (and its testable ``remap_path`` function).
* :mod:`azrender_blender.runner` — ``azrender-blender``, Blender's render CLI on top of ``bpy``.
* :mod:`azrender_blender.demo_scene` — ``python -m azrender_blender.demo_scene DEST``.
"""
