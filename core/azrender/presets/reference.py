"""``docs/preset-reference.md``: every preset key, generated from the JSON schema.

The schema is itself generated from the field table (:mod:`azrender.presets.schema`),
so a key added there is documented here without anyone remembering to::

    python -m azrender.presets.reference          # rewrite the page
    python -m azrender.presets.reference --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azrender.presets.schema import generate_schema, write_generated

REFERENCE_PATH = Path(__file__).resolve().parents[3] / "docs" / "preset-reference.md"

_INTRO = """\
# Preset reference

Every key a preset may hold, table by table, as the preset loader checks them.
This page is generated from the preset schema
(`core/azrender/presets/schema.json`) by `python -m azrender.presets.reference`;
[presets.md](presets.md) explains how to write a preset, with examples.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(spec: dict[str, Any]) -> str:
    kind = str(spec.get("type", ""))
    if kind == "array":
        kind = f"array of {spec.get('items', {}).get('type', 'values')}"
    if "enum" in spec:
        kind += ": " + ", ".join(f"`{v}`" for v in spec["enum"])
    bounds = [f"≥ {spec['minimum']}" if "minimum" in spec else "",
              f"≤ {spec['maximum']}" if "maximum" in spec else ""]
    bounds = [b for b in bounds if b]
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def _default(spec: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in spec:
        return "not set"
    return f"`{json.dumps(spec['default'])}`"


def _table(title: str, schema: dict[str, Any]) -> list[str]:
    items = schema.get("items", schema)
    required = set(items.get("required", []))
    lines = [f"## {title}", "", _cell(str(schema.get("description", ""))), "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    for key, spec in items.get("properties", {}).items():
        if spec.get("items", spec).get("type") == "object":
            continue  # a sub-table: it has its own section
        lines.append(f"| `{key}` | {_cell(_type(spec))} | {_cell(_default(spec, key in required))} "
                     f"| {_cell(str(spec.get('description', '')))} |")
    return [*lines, ""]


def reference_text(schema: dict[str, Any] | None = None) -> str:
    """The whole page for ``schema`` (the current preset schema by default)."""
    schema = schema or dict(generate_schema())
    out = [_INTRO]
    out += _table("Top level", schema)
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    for name, sub in properties.items():
        if sub.get("type") == "object":
            out += _table(f"[{name}]", sub)
        elif sub.get("type") == "array" and sub.get("items", {}).get("type") == "object":
            out += _table(f"[[{name}]]", sub)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the reference page; with ``--check``, exit 1 if it is out of date."""
    return write_generated(REFERENCE_PATH, reference_text(), "python -m azrender.presets.reference", argv)


if __name__ == "__main__":
    raise SystemExit(main())
