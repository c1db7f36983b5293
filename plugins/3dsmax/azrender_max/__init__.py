"""azrender_max."""
