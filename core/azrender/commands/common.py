"""What every ``azrender`` command shares: the consoles, JSON output, progress, one-line errors.

Nothing here imports rich or the Azure SDK when the module loads: ``azrender
scan --json`` must start without them (issue 20). The consoles are made on
first use, by the commands that print tables or coloured lines.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from azrender.errors import AzrenderError

if TYPE_CHECKING:
    from rich.console import Console

    from azrender.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


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
    click.echo(json.dumps(data, indent=2))


def err_line(line: str) -> None:
    """One plain line on stderr, flushed at once (progress in a log must not wait for a buffer)."""
    print(line, file=sys.stderr, flush=True)


def _root_flag(name: str) -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(root is not None and root.params.get(name))


def progress_for(as_json: bool) -> Progress:
    """Bars on a terminal, plain lines in a log or pipe, JSON lines with --json-progress."""
    from azrender.progress import NO_PROGRESS, LineProgress, RichProgress

    every = _progress_seconds()
    if _root_flag("json_progress"):
        return LineProgress(err_line, interval=every, as_json=True)
    if as_json:
        return NO_PROGRESS
    if err_console().is_terminal:
        return RichProgress(err_console())
    return LineProgress(err_line, interval=every)


def _progress_seconds() -> float:
    """Seconds between progress lines in a log: ``AZRENDER_PROGRESS_SECONDS``, default 5."""
    try:
        return max(0.0, float(os.environ.get("AZRENDER_PROGRESS_SECONDS", "5")))
    except ValueError:
        return 5.0


def friendly_errors(func: F) -> F:
    """Turn AzrenderError into one line on stderr and its exit code; no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AzrenderError as exc:
            if _debug():
                raise
            from azrender.storage.account import redact

            # escape: messages name TOML tables like [storage], which are not Rich markup
            err_console().print(f"[bold red]error:[/] {escape(redact(str(exc)))}", markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console().print("[bold red]interrupted[/]")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _debug() -> bool:
    return _root_flag("debug") or os.environ.get("AZRENDER_DEBUG", "") not in ("", "0")


preset_option = click.option(
    "--preset",
    "preset_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Show preset (TOML) with the storage and backend settings.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
no_cache_option = click.option(
    "--no-cache", is_flag=True,
    help="Scan the scene afresh: neither use nor update the scan cache.",
)


def backend_option(func: F) -> F:
    """``--backend``: override the preset's backend (the choices are the preset vocabulary's)."""
    from azrender.backends import BACKENDS

    return click.option(
        "--backend", type=click.Choice(BACKENDS), default=None, help="Override the preset's backend."
    )(func)
