"""azrender_maya."""
