r"""Quoting words for the node's command interpreter: bash on Linux, cmd.exe on Windows.

Batch starts a task's command line without a shell, so every line whose node
paths hold ``$AZ_BATCH_*`` / ``%AZ_BATCH_*%`` runs through ``/bin/bash -c`` or
``cmd /c``; these make one word of a path or name for either::

    bash_double_quote("$AZ_BATCH_NODE_SHARED_DIR/a b.blend")   # "$AZ_BATCH_NODE_SHARED_DIR/a b.blend"
    bash_single_quote("it's")                                  # 'it'\''s'
    cmd_quote("%AZ_BATCH_TASK_WORKING_DIR%\\out dir\\", to="Blender")   # "%AZ...%\out dir\\"
"""

from __future__ import annotations

import re

from azrender.errors import UsageError

# Inside a bash double-quoted string these keep a special meaning; ``$`` is
# deliberately absent so ``$AZ_BATCH_NODE_SHARED_DIR`` still expands.
_DQ_SPECIAL = re.compile(r'(["\\`])')


def bash_double_quote(text: str) -> str:
    """``text`` as a bash double-quoted word in which ``$VARS`` still expand.

    >>> print(bash_double_quote('$HOME/a "b" `c`'))
    "$HOME/a \\"b\\" \\`c\\`"
    """
    return '"' + _DQ_SPECIAL.sub(r"\\\1", text) + '"'


def bash_single_quote(text: str) -> str:
    """``text`` as one single-quoted shell word (nothing expands).

    >>> print(bash_single_quote("it's"))
    'it'\\''s'
    """
    return "'" + text.replace("'", "'\\''") + "'"


def cmd_quote(text: str, *, to: str) -> str:
    r"""``text`` as one double-quoted word for ``cmd /c`` and the C runtime of the program ``to``.

    cmd expands ``%VARS%`` inside the quotes, and spaces, ``&``, ``^``, ``(``
    and non-ASCII letters are literal there; backslashes before the closing
    quote are doubled, or the C runtime would read ``\"`` as a literal quote.
    A ``"`` or a line break cannot be passed through cmd.exe and is refused.

    >>> print(cmd_quote("%AZ_BATCH_TASK_WORKING_DIR%\\out dir\\", to="Blender"))
    "%AZ_BATCH_TASK_WORKING_DIR%\out dir\\"
    """
    if '"' in text or "\n" in text or "\r" in text:
        raise UsageError(
            f"{text!r} has a double quote or a line break",
            hint=f"rename it: cmd.exe cannot pass it to {to} on a Windows node",
        )
    trailing = len(text) - len(text.rstrip("\\"))
    return f'"{text}{chr(92) * trailing}"'
