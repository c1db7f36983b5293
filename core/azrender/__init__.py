"""azrender: Render on Azure for Blender, Maya and 3ds Max.

The flow, one package each: ``scan`` finds a scene's dependencies, ``storage``
moves only what changed, ``paths`` maps the artist's paths to the node's,
``presets`` holds a show's settings, and a backend (``local`` or ``batch``)
runs the frames. ``azrender.launch`` and ``azrender.cli`` are the command line on top.
"""

__version__ = "0.1.0"
