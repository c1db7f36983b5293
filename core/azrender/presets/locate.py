"""Find the line a TOML key is on: tomllib parses values but keeps no positions.

:func:`key_lines` scans the text once and records, for every table header and
every key, the 1-based line it is written on, keyed by its full path
(``("storage", "account_url")``; an array-of-tables element adds its index,
``("mounts", 0, "share")``). It understands ``[table]`` and ``[[array]]``
headers, dotted and quoted keys, comments and multi-line strings and arrays.
Keys inside an inline table are not recorded; :func:`find_line` then falls back
to the line of the nearest enclosing key that is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_PART = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})"
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER_RE = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(rf"^\s*({_DOTTED})\s*=\s*(.*)$")
_PART_RE = re.compile(_PART)


def split_dotted(text: str) -> tuple[str, ...]:
    """``a."b.c".'d'`` -> ``("a", "b.c", "d")``."""
    parts: list[str] = []
    for m in _PART_RE.finditer(text):
        part = m.group(0)
        if part.startswith('"'):
            try:
                part = str(json.loads(part))
            except ValueError:
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _unterminated(value: str) -> tuple[str, int] | None:
    """After ``key = value``: is a multi-line string or array still open?

    Returns ("str", delimiter-index) / ("arr", depth) or None. Deliberately
    simple: it only needs to keep the scanner out of string and array bodies.
    """
    v = value.lstrip()
    for delim in ('"""', "'''"):
        if v.startswith(delim) and v.count(delim) == 1:
            return ("str", 0 if delim == '"""' else 1)
    if v.startswith("["):
        depth = _bracket_depth(v)
        if depth > 0:
            return ("arr", depth)
    return None


def _bracket_depth(text: str) -> int:
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            break
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every header and key path in ``text`` to its 1-based line number."""
    lines: dict[KeyPath, int] = {}
    aot_counts: dict[KeyPath, int] = {}
    table: KeyPath = ()
    in_string: str | None = None
    array_depth = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if in_string in line:
                in_string = None
            continue
        if array_depth > 0:
            array_depth += _bracket_depth(line)
            continue
        header = _HEADER_RE.match(line)
        if header:
            table = _resolve(split_dotted(header.group(2)), aot_counts, header.group(1) == "[[")
            lines.setdefault(table, lineno)
            continue
        key = _KEY_RE.match(line)
        if not key:
            continue
        path = table + split_dotted(key.group(1))
        for i in range(len(table) + 1, len(path) + 1):
            lines.setdefault(path[:i], lineno)
        state = _unterminated(key.group(2))
        if state is not None:
            if state[0] == "str":
                in_string = '"""' if state[1] == 0 else "'''"
            else:
                array_depth = state[1]
    return lines


def _resolve(parts: tuple[str, ...], aot_counts: dict[KeyPath, int], is_array: bool) -> KeyPath:
    """Insert array-of-tables indices into a header path."""
    out: list[str | int] = []
    for i, part in enumerate(parts):
        out.append(part)
        here = tuple(out)
        last = i == len(parts) - 1
        if last and is_array:
            n = aot_counts.get(here, 0)
            aot_counts[here] = n + 1
            out.append(n)
        elif here in aot_counts:
            out.append(aot_counts[here] - 1)
    return tuple(out)


def find_line(lines: dict[KeyPath, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path``, or of its nearest recorded parent, or None."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None
