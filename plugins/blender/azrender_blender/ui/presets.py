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


NO_PRESET = "NONE"
MISSING_PRESET = "MISSING"

# (identifier, label, description, icon, number): the item form Blender's EnumProperty takes.
EnumItem = tuple[str, str, str, str, int]


def preset_choices(found: list[Path], chosen: str) -> list[EnumItem]:
    """The picker's items: a "choose" entry, every found preset, and the chosen one if it vanished.

    The artist's choice is kept as the preset's *path* (``chosen``), never as a
    position in this list: a dynamic ``EnumProperty`` stores the item's number,
    so a TD adding ``abc.toml`` before ``xyz.toml`` would otherwise move every
    artist to another show without a click. A chosen preset that is no longer
    found stays chosen and shows as missing, so submitting fails instead of
    switching shows.

    >>> [i[0] for i in preset_choices([Path("/s/a.toml"), Path("/s/b.toml")], "/s/b.toml")]
    ['NONE', '/s/a.toml', '/s/b.toml']
    >>> preset_choices([Path("/s/a.toml")], "/gone/x.toml")[-1][:2]
    ('MISSING', 'x (missing)')
    """
    none = (("Choose a preset", "The show preset: storage, backend and render defaults") if found
            else ("(no presets found)", "Set the preset search path in the add-on preferences"))
    items: list[EnumItem] = [(NO_PRESET, *none, "NONE", 0)]
    items += [(str(p), p.stem, str(p), "NONE", n) for n, p in enumerate(found, start=1)]
    if chosen and chosen not in {i[0] for i in items}:
        items.append((MISSING_PRESET, f"{Path(chosen).stem} (missing)",
                      f"{chosen} is no longer in the preset folders", "ERROR", len(items)))
    return items


def chosen_number(items: list[EnumItem], chosen: str) -> int:
    """The number of the item that shows ``chosen`` (the missing entry when it vanished)."""
    if not chosen:
        return 0
    for ident, _label, _desc, _icon, number in items:
        if ident in (chosen, MISSING_PRESET):
            return number
    return 0


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
