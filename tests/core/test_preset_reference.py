"""docs/preset-reference.md documents every preset key, and is what the schema says today."""

from __future__ import annotations

import re

from azrender.presets.reference import REFERENCE_PATH, main, reference_text
from azrender.presets.schema import generate_schema


def leaf_keys(schema: dict[str, object], prefix: str = "") -> set[str]:
    """``table.key`` for every non-table key of the schema, read from the schema itself."""
    items = schema.get("items", schema)
    assert isinstance(items, dict)
    out = set()
    for key, spec in items.get("properties", {}).items():
        inner = spec.get("items", spec)
        if inner.get("type") == "object":
            out |= leaf_keys(spec, f"{key}.")
        else:
            out.add(prefix + key)
    return out


def documented_keys(text: str) -> set[str]:
    out, table = set(), ""
    for line in text.splitlines():
        heading = re.match(r"^## \[{1,2}(\w+)\]{1,2}$", line)
        if heading or line == "## Top level":
            table = f"{heading.group(1)}." if heading else ""
        row = re.match(r"^\| `(\w+)` \|", line)
        if row:
            out.add(table + row.group(1))
    return out


def test_every_key_of_the_schema_has_a_row() -> None:
    keys = leaf_keys(generate_schema())
    assert {"name", "storage.mode", "pool.vm_size", "batch.task_retries", "preflight.ignore"} <= keys
    assert documented_keys(REFERENCE_PATH.read_text(encoding="utf-8")) == keys


def test_the_committed_page_is_up_to_date() -> None:
    assert REFERENCE_PATH.read_text(encoding="utf-8") == reference_text(), (
        "run: python -m azrender.presets.reference")
    assert main(["--check"]) == 0
