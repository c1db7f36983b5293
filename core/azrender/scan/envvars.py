"""Environment variables in scene paths: ``$VAR``, ``${VAR}`` and ``%VAR%``.

Artists write ``$PROJ/tex/a.png`` (Maya, Linux) or ``%SHOW%\\tex\\a.png``
(Windows). A variable that is not set is *reported*, never silently left in
place or replaced by an empty string: a path that still holds ``$PROJ`` names
no file, and the scan must say which variable was missing.

>>> r = expand_vars("$PROJ/tex/${NAME}.png", {"PROJ": "/show", "NAME": "wall"})
>>> r.text, r.unresolved
('/show/tex/wall.png', ())
>>> expand_vars("%SHOW%\\\\a.png", {}).unresolved
('SHOW',)

Frame tokens that look like variables (Houdini's ``$F``, ``$F4``) are not
variables and stay untouched:

>>> expand_vars("/r/img.$F4.exr", {}).text
'/r/img.$F4.exr'
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

#: The process environment's variables a scan looked up, by name (None: not set), while
#: :func:`recording_env_reads` runs; the scan cache keeps a result only while they stay so.
_ENV_READS: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "azrender_env_reads", default=None
)

# ${VAR} | $VAR | %VAR%   (a lone % as in %04d is not a variable: it has no closing %name%)
_VAR = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|%(?P<win>[A-Za-z_][A-Za-z0-9_()]*)%"
)

# $F, $F2..$F9: Houdini/ Maya-style frame tokens, see azrender.scan.tokens.
_FRAME_TOKEN = re.compile(r"F[0-9]?")


@dataclass(frozen=True)
class Expansion:
    """The text with every resolvable variable replaced, and the names that were not."""

    text: str
    unresolved: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when no variable was left unresolved."""
        return not self.unresolved


def has_vars(text: str) -> bool:
    """True if ``text`` contains a ``$VAR``, ``${VAR}`` or ``%VAR%`` reference.

    >>> has_vars("/a/$B/c"), has_vars("/a/b_%04d.exr"), has_vars("/r/x.$F4.exr")
    (True, False, False)
    """
    return any(_name(m) is not None for m in _VAR.finditer(text))


@contextlib.contextmanager
def recording_env_reads() -> Iterator[dict[str, str | None]]:
    """Collect, in the dict it yields, each process environment variable looked up meanwhile.

    Scanners read the environment through :func:`env_value` (and
    :func:`expand_vars`), so a scan's result can be kept with the variables it
    depended on (:mod:`azrender.scan.cache`). A mapping a caller passes in
    instead of ``os.environ`` is the caller's, and is not recorded.

    >>> with recording_env_reads() as reads:
    ...     _ = expand_vars("$AZRENDER_DOCTEST_UNSET/a.png")
    >>> reads
    {'AZRENDER_DOCTEST_UNSET': None}
    """
    reads: dict[str, str | None] = {}
    token = _ENV_READS.set(reads)
    try:
        yield reads
    finally:
        _ENV_READS.reset(token)


def env_value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """``env[name]`` (``os.environ`` when None), recorded for :func:`recording_env_reads`."""
    environ: Mapping[str, str] = os.environ if env is None else env
    value = environ.get(name)
    if environ is os.environ and (reads := _ENV_READS.get()) is not None:
        reads[name] = value
    return value


def _name(match: re.Match[str]) -> str | None:
    plain = match.group("plain")
    if plain is not None and _FRAME_TOKEN.fullmatch(plain):
        return None
    return match.group("braced") or plain or match.group("win")


def expand_vars(text: str, env: Mapping[str, str] | None = None) -> Expansion:
    """Replace variables from ``env`` (``os.environ`` when None); list the ones not set.

    Unresolved references are left exactly as written in ``text`` so the report
    shows what the scene says.

    >>> expand_vars("${A}/$A/%A%", {"A": "x"}).text
    'x/x/x'
    >>> expand_vars("$A/$B/$A", {}).unresolved
    ('A', 'B')
    """
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = _name(match)
        if name is None:
            return match.group(0)
        value = env_value(name, env)
        if value is None:
            if name not in missing:
                missing.append(name)
            return match.group(0)
        return value

    return Expansion(_VAR.sub(substitute, text), tuple(missing))
