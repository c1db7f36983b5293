"""`python3 -m azrender.node run`: a renderer that prints a licence failure is ended within seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from azrender.node.contract import EXIT_LICENCE, EXIT_LICENCE_UNAVAILABLE, EXIT_PLUGIN
from azrender.node.watch import classify, run


def fake_renderer(tmp_path: Path, message: str, stream: str = "stdout") -> Path:
    """Prints a few progress lines, then ``message``, then hangs as a stuck renderer does."""
    script = tmp_path / "renderer.py"
    script.write_text(textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print("Fra:1 Mem:10M | Syncing Cube", flush=True)
        print({message!r}, file=sys.{stream}, flush=True)
        time.sleep(600)
    """))
    return script


def run_node(*args: str, retries: int = 0) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    env = {**os.environ, "AZRENDER_LICENCE_RETRIES": str(retries), "AZRENDER_LICENCE_BACKOFF_S": "0"}
    done = subprocess.run([sys.executable, "-m", "azrender.node", "run", "--", *args],
                          capture_output=True, text=True, timeout=60, check=False, env=env)
    return done, time.monotonic() - start


@pytest.mark.parametrize(("message", "stream", "code", "app"), [
    ("00:00:02 [clm.v2] rendering with watermarks because of failed license", "stdout", EXIT_LICENCE, "arnold"),
    ("error: Could not obtain a license for V-Ray", "stderr", EXIT_LICENCE, "autodesk"),
    ("[Redshift] License for redshift-core 2024.00 not found", "stdout", EXIT_LICENCE_UNAVAILABLE, "redshift"),
    ("Licensing error: Cannot connect to license server system. (-15,10:111)", "stderr",
     EXIT_LICENCE_UNAVAILABLE, "flexnet"),
    ("License checkout failed: Licensed number of users already reached. (-4,342)", "stderr",
     EXIT_LICENCE, "flexnet"),
    ('Add-on not loaded: "octane", cause: No module named \'octane\'', "stderr", EXIT_PLUGIN, "blender"),
    ("// Error: The plug-in 'mtoa' could not be found.", "stderr", EXIT_PLUGIN, "maya"),
    ("Missing Dlls: vrender2024.dlr", "stdout", EXIT_PLUGIN, "3dsmax"),
])
def test_known_failure_ends_the_renderer_within_seconds(
    tmp_path: Path, message: str, stream: str, code: int, app: str
) -> None:
    done, elapsed = run_node(sys.executable, str(fake_renderer(tmp_path, message, stream)))
    assert done.returncode == code, done.stderr
    assert elapsed < 15
    assert message in (done.stdout if stream == "stdout" else done.stderr)  # output is streamed
    reason = done.stderr.strip().splitlines()[-1]
    assert reason.startswith("azrender: ") and f"({app})" in reason and message in reason


def test_a_clean_renderer_keeps_its_exit_code_and_output(tmp_path: Path) -> None:
    done, _ = run_node(sys.executable, "-c", "import sys; print('Fra:1 done'); sys.exit(3)")
    assert done.returncode == 3 and done.stdout == "Fra:1 done\n" and "azrender:" not in done.stderr


def test_unknown_command_and_ordinary_lines() -> None:
    done, _ = run_node("no-such-renderer-azr")
    assert done.returncode == 127 and "command not found" in done.stderr
    assert classify("Fra:12 Mem:1.2G | Time:00:03.11 | Sample 64/128") is None
    assert classify("Licensing error: (ADSK) server 27000@lic1 not reachable") is not None


def test_a_licence_shortage_is_tried_again_and_an_absent_licence_is_not(tmp_path: Path) -> None:
    # Short of seats on the first two attempts, a seat on the third: the frame renders.
    count = tmp_path / "attempts"
    script = tmp_path / "renderer.py"
    script.write_text(textwrap.dedent(f"""
        import pathlib, sys, time
        count = pathlib.Path({str(count)!r})
        n = int(count.read_text()) + 1 if count.exists() else 1
        count.write_text(str(n))
        if n < 3:
            print("License checkout failed: Licensed number of users already reached.", flush=True)
            time.sleep(600)
        print("Fra:1 done", flush=True)
    """))
    done, _ = run_node(sys.executable, str(script), retries=3)
    assert done.returncode == 0, done.stderr
    assert count.read_text() == "3" and done.stderr.count("licence shortage: trying again") == 2
    # Still short after every retry: 64, for Batch to retry the task (the job goes on).
    count.unlink()
    done, _ = run_node(sys.executable, str(script), retries=1)
    assert done.returncode == EXIT_LICENCE and count.read_text() == "2"
    # The server cannot be reached: no second attempt.
    gone = fake_renderer(tmp_path, "Licensing error: Cannot connect to license server system.")
    waits: list[float] = []
    code = run([sys.executable, str(gone)], environ={"AZRENDER_LICENCE_RETRIES": "3"}, sleep=waits.append)
    assert code == EXIT_LICENCE_UNAVAILABLE and waits == []
