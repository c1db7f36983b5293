"""The dialog's preset choice: a path typed or browsed, and the presets used recently.

A relative path is read against the scene's folder, never against the
application's working folder (which is wherever Maya or 3ds Max was started
from, e.g. its ``bin`` folder). The recent list is kept in the user's Qt
settings, newest first.
"""

from __future__ import annotations

from pathlib import Path

from azrender.qt.binding import QtCore

RECENT_KEY = "recentPresets"
RECENT_LIMIT = 8


def resolve_preset(text: str, scene_dir: Path | None) -> Path:
    """The preset file ``text`` names: ``~`` expanded, a relative path taken from the scene's folder.

    >>> resolve_preset("shows/abc.toml", Path("/proj/shot010")).as_posix()
    '/proj/shot010/shows/abc.toml'
    >>> resolve_preset("/shows/abc.toml", Path("/proj")).as_posix()
    '/shows/abc.toml'
    """
    path = Path(text.strip()).expanduser()
    if not path.is_absolute() and scene_dir is not None:
        path = scene_dir / path
    return path


def remember(recent: list[str], path: Path, limit: int = RECENT_LIMIT) -> list[str]:
    """``recent`` with ``path`` moved to the front, without repeats, at most ``limit`` long.

    >>> remember(["/a.toml", "/b.toml"], Path("/b.toml"))
    ['/b.toml', '/a.toml']
    """
    text = str(path)
    return [text, *[p for p in recent if p != text]][:limit]


def settings_store() -> QtCore.QSettings:
    """Where the recent list lives: the user's settings for azrender (registry, plist or .conf)."""
    return QtCore.QSettings("azrender", "submit-dialog")


def load_recent(store: QtCore.QSettings) -> list[str]:
    value = store.value(RECENT_KEY, [])
    if isinstance(value, str):  # one entry comes back as a plain string on some platforms
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [str(v) for v in value if str(v)]


def save_recent(store: QtCore.QSettings, recent: list[str]) -> None:
    store.setValue(RECENT_KEY, recent)
    store.sync()
