"""How preset problems are worded: the positioned error, TOML syntax errors, and the
pieces validation messages are built from (key paths, "got ..." descriptions, near choices).

Every message is one line a TD can act on, naming the file, the line and the key.
"""

from __future__ import annotations

import datetime
import difflib
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from azrender.errors import PresetError
from azrender.presets.credentials import CREDENTIALS_HINT, secret_key_name, secret_value_reason
from azrender.presets.locate import split_dotted
from azrender.presets.spec import FieldSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DOCS_HINT = "see docs/presets.md"


class PresetFileError(PresetError):
    """A preset problem with its position: ``source``, ``line`` (1-based or None)
    and ``key`` (dotted path or None), for UIs that want to point at it."""

    def __init__(
        self,
        message: str,
        *,
        source: Path,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        column: int | None = None,
    ) -> None:
        where = str(source)
        if line is not None:
            where += f" line {line}"
            if column is not None:
                where += f" column {column}"
        super().__init__(f"{where}: {message}", hint=hint)
        self.source = source
        self.line = line
        self.column = column
        self.key = key


# --- syntax errors -------------------------------------------------------------------

_POS_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_BARE_VALUE_RE = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=\s*([^\"'\[{#\s][^#]*?)\s*(?:#.*)?$")


def syntax_error(exc: tomllib.TOMLDecodeError, text: str, source: Path) -> PresetError:
    raw = str(exc)
    line: int | None = None
    column: int | None = None
    m = _POS_RE.search(raw)
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        raw = raw[: m.start()]
    elif raw.endswith("(at end of document)"):
        raw = raw.removesuffix("(at end of document)").strip()
        line = max(1, len(text.splitlines()))
    message = raw[:1].lower() + raw[1:] if raw else "cannot parse"
    hint = f"check quotes, brackets and `=` on that line; {DOCS_HINT}"
    if line is not None:
        src_line = (text.splitlines() or [""])[line - 1] if line <= len(text.splitlines()) else ""
        secret = _secret_on_line(src_line)
        if secret:
            return PresetFileError(secret, source=source, line=line, hint=CREDENTIALS_HINT)
        bare = _BARE_VALUE_RE.match(src_line)
        if (
            bare
            and bare.group(2) not in ("true", "false")
            and not re.match(r"^[+-]?\d", bare.group(2))
        ):
            key = bare.group(1).strip()
            value = bare.group(2)
            shown = value if len(value) <= 40 else value[:37] + "..."
            hint = f'strings need quotes: did you mean `{key} = "{shown}"`?'
    return PresetFileError(
        f"TOML syntax error: {message}", source=source, line=line, column=column, hint=hint
    )


def _secret_on_line(line: str) -> str | None:
    """A credential on a line tomllib could not parse (the value is never echoed)."""
    m = re.match(r"^\s*([^=#\[]+?)\s*=", line)
    if m:
        parts = split_dotted(m.group(1))
        if parts and secret_key_name(parts[-1]):
            return f"`{'.'.join(parts)}` is a credential key; remove it"
    reason = secret_value_reason(line)
    if reason:
        return f"this line looks like a credential (it contains {reason}); remove it"
    return None


# --- pieces of validation messages -----------------------------------------------------


def dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


#: TOML value types by the names the messages use, most specific first.
_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "float"),
    (str, "string"),
    (Mapping, "table"),
    (list, "array"),
    ((datetime.date, datetime.time), "date/time"),
)


def _type_name(value: object) -> str:
    # bool before int: True is an int to isinstance.
    for kinds, name in _TYPE_NAMES:
        if isinstance(value, kinds):
            return name
    return type(value).__name__


def describe(value: object) -> str:
    """``string "two"``, ``integer 3``, ``a table``: for "got ..." in messages."""
    kind = _type_name(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return 'string "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"{kind} {value}"
    if kind in ("table", "array"):
        return f"a {kind}"
    return kind


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def toml_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    return f'"{value}"'


def matches_kind(spec: FieldSpec, value: object) -> bool:
    if spec.kind == "string":
        return isinstance(value, str)
    if spec.kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, bool)


def range_message(key: str, spec: FieldSpec, value: int) -> str:
    if spec.minimum is not None and spec.maximum is not None:
        return f"`{key}` must be between {spec.minimum} and {spec.maximum}, got {value}"
    if spec.minimum is not None:
        return f"`{key}` must be {spec.minimum} or more, got {value}"
    return f"`{key}` must be {spec.maximum} or less, got {value}"


def guess_choice(value: str, choices: Sequence[str]) -> str | None:
    for choice in choices:
        if choice.lower() == value.lower():
            return choice
    folded = value.upper().replace("-", "_")
    containing = [c for c in choices if folded and folded in c.upper().replace("-", "_")]
    if containing:
        return containing[0]
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(folded, [c.upper() for c in choices], n=1, cutoff=0.6)
        close = [c for c in choices if close and c.upper() == close[0]]
    return close[0] if close else None
