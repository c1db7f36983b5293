"""azrender_blender."""
