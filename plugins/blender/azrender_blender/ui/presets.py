"""Where the panel finds presets: the search path from the add-on preferences.

A TD points every artist's Blender at the show folders (``/shows/abc:/shows/xyz``,
``;`` on Windows); ``AZRENDER_PRESET_PATH`` adds folders from the environment,
for launchers. Every ``*.toml`` directly in those folders is a preset.
No ``bpy`` here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from azrender.presets import Preset, load_preset

PRESET_PATH_ENV = "AZRENDER_PRESET_PATH"


def preset_dirs(search_path: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The folders of ``search_path`` then of ``AZRENDER_PRESET_PATH``, without repeats."""
    env = os.environ if environ is None else environ
    out: list[Path] = []
    for text in (search_path, env.get(PRESET_PATH_ENV, "")):
        for part in text.split(os.pathsep):
            if part.strip():
                folder = Path(os.path.expanduser(part.strip()))
                if folder not in out:
                    out.append(folder)
    return out


def find_presets(folders: list[Path]) -> list[Path]:
    """Every ``*.toml`` in ``folders`` (not below them), by folder order then name."""
    found: list[Path] = []
    for folder in folders:
        try:
            found.extend(sorted(p for p in folder.glob("*.toml") if p.is_file()))
        except OSError:
            continue  # an unreachable share must not break the panel
    return found


class PresetCache:
    """Loaded presets by path, reloaded when the file changes (the panel draws often)."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[float, Preset]] = {}

    def load(self, path: Path) -> Preset:
        """The validated preset; :class:`azrender.errors.PresetError` when it is bad."""
        mtime = path.stat().st_mtime if path.exists() else -1.0
        hit = self._cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        preset = load_preset(path)
        self._cache[path] = (mtime, preset)
        return preset

    def clear(self) -> None:
        self._cache.clear()
