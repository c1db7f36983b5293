"""Per-show TOML presets: the format, validation with clear errors, and its JSON schema.

>>> from pathlib import Path
>>> p = parse_preset('name = "demo"\\n[backend]\\nslots = 4\\n', Path("shows/demo.toml"))
>>> (p.name, p.backend.kind, p.backend.slots, p.render.chunk)
('demo', 'local', 4, 1)

The format is described in docs/presets.md and declared in
:mod:`azrender.presets.fields` (its words in :mod:`azrender.presets.vocabulary`);
credentials never belong in a preset.
"""

from __future__ import annotations

from azrender.presets.credentials import CREDENTIALS_HINT
from azrender.presets.fields import TABLES
from azrender.presets.loader import load_preset, parse_preset
from azrender.presets.locate import find_line, key_lines
from azrender.presets.messages import PresetFileError
from azrender.presets.model import (
    BackendSettings,
    Preset,
    RenderSettings,
    StorageSettings,
)
from azrender.presets.schema import SCHEMA_PATH, generate_schema
from azrender.presets.spec import FieldSpec, TableSpec
from azrender.presets.vocabulary import BackendKind, StorageMode

__all__ = [
    "CREDENTIALS_HINT",
    "SCHEMA_PATH",
    "TABLES",
    "BackendKind",
    "BackendSettings",
    "FieldSpec",
    "Preset",
    "PresetFileError",
    "RenderSettings",
    "StorageMode",
    "StorageSettings",
    "TableSpec",
    "find_line",
    "generate_schema",
    "key_lines",
    "load_preset",
    "parse_preset",
]
