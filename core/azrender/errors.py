"""One error type that every layer raises and the CLI turns into a one-line message.

A user-facing failure names the thing that is wrong and what to do about it::

    raise AzrenderError("preset shows/abc.toml: unknown key `acount_url`",
                        hint="did you mean `account_url`?")

The CLI prints ``error: <message> (<hint>)`` and exits with ``exit_code``;
no traceback unless ``--debug`` or ``AZRENDER_DEBUG=1``.
"""

from __future__ import annotations

# Exit codes are part of the CLI contract that pipeline scripts rely on.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_MISSING = 3
EXIT_JOB_FAILED = 4
# 128 + SIGINT, what shells report for a command ended by Ctrl-C.
EXIT_INTERRUPTED = 130


class AzrenderError(Exception):
    """A failure the user can act on: what went wrong, and what to do."""

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(AzrenderError):
    """Bad input on the command line or in a file the user wrote."""

    exit_code = EXIT_USAGE


class SceneError(AzrenderError):
    """A scene file that cannot be read: corrupt, truncated or of an unknown kind."""

    exit_code = EXIT_USAGE


class PresetError(AzrenderError):
    """A preset that does not parse or does not validate."""

    exit_code = EXIT_USAGE


class StorageError(AzrenderError):
    """Blob storage unreachable, credential refused, container missing, transfer failed."""


class JobError(AzrenderError):
    """A job that does not exist or cannot be run."""


class Cancelled(AzrenderError):
    """The user stopped the work (a Cancel button); nothing after that point was done."""

    exit_code = EXIT_INTERRUPTED


class WaitInterrupted(AzrenderError):
    """Ctrl-C while waiting for a job: the job itself was left running, or cancelled on request."""

    exit_code = EXIT_INTERRUPTED
