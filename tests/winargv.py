"""How a Windows node reads a Batch command line, modelled for tests that run on Linux.

Batch starts a task with ``CreateProcess`` and no shell. ``cmd /c "<payload>"``
strips the first and the last quote of its line (more than two quotes, as in
every line the adapters write) and runs the rest after expanding ``%VARS%``
that are defined; a program then splits its own command line by the C
runtime's rules (:func:`split_ucrt`).
"""

from __future__ import annotations

import re

_VAR = re.compile(r"%([^%\s]+)%")


def split_ucrt(text: str) -> list[str]:
    """Arguments as the Universal C runtime's parser splits them (``argv_parsing.cpp``).

    2n backslashes before a quote give n and the quote toggles quoting; 2n+1
    give n and a literal quote; other backslashes are literal; inside quotes
    ``""`` is a literal quote. Python's ``sys.argv`` on Windows comes from it.
    """
    args: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return args
        word: list[str] = []
        quoted = False
        while i < n:
            backslashes = 0
            while i < n and text[i] == "\\":
                backslashes, i = backslashes + 1, i + 1
            copy = True
            if i < n and text[i] == '"':
                if backslashes % 2 == 0:
                    if quoted and i + 1 < n and text[i + 1] == '"':
                        i += 1  # "" inside quotes: one literal quote
                    else:
                        copy, quoted = False, not quoted
                backslashes //= 2
            word.append("\\" * backslashes)
            if i >= n or (not quoted and text[i] in " \t"):
                break
            if copy:
                word.append(text[i])
            i += 1
        args.append("".join(word))


def cmd_c_payload(line: str) -> str:
    """What ``cmd /c "..."`` runs: the line after ``/c`` without its first and last quote."""
    head = 'cmd /c "'
    assert line.startswith(head) and line.endswith('"'), line
    rest = line[len(head) - 1 :]
    last = rest.rindex('"')
    return rest[1:last] + rest[last + 1 :]


def cmd_commands(payload: str) -> list[str]:
    """The commands cmd.exe runs for ``payload``, in order: split at ``&&`` or ``&`` outside quotes.

    cmd.exe knows no backslash escapes: every ``"`` toggles its quoting.
    """
    commands: list[str] = []
    start, quoted, i = 0, False, 0
    while i < len(payload):
        if payload[i] == '"':
            quoted = not quoted
        elif not quoted and payload[i] == "&":
            commands.append(payload[start:i].strip(" "))
            i += 2 if payload.startswith("&&", i) else 1
            start = i
            continue
        i += 1
    return [*commands, payload[start:].strip(" ")]


def expand_cmd(text: str, env: dict[str, str]) -> str:
    """``%NAME%`` replaced as cmd.exe does on a command line: defined names only."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def run_under_cmd(line: str, env: dict[str, str]) -> list[str]:
    """The argv the program started by ``cmd /c "..."`` receives (one command, no ``&&``)."""
    return split_ucrt(expand_cmd(cmd_c_payload(line), env))
