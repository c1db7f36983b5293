"""What the click commands share: their common options, and the root flags read from click's context.

The printing itself (consoles, JSON, progress, one-line errors) is
:mod:`azrender.commands.output`, which imports no click; its names are
re-exported here for the commands.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from azrender.commands.output import debug_from_env, make_progress, run_reporting_errors
from azrender.commands.output import emit_json as emit_json  # re-exported for the commands
from azrender.commands.output import err_console as err_console
from azrender.commands.output import err_line as err_line
from azrender.commands.output import escape as escape
from azrender.commands.output import out_console as out_console

if TYPE_CHECKING:
    from azrender.progress import Progress

F = TypeVar("F", bound=Callable[..., Any])


def root_flag(name: str) -> bool:
    """The value of the root group's flag ``name`` (``debug``, ``json_progress``) in this click run."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return bool(root is not None and root.params.get(name))


def progress_for(as_json: bool) -> Progress:
    """Bars on a terminal, plain lines in a log or pipe, JSON lines with --json-progress."""
    return make_progress(as_json, json_progress=root_flag("json_progress"))


def friendly_errors(func: F) -> F:
    """Turn AzrenderError into one line on stderr and its exit code; no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run_reporting_errors(lambda: func(*args, **kwargs), debug=_debug())

    return wrapper  # type: ignore[return-value]


def _debug() -> bool:
    return root_flag("debug") or debug_from_env()


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
