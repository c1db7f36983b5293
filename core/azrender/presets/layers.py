"""Layered presets: studio defaults ← show preset ← user overrides.

Search path, lowest layer first (each layer is optional except the show):

1. **studio defaults**: the file named by ``AZRENDER_STUDIO_PRESET``, else
   ``studio.toml`` beside the show preset (a studio keeps its shows in one folder);
2. **the show preset** given on the command line;
3. **user overrides**: the file named by ``AZRENDER_USER_PRESET``, else
   ``user.toml`` in azrender's user config folder (``~/.config/azrender`` on
   Linux). An artist may tune ``[backend]`` and ``[render]`` there, never
   storage: that is the show's decision.

Tables merge key by key; ``[[paths]]`` is replaced as a whole by the highest
layer that has it. Each layer is checked alone first, so a mistake is reported
in the file and on the line it was written::

    preset, origins = load_layered(Path("shows/abc.toml"))
    origins["backend.slots"]   # 'user.toml line 3', 'shows/abc.toml line 9' or 'default'
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from azrender.errors import PresetError
from azrender.presets.fields import ROOT, SUBTABLES
from azrender.presets.loader import Validator, read_text, read_toml
from azrender.presets.locate import KeyPath, find_line, key_lines
from azrender.presets.messages import PresetFileError
from azrender.presets.model import Preset

STUDIO_ENV = "AZRENDER_STUDIO_PRESET"
USER_ENV = "AZRENDER_USER_PRESET"
STUDIO_FILE = "studio.toml"
USER_FILE = "user.toml"

#: Tables a user override may set.
USER_TABLES = ("backend", "render")


@dataclass(frozen=True)
class Layer:
    """One file of a layered preset."""

    role: str  # "studio", "show" or "user"
    path: Path
    data: dict[str, Any]
    lines: dict[KeyPath, int]


def layer_paths(show: Path, environ: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """The files that make up ``show``'s preset, lowest first, that exist."""
    env = os.environ if environ is None else environ
    out: list[tuple[str, Path]] = []
    studio = Path(env[STUDIO_ENV]) if env.get(STUDIO_ENV) else show.parent / STUDIO_FILE
    if env.get(STUDIO_ENV) and not studio.is_file():
        raise PresetError(f"{STUDIO_ENV} names {studio}, which is not a file", hint="fix or unset it")
    if studio.is_file() and studio.resolve() != show.resolve():
        out.append(("studio", studio))
    out.append(("show", show))
    user = Path(env[USER_ENV]) if env.get(USER_ENV) else platformdirs.user_config_path("azrender") / USER_FILE
    if env.get(USER_ENV) and not user.is_file():
        raise PresetError(f"{USER_ENV} names {user}, which is not a file", hint="fix or unset it")
    if user.is_file():
        out.append(("user", user))
    return out


def _read_layer(role: str, path: Path) -> Layer:
    text = read_text(path)
    data = read_toml(text, path)
    Validator(text, path).layer(data)
    layer = Layer(role, path, data, key_lines(text))
    if role == "user":
        for key in data:
            if key not in USER_TABLES:
                raise PresetFileError(
                    f"user overrides cannot set `{key}`",
                    source=path,
                    line=find_line(layer.lines, (key,)),
                    key=key,
                    hint=f"a user override may only change {', '.join(f'[{t}]' for t in USER_TABLES)}; "
                    "storage and the preset's name belong to the show preset",
                )
    return layer


def merge_layers(layers: list[Layer]) -> tuple[dict[str, Any], dict[KeyPath, Layer]]:
    """The merged document and, for every key path, the layer that set it."""
    merged: dict[str, Any] = {}
    owner: dict[KeyPath, Layer] = {}
    for layer in layers:
        for key, value in layer.data.items():
            spec = SUBTABLES.get(key)
            if spec is not None and not spec.array and isinstance(value, Mapping):
                table = merged.setdefault(key, {})
                owner.setdefault((key,), layer)
                for sub, sub_value in value.items():
                    table[sub] = sub_value
                    owner[(key, sub)] = layer
            else:
                merged[key] = value
                for path in [p for p in owner if p[:1] == (key,)]:
                    del owner[path]
                owner[(key,)] = layer
    return merged, owner


def load_layered(
    show: Path | str, environ: Mapping[str, str] | None = None
) -> tuple[Preset, dict[str, str]]:
    """The merged preset for ``show`` and where each setting came from.

    ``origins`` maps every dotted key (``"storage.mode"``, ``"paths"``) to
    ``"<file> line <n>"`` or ``"default"``.
    """
    show_path = Path(show)
    layers = [_read_layer(role, path) for role, path in layer_paths(show_path, environ)]
    merged, owner = merge_layers(layers)

    def locate(path: KeyPath) -> tuple[Path, int | None]:
        p = tuple(path)
        while p:
            if p in owner:
                layer = owner[p]
                return layer.path, find_line(layer.lines, path)
            p = p[:-1]
        return show_path, None

    preset = Validator("", show_path, locate=locate).preset(merged)
    origins: dict[str, str] = {}
    for field in ROOT.fields:
        origins[field.name] = _where(owner, locate, (field.name,))
    for name, spec in SUBTABLES.items():
        if spec.array:
            origins[name] = _where(owner, locate, (name,))
            continue
        for field in spec.fields:
            origins[f"{name}.{field.name}"] = _where(owner, locate, (name, field.name))
    return preset, origins


def _where(
    owner: dict[KeyPath, Layer], locate: Callable[[KeyPath], tuple[Path, int | None]], path: KeyPath
) -> str:
    if path not in owner:
        return "default"
    source, line = locate(path)
    return f"{source} line {line}" if line else str(source)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return f"'{text}'" if "\\" in text and "'" not in text else '"' + text.replace('"', '\\"') + '"'


def init_template(name: str) -> str:
    """A commented preset for a new show, generated from the field table: every
    key with its description; the required ones set, the rest commented out at
    their default. It validates as written (a test checks)."""
    from azrender.presets.fields import TABLES

    lines = [
        f"# azrender preset for show {name!r}. Every key is described in docs/presets.md;",
        "# uncomment a key to change it. Credentials never go here (az login, managed",
        "# identity or AZURE_STORAGE_CONNECTION_STRING).",
        "",
    ]
    for table in TABLES:
        if table.name:
            lines.append("")
            lines.append(f"# {table.description}")
            header = f"[[{table.name}]]" if table.array else f"[{table.name}]"
            # Array entries need their required keys, so they stay commented as a whole.
            lines.append(f"# {header}" if table.array else header)
        for spec in table.fields:
            lines += textwrap.wrap(spec.description, 88, initial_indent="# ", subsequent_indent="# ")
            if spec.required and not table.name:
                lines.append(f"{spec.name} = {_literal(name)}")
                continue
            value = spec.default if spec.default is not None and not spec.required else spec.example
            shown = _literal(value) if value is not None else '""'
            lines.append(f"# {spec.name} = {shown}")
    return "\n".join(lines) + "\n"
