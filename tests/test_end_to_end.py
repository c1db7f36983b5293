"""The whole flow through the real CLI: a real Blender scene, Azurite, the local node, real renders.

Each step runs `azrender` as a separate process, as a pipeline script would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from azrender.local.azurite import AzuriteServer

pytestmark = [pytest.mark.azurite, pytest.mark.bpy, pytest.mark.slow]

BIN = Path(sys.executable).parent


def azrender(env: dict[str, str], *args: str, expect: int = 0) -> Any:
    done = subprocess.run(
        [str(BIN / "azrender"), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == expect, f"azrender {args[0]} exited {done.returncode}:\n{done.stderr}"
    return json.loads(done.stdout) if "--json" in args else done


def image_stats(path: Path) -> tuple[float, float]:
    """Standard deviation of luminance, and the share of pure-magenta pixels (Blender's 'missing texture')."""
    from PIL import Image, ImageStat

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        stddev = ImageStat.Stat(rgb.convert("L")).stddev[0]
        raw = rgb.tobytes()
    pixels = len(raw) // 3
    magenta = sum(
        1 for i in range(0, len(raw), 3) if raw[i] > 200 and raw[i + 1] < 40 and raw[i + 2] > 200
    )
    return stddev, magenta / pixels




def test_render_resubmit_and_change_one_texture(
    demo_scene: Path, azurite: AzuriteServer, tmp_path: Path
) -> None:
    env = dict(os.environ)
    env.update(
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
    )
    preset = tmp_path / "e2e.toml"
    preset.write_text(
        'name = "e2e"\n[storage]\nassets_container = "e2e-assets"\noutputs_container = "e2e-outputs"\n'
        '[backend]\nkind = "local"\nslots = 2\n'
    )

    scan = azrender(env, "scan", str(demo_scene), "--json")
    assert scan["missing"] == []
    asset_count = len(scan["assets"])

    first = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "1-2",
                     "--chunk", "1", "--wait", "--json")
    assert first["state"] == "completed"
    assert [t["result"] for t in first["tasks"]] == ["success", "success"]
    assert first["files"] == asset_count
    assert first["uploaded_files"] == asset_count and first["skipped_files"] == 0

    dest = tmp_path / "frames-back"
    got = azrender(env, "download", first["job_id"], "--preset", str(preset), "--dest", str(dest), "--json")
    frames = sorted((dest / "frames").glob("*.png"))
    assert [f.name for f in frames] == ["shot010_0001.png", "shot010_0002.png"]
    assert got["downloaded_files"] == got["files"] >= 2 + 4  # two frames, two tasks' stdout/stderr
    for frame in frames:
        stddev, magenta = image_stats(frame)
        assert stddev > 5, f"{frame.name} is blank"
        assert magenta < 0.01, f"{frame.name} shows missing textures"
    assert (dest / "logs" / "frames-001" / "stdout.txt").read_bytes()

    again = azrender(env, "download", first["job_id"], "--preset", str(preset), "--dest", str(dest), "--json")
    assert (again["downloaded_files"], again["downloaded_bytes"]) == (0, 0)

    # Resubmitting the unchanged scene moves nothing, up or down to the node.
    second = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "1", "--wait", "--json")
    assert (second["uploaded_files"], second["uploaded_bytes"]) == (0, 0)
    assert second["skipped_files"] == asset_count
    assert second["state"] == "completed" and second["counts"]["failed"] == 0
    prep_log = tmp_path / "data" / "local" / "node" / "workitems" / second["job_id"] / "job-1" / "jobpreparation" / "stdout.txt"
    # The node downloads the job's own remap script and none of the assets it already has.
    assert ", 1 downloaded" in prep_log.read_text()
    assert f"{asset_count} unchanged" in prep_log.read_text()

    # Changing one texture uploads exactly that file, and the node fetches exactly that file.
    texture = demo_scene.parent / "textures" / "brick wall.png"
    from PIL import Image

    with Image.open(texture) as img:
        img.convert("RGB").rotate(90).save(texture)
    third = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "2", "--wait", "--json")
    assert third["uploaded_files"] == 1
    assert third["uploaded_bytes"] == texture.stat().st_size
    prep_log = prep_log.parents[3] / third["job_id"] / "job-1" / "jobpreparation" / "stdout.txt"
    assert ", 2 downloaded" in prep_log.read_text()  # the texture and the job's remap script
    assert f"{asset_count - 1} unchanged" in prep_log.read_text()

    status = azrender(env, "status", third["job_id"], "--preset", str(preset), "--json")
    assert status["state"] == "completed"
    listed = azrender(env, "jobs", "--preset", str(preset), "--json")
    assert [j["job_id"] for j in listed] == [first["job_id"], second["job_id"], third["job_id"]]


def _env_for(azurite: AzuriteServer, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
    )
    return env


def _preset(tmp_path: Path, slots: int) -> Path:
    preset = tmp_path / "bg.toml"
    preset.write_text(
        'name = "bg"\n[storage]\nassets_container = "bg-assets"\noutputs_container = "bg-outputs"\n'
        f'[backend]\nkind = "local"\nslots = {slots}\n'
    )
    return preset


def test_submit_returns_at_once_and_status_follows_from_another_process(
    demo_scene: Path, azurite: AzuriteServer, tmp_path: Path
) -> None:
    env, preset = _env_for(azurite, tmp_path), _preset(tmp_path, slots=1)
    submitted = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "3", "--json")
    assert submitted["state"] == "active"  # handed to the background worker
    done = azrender(env, "status", submitted["job_id"], "--preset", str(preset), "--wait", "--json")
    assert done["state"] == "completed"
    assert [t["result"] for t in done["tasks"]] == ["success"]


def test_cancel_stops_the_worker_and_fails_open_tasks(
    demo_scene: Path, azurite: AzuriteServer, tmp_path: Path
) -> None:
    env, preset = _env_for(azurite, tmp_path), _preset(tmp_path, slots=1)
    submitted = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "1-4", "--json")
    cancelled = azrender(env, "cancel", submitted["job_id"], "--preset", str(preset), "--json")
    assert cancelled["state"] == "completed"
    assert cancelled["counts"]["failed"] >= 3  # one slot: at most one task got to finish
    assert any(t["failure"] == "job cancelled" for t in cancelled["tasks"])
    # The state stays put: the worker is gone and does not overwrite it later.
    import time

    time.sleep(2)
    again = azrender(env, "status", submitted["job_id"], "--preset", str(preset), "--json")
    assert again["counts"] == cancelled["counts"]


def test_azcopy_node_sync_renders_the_demo_and_moves_nothing_the_second_time(
    demo_scene: Path, azurite: AzuriteServer, tmp_path: Path
) -> None:
    from azrender.local.node import find_azcopy

    if find_azcopy() is None:
        if os.environ.get("CI"):
            pytest.fail("azcopy is missing: scripts/setup.sh installs it into .tools/azcopy")
        pytest.skip("azcopy is not installed (bash scripts/setup.sh)")
    env = _env_for(azurite, tmp_path)
    preset = tmp_path / "azcopy.toml"
    preset.write_text(
        'name = "azc"\n[storage]\nassets_container = "azc-assets"\noutputs_container = "azc-outputs"\n'
        'node_sync = "azcopy"\n[backend]\nkind = "local"\nslots = 1\n'
    )
    first = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "1", "--wait", "--json")
    assert first["state"] == "completed" and [t["result"] for t in first["tasks"]] == ["success"]
    node = tmp_path / "data" / "local" / "node"
    prep = node / "workitems" / first["job_id"] / "job-1" / "jobpreparation"
    log = (prep / "stdout.txt").read_text()
    assert f"Number of File Transfers Completed: {first['files']}" in log, log
    on_node = {p.relative_to(node / "shared" / "assets").as_posix()
               for p in (node / "shared" / "assets").rglob("*") if p.is_file()}
    assert len(on_node) == first["files"]

    dest = tmp_path / "back"
    azrender(env, "download", first["job_id"], "--preset", str(preset), "--dest", str(dest), "--json")
    [frame] = sorted((dest / "frames").glob("*.png"))
    stddev, magenta = image_stats(frame)
    assert stddev > 5 and magenta < 0.01  # every texture arrived through azcopy

    second = azrender(env, "submit", str(demo_scene), "--preset", str(preset), "--frames", "2", "--wait", "--json")
    assert second["state"] == "completed" and second["uploaded_files"] == 0
    log = (node / "workitems" / second["job_id"] / "job-1" / "jobpreparation" / "stdout.txt").read_text()
    assert "Number of File Transfers Completed: 0" in log
    assert f"Number of File Transfers Skipped: {second['files']}" in log
