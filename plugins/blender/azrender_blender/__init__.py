"""azrender for Blender: headless scanning, node command lines, a bpy-backed renderer, and the panel.

* :mod:`azrender_blender.scan` — ``scan_blend(path) -> AssetSet``, through :mod:`azrender_blender.blend`
  (a .blend reader made for dependency scanning).
* :mod:`azrender_blender.adapter` — ``BlenderAdapter``, the ``azrender.apps`` entry point.
* :mod:`azrender_blender.node.remap` — the script Blender runs on the node to point absolute
  paths at the mirrored assets (and its testable ``remap_path`` function).
* :mod:`azrender_blender.node.runner` — ``azrender-blender``, Blender's render CLI on top of ``bpy``.
* :mod:`azrender_blender.ui.collect` — the open scene's dependencies from ``bpy.data`` (in Blender).
* :mod:`azrender_blender.ui` — the "Render on Azure" panel; this package is also the Blender
  extension (``blender_manifest.toml``), whose :func:`register` loads it.

Importing this package never imports ``bpy``: the headless adapter runs without Blender.
"""

# Read by Blender only when the package is installed as a legacy add-on; an
# extension is described by blender_manifest.toml instead.
bl_info = {
    "name": "Render on Azure",
    "author": "azrender developers",
    "version": (0, 1, 0),
    "blender": (4, 2, 0),
    "location": "Properties > Render > Render on Azure",
    "description": "Upload what changed, render on Azure Batch or a local node, bring frames back",
    "category": "Render",
}


def register() -> None:
    """Blender's add-on hook: register the panel, operators and preferences."""
    from . import ui

    ui.register()


def unregister() -> None:
    from . import ui

    ui.unregister()
