"""What an app adapter can tell the checks about a scene's saved render settings.

Every adapter answers :meth:`~azrender.apps.AppAdapter.scene_settings` (Maya:
frame range and renderer from the file, see ``azrender_maya.settings``; the
others say None), and its node systems and built-in renderers::

    facts = scene_facts(adapter, Path("shot.ma"))    # SceneFacts(1, 10, "arnold")
"""

from __future__ import annotations

from pathlib import Path

from azrender.apps import AppAdapter
from azrender.errors import AzrenderError
from azrender.preflight.checks import SceneFacts


def scene_facts(adapter: AppAdapter, scene: Path) -> SceneFacts:
    """The scene's frame range and renderer where ``adapter`` can read them, and its node systems."""
    node_systems = tuple(adapter.node_systems) or None
    builtin = tuple(adapter.builtin_renderers)
    try:
        settings = adapter.scene_settings(scene)
    except (AzrenderError, OSError):  # an unreadable setting must not stop the report
        settings = None
    if settings is None:
        return SceneFacts(node_systems=node_systems, builtin_renderers=builtin)
    start, end, renderer = settings.start, settings.end, settings.renderer
    return SceneFacts(
        first_frame=round(start) if start is not None else None,
        last_frame=round(end) if end is not None else None,
        renderer=renderer or None,
        node_systems=node_systems,
        builtin_renderers=builtin,
    )
