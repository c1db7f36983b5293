"""One line, with what to do, for every way writing to the local disk fails.

::

    with local_disk_errors("downloading", dest, other="another --dest"):
        dest.mkdir(parents=True, exist_ok=True)

A full disk, a read-only file system, a folder we may not write, or a path
whose parent is a file raise a :class:`~azrender.errors.StorageError` naming
the path; any other ``OSError`` (a network failure is one too) passes through.
The error numbers are POSIX's (``errno``); Windows maps its own codes onto the
same names (``ERROR_DISK_FULL`` → ``ENOSPC``, Python's ``errno`` module docs).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from azrender.errors import StorageError, UsageError

#: errno → (what it means, what to do; ``{other}`` names the alternative).
_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space there or choose {other}"),
    errno.EDQUOT: ("the disk quota is used up", "free some space there or choose {other}"),
    errno.EROFS: ("the file system is read-only", "choose {other} on a writable disk"),
    errno.EACCES: ("permission denied", "choose {other} you can write to, or fix its permissions"),
    errno.EPERM: ("permission denied", "choose {other} you can write to, or fix its permissions"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "choose {other}"),
    # mkdir(exist_ok=True) on a path that is a file (nothing here creates with O_EXCL)
    errno.EEXIST: ("a part of the path is a file, not a folder", "choose {other}"),
    errno.EISDIR: ("it is a folder, not a file", "choose {other}"),
    errno.ENAMETOOLONG: ("the name is too long for this file system", "choose {other}"),
}


def disk_reason(exc: BaseException) -> tuple[str, str] | None:
    """(meaning, default hint) if ``exc`` is a local disk failure, else None.

    >>> disk_reason(OSError(errno.ENOSPC, "No space left on device"))[0]
    'the disk is full'
    >>> disk_reason(ConnectionResetError(errno.ECONNRESET, "reset")) is None
    True
    """
    if not isinstance(exc, OSError) or isinstance(exc, (ConnectionError, TimeoutError)):
        return None
    return _REASONS.get(exc.errno or 0)


@contextmanager
def local_disk_errors(
    what: str, where: Path | str, *, other: str = "another folder", note: str | None = None
) -> Iterator[None]:
    """Turn a local disk failure inside the block into one :class:`StorageError` line.

    The hint says what to do for that failure, offering ``other`` (``"another
    --dest"``) as the way out, followed by ``note`` if given.
    """
    try:
        yield
    except OSError as exc:
        reason = disk_reason(exc)
        if reason is None:
            raise
        hint = reason[1].format(other=other) + (f"; {note}" if note else "")
        raise StorageError(f"{what}: cannot write {where}: {reason[0]}", hint=hint) from exc


def check_folder(path: Path, flag: str) -> None:
    """Refuse ``path`` at once if it, or the nearest part of it that exists, is not a folder.

    Nothing is created: a bad ``--dest`` must not leave folders behind.
    """
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return
        probe = probe.parent
    if not probe.is_dir():
        which = "is a file" if probe == path else f"is inside {probe}, which is a file"
        raise UsageError(f"{flag} {path} {which}, not a folder", hint=f"give a folder path for {flag}")
