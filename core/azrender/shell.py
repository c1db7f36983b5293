r"""Quoting words for the node's command interpreter: bash on Linux, cmd.exe on Windows.

Batch starts a task's command line without a shell, so every line whose node
paths hold ``$AZ_BATCH_*`` / ``%AZ_BATCH_*%`` runs through ``/bin/bash -c`` or
``cmd /c``. Scene, camera, layer and output names, and the strings of a preset,
are data: none of them may run as shell text on the node. These make one word
of a node path or a name for either shell. In a node path only the variables
the storage plan's node roots use expand: Batch's own ``AZ_BATCH_*`` anywhere
(``$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/$AZ_BATCH_JOB_ID/assets``), and
any variable that starts the path (a ``[[paths]]`` target such as
``$SHOW_ROOT/tex``); every other character is literal. A name (camera, layer)
expands nothing::

    bash_word("$AZ_BATCH_NODE_SHARED_DIR/a $(b).blend")   # "$AZ_BATCH_NODE_SHARED_DIR"'/a $(b).blend'
    bash_single_quote("it's")                             # 'it'\''s'
    cmd_quote("%AZ_BATCH_TASK_WORKING_DIR%\\out dir\\", to="Blender")   # "%AZ...%\out dir\\"

bash: inside single quotes nothing is special (``$``, backticks, ``;``, ``&``,
``|``, line breaks are all literal) and ``'`` itself is written ``'\''``
(bash manual, "Single Quotes"). cmd.exe: inside double quotes ``&``, ``|``,
``<``, ``>``, ``(``, ``)`` and ``^`` are literal, but ``%NAME%`` still expands,
``!NAME!`` too when delayed expansion is on (``cmd /v:on`` or the
``DelayedExpansion`` registry value), and neither has an escape that works on a
``cmd /c`` line inside quotes; a ``"`` ends the quoted part and a line break
ends the command (``cmd /?``; ss64.com/nt/syntax-esc.html). So a Windows word
holding ``%`` or ``!`` (after its leading variable), ``"`` or a line break is
refused with a line saying what to rename, never passed half-expanded.
"""

from __future__ import annotations

import re

from azrender.errors import UsageError

# The variables that expand in a node path: ``$NAME`` / ``${NAME}`` (bash), ``%NAME%`` (cmd.exe)
# at its start, and Batch's ``AZ_BATCH_*`` anywhere. Group 1 or 2 is the name.
_POSIX_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_CMD_VAR = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%")
_BATCH_PREFIX = "AZ_BATCH_"
# What cmd.exe cannot pass through a double-quoted word unchanged.
_CMD_UNSAFE = {
    '"': ("a double quote", "double quotes"),
    "\n": ("a line break", "line breaks"),
    "\r": ("a line break", "line breaks"),
    "%": ("a % sign", "%"),
    "!": ("a ! sign", "!"),
}


def _node_variables(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """The variables of node path ``text`` that expand (see the module docstring), in order."""
    return [m for m in pattern.finditer(text) if m.start() == 0 or _name(m).startswith(_BATCH_PREFIX)]


def _name(var: re.Match[str]) -> str:
    return next(group for group in var.groups() if group)


def bash_word(text: str) -> str:
    """Node path ``text`` as one bash word: its node-root variables expand, the rest is literal.

    >>> print(bash_word('$HOME/a "b" `c` $(d)'))
    "$HOME"'/a "b" `c` $(d)'
    >>> print(bash_word("/srv/$HOME's/$AZ_BATCH_JOB_ID/x"))
    '/srv/$HOME'\\''s/'"$AZ_BATCH_JOB_ID"'/x'
    """
    words: list[str] = []
    pos = 0
    for var in _node_variables(_POSIX_VAR, text):
        if var.start() > pos:
            words.append(bash_single_quote(text[pos : var.start()]))
        words.append('"' + var.group(0) + '"')  # the closing quote ends the name
        pos = var.end()
    if pos < len(text) or not words:
        words.append(bash_single_quote(text[pos:]))
    return "".join(words)


def bash_single_quote(text: str) -> str:
    """``text`` as one single-quoted shell word (nothing expands).

    >>> print(bash_single_quote("it's"))
    'it'\\''s'
    """
    return "'" + text.replace("'", "'\\''") + "'"


def cmd_literal(text: str, *, to: str, what: str = "", expand: bool = True) -> str:
    """``text`` checked to reach ``to`` through cmd.exe unchanged (but for its node-root ``%VARS%``).

    Returns ``text``; raises :class:`UsageError` naming the character and what to rename.
    ``expand=False`` is for a name (a camera), which has no leading variable either.

    >>> cmd_literal("%AZ_BATCH_NODE_SHARED_DIR%\\\\a & b^.max", to="3ds Max")
    '%AZ_BATCH_NODE_SHARED_DIR%\\\\a & b^.max'
    """
    rest = text
    if expand:
        for var in reversed(_node_variables(_CMD_VAR, text)):
            rest = rest[: var.start()] + rest[var.end() :]
    for char, (name, plural) in _CMD_UNSAFE.items():
        if char in rest:
            raise UsageError(
                f"{what or 'name'} {text!r} has {name}, which cmd.exe on a Windows node cannot pass "
                f"to {to} unchanged",
                hint=f"rename it without {plural}",
            )
    return text


def cmd_quote(text: str, *, to: str, what: str = "", expand: bool = True) -> str:
    r"""``text`` as one double-quoted word for ``cmd /c`` and the C runtime of the program ``to``.

    Node-root ``%VARS%`` expand (see the module docstring); spaces, ``&``, ``^``, ``(`` and non-ASCII
    letters are literal inside the quotes; backslashes before the closing quote
    are doubled, or the C runtime would read ``\"`` as a literal quote. What
    cmd.exe cannot pass unchanged is refused (:func:`cmd_literal`).

    >>> print(cmd_quote("%AZ_BATCH_TASK_WORKING_DIR%\\out dir\\", to="Blender"))
    "%AZ_BATCH_TASK_WORKING_DIR%\out dir\\"
    """
    cmd_literal(text, to=to, what=what, expand=expand)
    trailing = len(text) - len(text.rstrip("\\"))
    return f'"{text}{chr(92) * trailing}"'
