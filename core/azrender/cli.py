"""The ``azrender`` command: scan, upload, submit, status, jobs, download, preset.

The JSON each command prints with ``--json`` is a contract that pipeline
scripts rely on (see README.md, "Command line"). Human output and progress go
to stderr, JSON to stdout. Errors are one line, ``error: ...``, with a non-zero
exit code: 1 failure, 2 bad input, 3 missing files under ``--strict``, 4 a job
whose tasks failed. ``--debug`` (or ``AZRENDER_DEBUG=1``) shows tracebacks.

This module is only the parser: each command lives in a small module of
:mod:`azrender.commands`, imported when that command runs, so ``azrender scan``
never loads the Azure SDK (the lazy group is click's documented pattern,
https://click.palletsprojects.com/en/stable/complex/#lazily-loading-subcommands).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from azrender import __version__

#: Each command's name -> "module:attribute" of its click command, in azrender.commands.
COMMANDS = {
    "scan": "scan:scan",
    "upload": "transfer:upload",
    "download": "transfer:download",
    "submit": "submit:submit",
    "status": "jobs:status",
    "jobs": "jobs:jobs",
    "cancel": "jobs:cancel",
    "retry": "jobs:retry",
    "doctor": "jobs:doctor",
    "preset": "preset:preset",
}


class _LazyCommands(dict[str, click.Command]):
    """The group's commands by name; one of :data:`COMMANDS` is imported when first looked up."""

    def __missing__(self, name: str) -> click.Command:
        if name not in COMMANDS:
            raise KeyError(name)
        module, attr = COMMANDS[name].split(":")
        command = getattr(importlib.import_module(f"azrender.commands.{module}"), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"azrender.commands.{module}.{attr} is not a click command")
        self[name] = command
        return command


class LazyGroup(click.Group):
    """A group whose commands are imported by name, when they are asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name in COMMANDS:
            return self.commands[cmd_name]
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="azrender")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.option(
    "--json-progress", is_flag=True,
    help="Report progress as JSON lines on stderr (every few seconds and at each step's end).",
)
def main(debug: bool, json_progress: bool) -> None:
    """Render on Azure: find a scene's files, upload what changed, render, bring frames back."""


if __name__ == "__main__":
    main()
