"""Run a renderer and end it at once when it reports a licence or missing-plugin failure.

Renderers that cannot get a licence often wait, retry or render watermarked
frames until the task's wall-clock limit; a scene needing a plug-in the node
lacks renders wrong frames. ``python3 -m azrender.node run -- <renderer argv>``
streams the renderer's output unchanged to its own stdout/stderr, matches each
line against :data:`PATTERNS`, and on a match ends the renderer's process
group and exits with a distinct code and one ``azrender: ...`` line::

    code = run(["Render", "-r", "arnold", "shot.ma"])   # 64 on a licence failure

On Windows nodes a task's line is ``python -m azrender.node run -- cmd /c "..."``
with the renderer's own line written as it runs unwatched. Python splits its
command line into ``sys.argv`` by the C runtime's rules, which cannot undo the
nested quotes of ``cmd /c "x.exe -o:"a b" "c d""``, and ``subprocess`` would
quote those pieces again. So on Windows the watcher starts the text that
follows ``azrender.node run --`` in its own raw command line
(``GetCommandLineW``), unsplit and byte for byte, as one ``CreateProcess``
command line (see :func:`popen_command`); the renderer's ``cmd /c`` then sees
exactly what it would have seen without the watcher.

Licence failures come in two kinds. A **shortage** (every seat in use, 64) passes:
the watcher runs the renderer again after a back-off (``AZRENDER_LICENCE_RETRIES``
more times, default 3, waiting ``AZRENDER_LICENCE_BACKOFF_S`` seconds, default 60,
doubling, at most 15 minutes), and when it still fails Batch retries the task as
any other failure; the job goes on. A server that is **unreachable** or a licence
that is **absent** (66), like a missing plug-in (65), fails every task the same
way: the Batch job's exit conditions end the job for those codes.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from azrender.node.contract import (
    EXIT_CODES,
    EXIT_LICENCE,
    EXIT_LICENCE_UNAVAILABLE,
    EXIT_PLUGIN,
    REASON_PREFIX,
)

_EXIT_OF_KIND = {"licence": EXIT_LICENCE, "plugin": EXIT_PLUGIN, "licence-unavailable": EXIT_LICENCE_UNAVAILABLE}

#: Environment of the licence-shortage back-off (see the module docstring).
ENV_LICENCE_RETRIES = "AZRENDER_LICENCE_RETRIES"
ENV_LICENCE_BACKOFF = "AZRENDER_LICENCE_BACKOFF_S"
LICENCE_RETRIES = 3
LICENCE_BACKOFF_S = 60.0
LICENCE_BACKOFF_MAX_S = 900.0

#: Seconds between asking the renderer to stop and killing it.
TERMINATE_GRACE_S = 5.0

#: Whether this node runs Windows: :func:`run` then starts its raw command line (see :func:`popen_command`).
ON_WINDOWS = os.name == "nt"


@dataclass(frozen=True)
class Pattern:
    kind: str  # "licence" (shortage or unclear) | "licence-unavailable" | "plugin"
    app: str
    regex: re.Pattern[str]


def _p(kind: str, app: str, regex: str) -> Pattern:
    return Pattern(kind, app, re.compile(regex, re.IGNORECASE))


#: Known failure messages. Sources: vendors' troubleshooting pages and the
#: messages as the renderers print them in batch mode.
PATTERNS: tuple[Pattern, ...] = (
    # First, the licence failures that fail every attempt alike (FlexNet error texts, also
    # inside Autodesk's "Licensing error: ..."): the server cannot be reached (-15, -96, a
    # server "not reachable") or it has no such licence (-5, "License ... not found").
    _p("licence-unavailable", "flexnet",
       r"cannot connect to licen[cs]e server|licen[cs]e server (?:machine )?(?:is )?(?:down|not responding)"
       r"|server \S+ (?:is )?not reachable|no such feature exists"),
    _p("licence-unavailable", "redshift", r"licen[cs]e for redshift\S* \S+ not found"),
    # A shortage: FlexNet -4 "Licensed number of users already reached", RLM "all licenses in use".
    _p("licence", "flexnet", r"licensed number of users already reached|all licen[cs]es (?:are )?in use"),
    # Autodesk licensing (Maya, 3ds Max, Arnold via AdskLicensing / FlexNet):
    # "Licensing error: ...", "License was not obtained", "Failed to get license".
    _p("licence", "autodesk", r"licens(?:e|ing) (?:error|was not obtained|checkout failed)"),
    _p("licence", "autodesk", r"(?:failed to|could not|cannot|unable to) (?:get|obtain|check ?out) (?:a )?licen[cs]e"),
    # Arnold (MtoA/MAXtoA) without a licence renders watermarked frames:
    # "[clm] ... rendering with watermarks", "ERROR | [license] ..."
    _p("licence", "arnold", r"rendering with watermarks|\[licen[cs]e\].*(?:error|not found|unavailable)"),
    # V-Ray: "error: Could not obtain a license", "V-Ray: License error".
    _p("licence", "vray", r"v-?ray.*licen[cs]e (?:error|not available|server)"),
    # Redshift: "License for redshift-core 2024.00 not found", "Redshift: No license available".
    _p("licence", "redshift", r"redshift.*no licen[cs]e"),
    # Blender: an add-on the scene's render engine needs is not installed:
    # "Add-on not loaded: \"octane\", cause: ..." / "Add-on not found: 'x'".
    _p("plugin", "blender", r"add-on not (?:loaded|found)"),
    # Maya: "Error: file: ... The plug-in 'mtoa' could not be found", unknown renderer,
    # nodes of a plug-in that is not loaded.
    _p("plugin", "maya", r"plug-?in '[^']+' (?:could not be (?:found|loaded)|was not found)"),
    _p("plugin", "maya", r"(?:invalid|unknown) renderer|renderer .* (?:is not|not) (?:registered|available)"),
    # 3ds Max: "Missing Dlls: ...", "Missing plug-ins".
    _p("plugin", "3dsmax", r"missing (?:dlls?|plug-?ins?)\b"),
)


def classify(line: str) -> Pattern | None:
    """The first pattern ``line`` matches, or None.

    >>> classify("00:00:01 [clm.v2] rendering with watermarks because of failed license").kind
    'licence'
    >>> classify("Fra:1 Mem:10M | Rendering 1 / 64 samples") is None
    True
    """
    for pattern in PATTERNS:
        if pattern.regex.search(line):
            return pattern
    return None


class _Watch:
    """Shared between the two reader threads: the first failure seen wins."""

    def __init__(self, proc: subprocess.Popen[bytes], windows: bool = False) -> None:
        self.proc = proc
        self.windows = windows
        self.lock = threading.Lock()
        self.hit: tuple[Pattern, str] | None = None

    def pump(self, source: IO[bytes], sink: IO[bytes]) -> None:
        for raw in iter(source.readline, b""):
            sink.write(raw)
            sink.flush()
            line = raw.decode("utf-8", errors="replace").strip()
            found = classify(line)
            if found is not None:
                with self.lock:
                    if self.hit is None:
                        self.hit = (found, line)
                        _end_group(self.proc, self.windows)


def taskkill_command(pid: int) -> list[str]:
    """End process ``pid`` and every process it started, at once (Windows has no process groups to signal).

    >>> taskkill_command(4242)
    ['taskkill', '/F', '/T', '/PID', '4242']
    """
    return ["taskkill", "/F", "/T", "/PID", str(pid)]


def _end_group(proc: subprocess.Popen[bytes], windows: bool = False) -> None:
    """Stop the renderer and everything it started (its own process group on POSIX).

    On Windows the renderer runs below ``cmd.exe``: ending ``cmd.exe`` alone
    would leave the renderer running, so the whole tree is ended with
    ``taskkill /T`` (console programs do not answer a polite request anyway).
    """
    if windows:
        try:
            done = subprocess.run(taskkill_command(proc.pid), capture_output=True, timeout=30, check=False)
            ended = done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            ended = False
        if not ended:
            with contextlib.suppress(OSError):
                proc.kill()
        return
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    except (ProcessLookupError, PermissionError):
        return

    def kill_later() -> None:
        try:
            proc.wait(TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()

    threading.Thread(target=kill_later, daemon=True).start()


# What comes before the renderer's line in a watched task's command line: ``... -m azrender.node run -- ``.
_RUN_MARKER = re.compile(r"""(?:^|[\s"'])azrender\.node[ \t]+run[ \t]+--(?:[ \t]+|$)""")


def command_after_marker(command_line: str) -> str | None:
    r"""The text after ``azrender.node run --`` in a raw command line, unchanged; None without one.

    >>> print(command_after_marker('python -m azrender.node run -- cmd /c "x.exe -o:"a b" "c d""'))
    cmd /c "x.exe -o:"a b" "c d""
    >>> command_after_marker("python -m azrender.node sync --job j") is None
    True
    """
    found = _RUN_MARKER.search(command_line)
    if found is None:
        return None
    rest = command_line[found.end() :]
    return rest if rest.strip() else None


def own_command_line() -> str:
    """This process's command line as Windows passed it (``GetCommandLineW``); empty elsewhere."""
    if sys.platform == "win32":
        import ctypes

        get = ctypes.windll.kernel32.GetCommandLineW
        get.argtypes = []
        get.restype = ctypes.c_wchar_p
        return str(get() or "")
    return ""


def popen_command(
    argv: Sequence[str], *, windows: bool, raw_command_line: str = "", process_argv: Sequence[str] = ()
) -> str | list[str]:
    """What the watcher starts for ``argv``: the list itself, or on Windows the raw text it came from.

    On Windows, when ``argv`` is the tail of this process's own arguments
    (``process_argv``, i.e. ``sys.argv``: the watcher was started as
    ``python -m azrender.node run -- <line>``), the answer is ``<line>`` as it
    stands in ``raw_command_line``, a string ``subprocess.Popen`` hands to
    ``CreateProcess`` unchanged. Otherwise ``argv`` as a list (quoted by
    ``subprocess`` on Windows, exec'd as it is on POSIX).

    >>> raw = 'python -m azrender.node run -- cmd /c "r.exe "a b""'
    >>> argv = ["cmd", "/c", "r.exe a", "b"]  # how the C runtime split it: lossy
    >>> popen_command(argv, windows=True, raw_command_line=raw, process_argv=["m.py", "run", "--", *argv])
    'cmd /c "r.exe "a b""'
    >>> popen_command(["blender", "-b", "a b.blend"], windows=False)
    ['blender', '-b', 'a b.blend']
    """
    command = list(argv)
    if windows and command:
        tail = command_after_marker(raw_command_line)
        if tail is not None and list(process_argv)[-len(command) :] == command:
            return tail
    return command


def licence_backoff(environ: Mapping[str, str]) -> list[float]:
    """The waits before each new attempt after a licence shortage.

    >>> licence_backoff({}), licence_backoff({ENV_LICENCE_RETRIES: "5", ENV_LICENCE_BACKOFF: "300"})
    ([60.0, 120.0, 240.0], [300.0, 600.0, 900.0, 900.0, 900.0])
    """
    try:
        retries = max(0, int(environ.get(ENV_LICENCE_RETRIES, LICENCE_RETRIES)))
        first = max(0.0, float(environ.get(ENV_LICENCE_BACKOFF, LICENCE_BACKOFF_S)))
    except ValueError:
        retries, first = LICENCE_RETRIES, LICENCE_BACKOFF_S
    return [min(first * 2**i, LICENCE_BACKOFF_MAX_S) for i in range(retries)]


def run(
    argv: Sequence[str],
    *,
    windows: bool | None = None,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``argv`` (again after a back-off while licences are short), echo its output, and
    return its exit code, or 64/65/66 on a known failure."""
    waits = licence_backoff(os.environ if environ is None else environ)
    for attempt, wait in enumerate([*waits, None], start=1):
        code = run_once(argv, windows=windows)
        if code != EXIT_LICENCE or wait is None:
            return code
        print(f"{REASON_PREFIX}licence shortage: trying again in {wait:g} s (attempt {attempt + 1} of "
              f"{len(waits) + 1})", file=sys.stderr, flush=True)
        sleep(wait)
    return code  # pragma: no cover - the loop always returns


def run_once(argv: Sequence[str], *, windows: bool | None = None) -> int:
    """Run ``argv`` once, echo its output, and return its exit code, or 64/65/66 on a known failure.

    ``windows`` (default :data:`ON_WINDOWS`) starts the raw command line that
    ``argv`` was split from, when there is one (:func:`popen_command`).
    """
    on_windows = ON_WINDOWS if windows is None else windows
    command = popen_command(
        argv, windows=on_windows, raw_command_line=own_command_line() if on_windows else "",
        process_argv=sys.argv,
    )
    try:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            start_new_session=(os.name == "posix" and not on_windows),
        )
    except FileNotFoundError:
        print(f"{REASON_PREFIX}{argv[0]}: command not found on the node", file=sys.stderr, flush=True)
        return 127
    watch = _Watch(proc, on_windows)
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=watch.pump, args=(proc.stdout, sys.stdout.buffer), daemon=True),
        threading.Thread(target=watch.pump, args=(proc.stderr, sys.stderr.buffer), daemon=True),
    ]
    for t in readers:
        t.start()
    code = proc.wait()
    for t in readers:
        # Children that kept the pipes open were killed with the group; don't wait forever.
        t.join(TERMINATE_GRACE_S + 1)
    if watch.hit is None:
        return code
    pattern, line = watch.hit
    exit_code = _EXIT_OF_KIND[pattern.kind]
    print(f"{REASON_PREFIX}{EXIT_CODES[exit_code]} ({pattern.app}): {line[:300]}", file=sys.stderr, flush=True)
    return exit_code
