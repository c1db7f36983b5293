"""A `blender` that never answers --version (and leaves a child holding its output) costs the
local node a bounded wait, not the child's lifetime."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from azrender_blender import localnode as blenders


def test_a_hanging_blender_is_given_up_on_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = tmp_path / "blender"
    stuck.write_text(
        f"#!{sys.executable}\n"
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        "print('Blender is starting...', flush=True)\n"
        "time.sleep(300)\n"
    )
    stuck.chmod(0o755)
    monkeypatch.setattr(blenders, "VERSION_TIMEOUT_S", 1)
    begun = time.monotonic()
    assert blenders.blender_version(str(stuck)) is None
    assert time.monotonic() - begun < 10  # the timeout plus ending them, not the 300 s sleep
