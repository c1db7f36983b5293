"""The types the preset format is written in: a table of keys, each key's type, default and rules.

The format itself (every table and key) is :mod:`azrender.presets.fields`; the value
checks its keys use are :mod:`azrender.presets.checks`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ValueKind = Literal["string", "integer", "boolean"]

#: A problem found by a field check: (what is wrong, what to do about it).
Problem = tuple[str, str]
Check = Callable[[str, object], Problem | None]


class _Required:
    """Marker default: the key must be present."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class FieldSpec:
    """One key of a preset table.

    ``choices`` are the values accepted today; ``planned`` are values the format
    will accept later, refused now with "not available yet". ``check`` runs
    after the type, choice and range checks and returns a problem or None; it
    gets the dotted key path and the value. ``schema`` adds JSON-schema keywords
    that express the same rule as ``check``.
    """

    name: str
    kind: ValueKind
    default: str | int | bool | _Required | None
    description: str
    choices: tuple[str, ...] = ()
    planned: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    check: Check | None = None
    schema: dict[str, object] = field(default_factory=dict)
    example: str | int | bool | None = None

    @property
    def required(self) -> bool:
        return isinstance(self.default, _Required)


@dataclass(frozen=True)
class TableSpec:
    """A TOML table of the preset (``""`` is the document root)."""

    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    #: Written ``[[name]]``: any number of entries, each a table of ``fields``.
    array: bool = False

    def get(self, key: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == key:
                return f
        return None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

__all__ = ["REQUIRED", "Check", "FieldSpec", "Problem", "TableSpec", "ValueKind"]


def pattern_field(
    name: str,
    default: str | _Required | None,
    description: str,
    check: Check,
    pattern: re.Pattern[str],
    *,
    example: str | None = None,
) -> FieldSpec:
    """A string key whose rule is a regular expression: ``check`` in Python, ``pattern`` in the schema.

    >>> pattern_field("pool_id", "azrender", "Id of the pool.", lambda k, v: None,
    ...               re.compile(r"^[a-z]+$")).schema
    {'pattern': '^[a-z]+$'}
    """
    return FieldSpec(
        name, "string", default, description, check=check, schema={"pattern": pattern.pattern}, example=example
    )
