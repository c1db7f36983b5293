"""The files a scan used or looked for without listing them, so the scan cache can watch them too.

A scanner may decide what a written path means from a file it does not list
as an asset: Maya's project file ``workspace.mel``, whose file rules say where
a relative texture path is looked for, found by looking for it in the scene's
folder and each folder above; or a texture found in the second place Maya
looks, where a file made later in the first place would win. Scanners note
the file they used with :func:`note_file`, a file they looked for in vain with
:func:`note_missing`, and a folder they looked in for files with
:func:`note_folder` while :func:`recording_inputs` runs; the scan cache
(:mod:`azrender.scan.cache`) keeps a result only while each used file has the
same size and ``mtime_ns``, each missing one is still missing (a per-file
check, for the folders above a scene, up to ``/``, which change for reasons
of their own all the time), and each folder has the same ``mtime_ns``
(creating or removing a file in it changes that; few folders serve many files)::

    >>> with recording_inputs() as seen:
    ...     note_missing("/show/proj/scenes/workspace.mel")
    ...     note_file("/show/proj/workspace.mel")
    ...     note_folder("/show/proj/scenes")
    >>> sorted(seen.files), sorted(seen.missing), sorted(seen.folders)
    (['/show/proj/workspace.mel'], ['/show/proj/scenes/workspace.mel'], ['/show/proj/scenes'])

Outside :func:`recording_inputs` the notes cost one context-variable lookup and are dropped.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Inputs:
    """What one scan looked at beyond its assets (absolute paths): files it used, files it
    looked for in vain, folders it looked in."""

    files: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)


_INPUTS: contextvars.ContextVar[Inputs | None] = contextvars.ContextVar("azrender_scan_inputs", default=None)


def note_file(path: str | os.PathLike[str]) -> None:
    """A file whose content (or presence) the running scan used."""
    if (inputs := _INPUTS.get()) is not None:
        inputs.files.add(os.path.abspath(path))


def note_missing(path: str | os.PathLike[str]) -> None:
    """A file the running scan looked for and did not find (one there later would change the answer)."""
    if (inputs := _INPUTS.get()) is not None:
        inputs.missing.add(os.path.abspath(path))


def note_folder(path: str | os.PathLike[str]) -> None:
    """A folder the running scan looked in for a file (whether the folder exists or not)."""
    if (inputs := _INPUTS.get()) is not None:
        inputs.folders.add(os.path.abspath(path))


@contextlib.contextmanager
def recording_inputs() -> Iterator[Inputs]:
    """Collect, in the :class:`Inputs` it yields, what the ``note_*`` functions are told meanwhile."""
    inputs = Inputs()
    token = _INPUTS.set(inputs)
    try:
        yield inputs
    finally:
        _INPUTS.reset(token)
