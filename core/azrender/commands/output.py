"""What every ``azrender`` command prints, click or not: consoles, JSON, progress, one-line errors.

Nothing here imports click, rich or the Azure SDK when the module loads:
``azrender scan --json`` runs without any of them (see :mod:`azrender.launch`).
The consoles are made on first use, by the commands that print tables or
coloured lines.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from azrender.errors import AzrenderError

if TYPE_CHECKING:
    from rich.console import Console

    from azrender.progress import Progress

T = TypeVar("T")


@functools.cache
def err_console() -> Console:
    """Rich output on stderr: human lines, tables of findings, errors."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@functools.cache
def out_console() -> Console:
    """Rich output on stdout: the tables a command prints as its result."""
    from rich.console import Console

    return Console(highlight=False)


def escape(text: str) -> str:
    """``text`` with Rich markup characters escaped (messages name TOML tables like ``[storage]``)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def emit_json(data: object) -> None:
    """The command's JSON document on stdout (the contract pipeline scripts read)."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def err_line(line: str) -> None:
    """One plain line on stderr, flushed at once (progress in a log must not wait for a buffer)."""
    print(line, file=sys.stderr, flush=True)


def make_progress(as_json: bool, *, json_progress: bool) -> Progress:
    """Bars on a terminal, plain lines in a log or pipe, JSON lines with ``--json-progress``."""
    from azrender.progress import NO_PROGRESS

    if as_json and not json_progress:
        return NO_PROGRESS  # before the reporters are loaded: `azrender scan --json` needs none
    from azrender.reporters import LineProgress, RichProgress

    every = _progress_seconds()
    if json_progress:
        return LineProgress(err_line, interval=every, as_json=True)
    if err_console().is_terminal:
        return RichProgress(err_console())
    return LineProgress(err_line, interval=every)


def _progress_seconds() -> float:
    """Seconds between progress lines in a log: ``AZRENDER_PROGRESS_SECONDS``, default 5."""
    try:
        return max(0.0, float(os.environ.get("AZRENDER_PROGRESS_SECONDS", "5")))
    except ValueError:
        return 5.0


def debug_from_env() -> bool:
    """``AZRENDER_DEBUG`` set to anything but empty or ``0``: show tracebacks."""
    return os.environ.get("AZRENDER_DEBUG", "") not in ("", "0")


def run_reporting_errors(call: Callable[[], T], *, debug: bool) -> T:
    """``call()``; an AzrenderError becomes one line on stderr and its exit code, no traceback.

    With ``debug`` the error propagates with its traceback. Ctrl-C exits 130.
    """
    try:
        return call()
    except AzrenderError as exc:
        if debug:
            raise
        from azrender.storage.account import redact

        # escape: messages name TOML tables like [storage], which are not Rich markup
        err_console().print(f"[bold red]error:[/] {escape(redact(str(exc)))}", markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console().print("[bold red]interrupted[/]")
        sys.exit(130)
