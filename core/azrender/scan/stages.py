"""The one call every application scanner makes after its own scan: follow the USD layers it lists.

Whatever node brought a USD stage in (a proxy shape, a stand-in, a cache
file), its layers and textures join the same asset set. The reader itself
(:mod:`azrender.scan.usd`, with the path helpers it needs) is imported only
when the scan lists a layer, so a scene without USD does not load it::

    warnings = follow_usd_layers(result)  # result: the AssetSet the scanner filled
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from azrender.model import AssetSet

#: Layers a stage composes (followed); ``.usdz`` is a package and not opened.
LAYER_SUFFIXES = frozenset({".usd", ".usda", ".usdc"})


def follow_usd_layers(result: AssetSet, *, env: Mapping[str, str] | None = None) -> list[str]:
    """Add to ``result`` what every USD layer it lists needs, and its warnings.

    The warnings (one line per layer that could not be read) are added to
    ``result.warnings`` and returned.
    """
    layers = [a.path for a in result.assets if a.exists and a.path.suffix.lower() in LAYER_SUFFIXES]
    if not layers:
        return []
    from azrender.scan.usd import usd_dependencies

    warnings: list[str] = []
    visited: set[Path] = set()
    for layer in layers:
        assets, notes = usd_dependencies(layer, env=env, visited=visited)
        result.extend(assets)
        warnings.extend(notes)
    result.warnings.extend(warnings)
    return warnings
