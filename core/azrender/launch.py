"""The ``azrender`` executable: a plain ``azrender scan`` straight to the scanner, the rest through click.

``azrender scan`` is the command a user waits for on every button press and a
pipeline runs per scene, and on a small scene most of its time is Python
starting up: loading click alone costs about as much as reading the .blend
(issue 20, ``bench/scan.py``). So the arguments of a scan are read here, by
hand, when they are nothing but the scene and the scan's flags; anything else
(``--help``, ``--version``, an unknown or misspelt option, a second scene, any
other command) goes to the click parser in :mod:`azrender.cli`, which answers
it as always. Both paths run the same :func:`azrender.commands.scanning.run_scan`,
and ``tests/core/test_launch.py`` holds this grammar to the click command's
options, so an option added there and not here fails a test instead of being
taken for a scene.

>>> read_scan(["scan", "shot.blend", "--json"])
ScanArgs(scene='shot.blend', flags=frozenset({'as_json'}), root_flags=frozenset())
>>> read_scan(["scan", "--help"]) is None  # click answers it
True
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import NamedTuple, NoReturn

#: The root group's flags a fast scan understands (before ``scan``), by their parameter names.
ROOT_FLAGS = {"--debug": "debug", "--json-progress": "json_progress"}
#: The scan command's flags, by their parameter names (click: ``azrender.commands.scan.scan``).
SCAN_FLAGS = {"--json": "as_json", "--strict": "strict", "--no-cache": "no_cache"}


class ScanArgs(NamedTuple):
    """A plain ``azrender scan`` command line: the scene as given, and the flags that were set."""

    scene: str
    flags: frozenset[str]
    root_flags: frozenset[str]


def read_scan(args: Sequence[str]) -> ScanArgs | None:
    """``args`` as a plain scan, or None for anything the click parser must answer."""
    args = list(args)
    root: set[str] = set()
    while args and args[0] in ROOT_FLAGS:
        root.add(ROOT_FLAGS[args.pop(0)])
    if not args or args.pop(0) != "scan":
        return None
    flags: set[str] = set()
    scenes: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "--":  # the rest are arguments, even when they start with "-"
            scenes += args
            break
        if arg in SCAN_FLAGS:
            flags.add(SCAN_FLAGS[arg])
        elif arg.startswith("-") and arg != "-":
            return None  # an option this grammar does not know: click says what is wrong
        else:
            scenes.append(arg)
    if len(scenes) != 1:
        return None
    return ScanArgs(scenes[0], frozenset(flags), frozenset(root))


def console() -> NoReturn:
    """The ``azrender`` executable and ``python -m azrender``: :func:`main` with the process's arguments.

    A plain scan runs with the cycle collector off, from before the first
    import (:mod:`azrender.__main__`, the executable's first module, turns it
    off) to the exit: the modules, classes and functions the imports make live
    until then, the scan makes no cycles (:mod:`azrender.scan.collector`), and
    the collector would walk them all for nothing (~3 ms of a small scan
    here). It then leaves without the interpreter's teardown, which frees,
    module by module, what the exiting process gives back anyway (~11 ms).
    Its answer is out by then: the scan cache is written before ``main``
    returns, and stdout and stderr are flushed here, which ``os._exit`` would
    not do ("Exit the process with status n, without calling cleanup
    handlers, flushing stdio buffers, etc.",
    https://docs.python.org/3/library/os.html#os._exit). When a flush fails (a
    reader that closed the pipe), the exit is Python's own, with what it does
    then. Every other command runs with the collector on and exits as Python
    does: its threads and context managers are its own to finish.
    """
    if read_scan(sys.argv[1:]) is None:
        gc.enable()
        main()
        sys.exit(0)
    gc.disable()  # and never on again: the process ends in os._exit
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        raise SystemExit(code)  # Python prints it and exits 1; not one of a scan's own codes
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code or 0)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``azrender`` with ``argv`` (default: the process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    plain = read_scan(args)
    if plain is None:
        from azrender.cli import main as click_main

        click_main(args, prog_name="azrender")
        return
    from pathlib import Path

    from azrender.commands.output import debug_from_env, run_reporting_errors
    from azrender.commands.scanning import run_scan

    run_reporting_errors(
        lambda: run_scan(
            Path(plain.scene),
            as_json="as_json" in plain.flags,
            strict="strict" in plain.flags,
            no_cache="no_cache" in plain.flags,
            json_progress="json_progress" in plain.root_flags,
        ),
        debug="debug" in plain.root_flags or debug_from_env(),
    )


if __name__ == "__main__":
    console()
