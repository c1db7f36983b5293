"""The JSON schema of the preset format, generated from the field table.

``schema.json`` beside this module is the generated file, for editors
(taplo / Even Better TOML) and for other tools; regenerate it after changing
:mod:`azrender.presets.fields` with::

    python -m azrender.presets

A test fails when the file and the table disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from azrender.presets.fields import ROOT, SUBTABLES
from azrender.presets.spec import FieldSpec, TableSpec

SCHEMA_PATH = Path(__file__).with_name("schema.json")
SCHEMA_ID = "https://github.com/azrender/azrender/core/azrender/presets/schema.json"


def _field_schema(spec: FieldSpec) -> dict[str, object]:
    out: dict[str, object] = {"type": spec.kind, "description": spec.description}
    if spec.choices:
        out["enum"] = list(spec.choices)
    if spec.minimum is not None:
        out["minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    out.update(spec.schema)
    if not spec.required and spec.default is not None:
        out["default"] = spec.default
    return out


def _table_schema(spec: TableSpec) -> dict[str, object]:
    return {
        "type": "object",
        "description": spec.description,
        "properties": {f.name: _field_schema(f) for f in spec.fields},
        "additionalProperties": False,
    }


def generate_schema() -> dict[str, object]:
    """The preset format as a JSON schema (draft 2020-12)."""
    root = _table_schema(ROOT)
    props = root["properties"]
    assert isinstance(props, dict)
    for name, table in SUBTABLES.items():
        schema = _table_schema(table)
        if table.array:
            schema = {"type": "array", "description": table.description, "items": schema}
        props[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "azrender preset",
        "description": "A per-show azrender preset (TOML). Credentials are never part of a preset.",
        "type": "object",
        "properties": props,
        "required": [f.name for f in ROOT.fields if f.required],
        "additionalProperties": False,
    }


def schema_text() -> str:
    """``schema.json`` exactly as it should be on disk."""
    return json.dumps(generate_schema(), indent=2, ensure_ascii=False) + "\n"


def write_generated(path: Path, text: str, command: str, argv: list[str] | None = None) -> int:
    """Write a generated file; with ``--check`` in ``argv``, exit 1 if it differs from ``text``.

    ``command`` is what regenerates it, for the message.
    """
    args = sys.argv[1:] if argv is None else argv
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if "--check" in args:
        if current != text:
            print(f"{path} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Write ``schema.json``; with ``--check``, exit 1 if it is out of date."""
    return write_generated(SCHEMA_PATH, schema_text(), "python -m azrender.presets", argv)


if __name__ == "__main__":
    raise SystemExit(main())
