"""What an app adapter can tell the checks about a scene's saved render settings.

Adapters may offer ``scene_settings(scene)`` (Maya: frame range and renderer
from the file, see ``azrender_maya.settings``); the others are skipped::

    facts = scene_facts(adapter, Path("shot.ma"))    # SceneFacts(1, 10, "arnold")
"""

from __future__ import annotations

from pathlib import Path

from azrender.errors import AzrenderError
from azrender.preflight.checks import SceneFacts


def scene_facts(adapter: object, scene: Path) -> SceneFacts:
    """The scene's frame range and renderer where ``adapter`` can read them, and its node systems."""
    systems = getattr(adapter, "node_systems", None)
    node_systems = tuple(systems) if isinstance(systems, tuple) and systems else None
    known = getattr(adapter, "builtin_renderers", ())
    builtin = tuple(known) if isinstance(known, tuple) else ()
    read = getattr(adapter, "scene_settings", None)
    if read is None:
        return SceneFacts(node_systems=node_systems, builtin_renderers=builtin)
    try:
        settings = read(scene)
    except (AzrenderError, OSError):  # an unreadable setting must not stop the report
        return SceneFacts(node_systems=node_systems, builtin_renderers=builtin)
    start, end = getattr(settings, "start", None), getattr(settings, "end", None)
    renderer = getattr(settings, "renderer", None)
    return SceneFacts(
        first_frame=round(start) if isinstance(start, (int, float)) else None,
        last_frame=round(end) if isinstance(end, (int, float)) else None,
        renderer=renderer if isinstance(renderer, str) and renderer else None,
        node_systems=node_systems,
        builtin_renderers=builtin,
    )
