"""Ordered path-mapping rules: artist roots to node roots, longest prefix wins.

Self-contained on purpose (standard library only, no ``from __future__``, no
azrender imports): the remap scripts that run inside Blender, Maya and 3ds Max
on the node embed this module's source, so the node maps paths with exactly
the code the submitter used.

A path is split into an *anchor* and its components, as text, in the form the
scene wrote it:

* ``P:\\show\\a.png`` and ``p:/show/a.png`` → drive ``P:``, ``["show", "a.png"]``;
* ``\\\\srv\\projects\\a.png`` → UNC ``\\\\srv\\projects``, ``["a.png"]``;
* ``/mnt/show/a.png`` → POSIX ``/``, ``["mnt", "show", "a.png"]``.

Windows anchors and components compare case-insensitively (``casefold``);
POSIX ones exactly. A rule matches whole components (``/mnt/show`` does not
match ``/mnt/show2``). The rule with the most components wins; among equals,
the first one listed. The part after the matched prefix keeps its original
spelling (unicode, spaces, case) and is joined with the node's separator.

>>> rules = [("P:\\\\", "/mnt/p"), ("P:\\\\show\\\\tex", "/mnt/tex")]
>>> map_path("p:/Show/TEX/wood grain.png", rules)
'/mnt/tex/wood grain.png'
>>> map_path("P:\\\\other\\\\a.png", rules)
'/mnt/p/other/a.png'
>>> map_path("/home/me/a.png", rules) is None
True
"""

import posixpath
import re
from collections.abc import Sequence

_DRIVE_RE = re.compile(r"^([A-Za-z]):[\\/]")
_ABS_TARGET_RE = re.compile(r"^(?:[A-Za-z]:[\\/]?|\\\\|/|\$|%)")

# Python 3.10+ evaluates these annotations at import time (no __future__ import:
# the remap scripts append this source after their own, see the module docstring).
#: Rules in order: (source root as the artist writes it, node root).
Rules = Sequence[tuple[str, str]]


def split_path(path: str) -> tuple[str, str, list[str]] | None:
    """``(kind, anchor, parts)`` for an absolute path, or None when it is not one.

    ``kind`` is ``"drive"``, ``"unc"`` or ``"posix"``. ``.`` and ``..`` are
    resolved as text (never above the anchor); empty components are dropped.
    """
    m = _DRIVE_RE.match(path)
    if m:
        kind, anchor, rest = "drive", m.group(1).upper() + ":", path[3:]
    elif path.startswith("\\\\"):
        pieces = [p for p in re.split(r"[\\/]", path[2:]) if p]
        if len(pieces) < 2:
            return None
        kind, anchor, rest = "unc", "\\\\" + pieces[0] + "\\" + pieces[1], "/".join(pieces[2:])
    elif path.startswith("/"):
        kind, anchor, rest = "posix", "/", path[1:]
    else:
        return None
    if kind != "posix":
        rest = rest.replace("\\", "/")
    normal = posixpath.normpath("/" + rest).lstrip("/")
    parts = [p for p in normal.split("/") if p and p != "."]
    return kind, anchor, parts


def _fold(kind: str, text: str) -> str:
    # upper() first, like Windows' upcase table (dotless i U+0131 and I are the same
    # name there), then casefold() for letters upper() leaves alone (Kelvin sign).
    return text if kind == "posix" else text.upper().casefold()


def match_rule(path: str, rules: Rules) -> tuple[int, list[str]] | None:
    """``(index of the winning rule, the components below its source)``, or None."""
    split = split_path(path)
    if split is None:
        return None
    kind, anchor, parts = split
    folded = [_fold(kind, p) for p in parts]
    best: tuple[int, int] | None = None
    for index, rule in enumerate(rules):
        source = split_path(rule[0])
        if source is None or source[0] != kind or _fold(kind, source[1]) != _fold(kind, anchor):
            continue
        prefix = [_fold(kind, p) for p in source[2]]
        if folded[: len(prefix)] != prefix:
            continue
        if best is None or len(prefix) > best[1]:
            best = (index, len(prefix))
    if best is None:
        return None
    return best[0], parts[best[1] :]


def node_separator(target: str) -> str:
    """The separator a node root uses: ``\\`` for ``S:``, UNC and ``%VAR%`` roots, else ``/``."""
    if _DRIVE_RE.match(target + "\\") or target.startswith("\\\\") or target.startswith("%"):
        return "\\"
    return "/"


def join_node(target: str, parts: list[str]) -> str:
    """``target`` + ``parts`` with the target's separator; ``S:`` becomes ``S:\\``."""
    sep = node_separator(target)
    root = target.rstrip("/\\")
    if not parts:
        return root + sep if re.match(r"^[A-Za-z]:$", root) or not root else root
    return root + sep + sep.join(parts)


def map_path(path: str, rules: Rules) -> str | None:
    """The node path for ``path`` under the first longest matching rule, or None.

    A trailing separator (a folder, e.g. an image strip's directory) is kept.
    """
    found = match_rule(path, rules)
    if found is None:
        return None
    index, rest = found
    target = rules[index][1]
    out = join_node(target, rest)
    if rest and path.endswith(("/", "\\")):
        out += node_separator(target)
    return out


def is_absolute_target(target: str) -> bool:
    """True when a rule's target is a full node path rather than relative to a mode's root."""
    return bool(_ABS_TARGET_RE.match(target))
