"""Kill a child process with SIGKILL once it is midway, for the resume tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

import pytest


def kill_when(child: subprocess.Popen[bytes], midway: Callable[[], bool], *, timeout: float = 60,
              poll: float = 0.01) -> None:
    """SIGKILL ``child`` as soon as ``midway()`` holds; fail if it exits or never gets there.

    The wait is bounded by ``timeout`` and the child is always reaped.
    """
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if midway():
                break
            assert child.poll() is None, child.communicate()
            time.sleep(poll)
        else:
            pytest.fail("the child never got midway")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
