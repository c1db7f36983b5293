"""Progress in a log or a pipe: plain or JSON lines, at most every few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from azrender.local.azurite import AzuriteServer
from azrender.reporters import LineProgress

BIN = Path(sys.executable).parent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_come_at_most_every_interval_with_numbers() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = LineProgress(lines.append, interval=5.0, clock=clock)
    progress.begin("upload", total=100 * 2**20, unit="B")
    for _ in range(20):  # 20 s at 5 MB/s, an advance every second
        clock.now += 1.0
        progress.advance(5 * 2**20)
    progress.end()
    assert len(lines) == 5  # at 5, 10, 15, 20 s, and the closing line
    assert lines[0] == "upload: 25.0 MB of 100.0 MB (25%), 5.0 MB/s, about 15 s left"
    assert lines[-1].startswith("upload: 100.0 MB of 100.0 MB (100%)")


def test_a_short_step_says_nothing() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = LineProgress(lines.append, interval=5.0, clock=clock)
    progress.begin("scan", total=3, unit="files")
    clock.now += 0.5
    progress.advance(3)
    progress.end()
    assert lines == []


def test_json_lines_carry_every_figure() -> None:
    lines: list[str] = []
    clock = Clock()
    progress = LineProgress(lines.append, interval=2.0, as_json=True, clock=clock)
    progress.begin("render job-1", total=4, unit="tasks")
    clock.now += 2.0
    progress.advance(1)
    progress.note("[yellow]task frames-002 failed:[/] [storage] is wrong")
    progress.end()
    first, note, last = (json.loads(line) for line in lines)
    assert first == {"step": "render job-1", "unit": "tasks", "done": 1, "total": 4, "percent": 25.0,
                     "rate": 0.5, "eta_s": 6.0, "final": False}
    assert note == {"note": "task frames-002 failed: [storage] is wrong"}
    assert last["final"] is True and last["done"] == 1


@pytest.mark.azurite
def test_an_upload_with_stderr_in_a_file_prints_progress(
    azurite: AzuriteServer, tmp_path: Path, real_fixtures: Path
) -> None:
    scene = real_fixtures / "helio__blender-asset-tracer/tests/blendfiles/doubly_linked.blend"
    preset = tmp_path / "log.toml"
    preset.write_text('name = "log"\n[storage]\nassets_container = "progress-log"\n')
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
           "AZRENDER_CACHE_DIR": str(tmp_path / "cache"), "AZRENDER_PROGRESS_SECONDS": "0"}
    log = tmp_path / "pipeline.log"
    with open(log, "w") as stderr:
        done = subprocess.run([str(BIN / "azrender"), "upload", str(scene), "--preset", str(preset)],
                              stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                              timeout=120, check=False)
    assert done.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    upload = [ln for ln in lines if ln.startswith("upload") and " of " in ln]
    assert upload, lines
    assert "(100%)" in upload[-1]

    preset.write_text('name = "log"\n[storage]\nassets_container = "progress-json"\n')
    json_log = tmp_path / "json.log"
    with open(json_log, "w") as stderr:
        done = subprocess.run(
            [str(BIN / "azrender"), "--json-progress", "upload", str(scene), "--preset", str(preset),
             "--json"], stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, timeout=120,
            check=False,
        )
    assert done.returncode == 0, json_log.read_text()
    json.loads(done.stdout)  # stdout stays the one JSON result
    records = [json.loads(ln) for ln in json_log.read_text().splitlines() if ln.startswith("{")]
    assert any(r.get("final") for r in records), json_log.read_text()
