"""A scene's application and every file it needs: the scan step of submit, and ``azrender scan``.

Imports only what a scan needs (the adapter is loaded by the scene's suffix,
:func:`azrender.apps.adapter_for_scene`; no Azure SDK, no preset loader), so
the command a user runs most starts fast. Results come from the scan cache
(:mod:`azrender.scan.cache`) unless ``cache=False``, which does not load it.
"""

from __future__ import annotations

from pathlib import Path

from azrender.apps import AppAdapter, adapter_for_scene
from azrender.errors import EXIT_MISSING, AzrenderError, SceneError
from azrender.model import AssetSet
from azrender.progress import NO_PROGRESS, Progress


def existing_scene(scene: Path) -> Path:
    """``scene`` made absolute; a missing file stops here, before any app reads it."""
    scene = scene.expanduser().absolute()
    if not scene.is_file():
        raise SceneError(f"scene not found: {scene}", hint="check the path")
    return scene


def scan_scene(
    scene: Path, progress: Progress = NO_PROGRESS, *, cache: bool = True
) -> tuple[AppAdapter, AssetSet]:
    """Find the scene's application and every file it needs (``cache=False``: scan afresh)."""
    scene = existing_scene(scene)
    adapter = adapter_for_scene(scene)
    progress.note(f"scanning {scene.name} ({adapter.name})")
    if not cache:
        return adapter, adapter.scan(scene)
    # Imported here: a scan with --no-cache loads no cache machinery.
    from azrender.scan.cache import ScanCache

    return adapter, ScanCache().scan(adapter, scene)


def check_missing(assets: AssetSet, *, strict: bool) -> None:
    """With ``strict``, refuse a scene with missing files (exit code 3)."""
    if strict and assets.missing:
        names = ", ".join(str(a.path) for a in assets.missing[:3])
        more = f" and {len(assets.missing) - 3} more" if len(assets.missing) > 3 else ""
        raise AzrenderError(
            f"{len(assets.missing)} file(s) the scene needs are missing: {names}{more}",
            hint="fix the paths in the scene, or drop --strict to render without them",
            exit_code=EXIT_MISSING,
        )
