"""The CLI contract: JSON shapes, exit codes, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from azrender.errors import EXIT_MISSING, EXIT_USAGE, PresetError, SceneError, StorageError
from azrender.local.azurite import DEV_ACCOUNT, DEV_KEY, free_port

BIN = Path(sys.executable).parent
BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("AZRENDER_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN / "azrender"), *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def preset(tmp_path: Path) -> Path:
    path = tmp_path / "show.toml"
    path.write_text('name = "show"\n[storage]\nassets_container = "cli-assets"\n')
    return path


def test_help_lists_the_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("scan", "upload", "submit", "status", "jobs", "download", "cancel", "preset"):
        assert f"  {command} " in done.stdout


def test_scan_json_contract(real_fixtures: Path) -> None:
    scene = real_fixtures / BLENDFILES / "doubly_linked.blend"
    done = run("scan", str(scene), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["scene"] == str(scene) and doc["app"] == "blender"
    assert set(doc["assets"][0]) >= {"path", "kind", "exists", "size"}
    assert doc["assets"][0]["kind"] == "scene"
    paths = {a["path"] for a in doc["assets"]}
    assert str(scene.parent / "linked_cube.blend") in paths
    assert doc["missing"] == [str(scene.parent / "material_textures.blend")]
    assert all(os.path.isabs(p) for p in paths)


def test_scan_strict_exits_3_and_still_prints_json(real_fixtures: Path) -> None:
    scene = real_fixtures / BLENDFILES / "missing_textures.blend"
    done = run("scan", str(scene), "--json", "--strict")
    assert done.returncode == EXIT_MISSING
    assert json.loads(done.stdout)["missing"]
    assert "missing" in done.stderr and "Traceback" not in done.stderr


def test_scan_of_a_missing_scene(tmp_path: Path) -> None:
    done = run("scan", str(tmp_path / "nope.blend"))
    assert_one_line_error(done, SceneError.exit_code, "scene not found", "nope.blend")


def test_scan_of_an_unknown_format(tmp_path: Path) -> None:
    scene = tmp_path / "shot.c4d"
    scene.write_bytes(b"x")
    assert_one_line_error(run("scan", str(scene)), EXIT_USAGE, ".c4d")


def test_bad_frame_range(tmp_path: Path, preset: Path, real_fixtures: Path) -> None:
    scene = real_fixtures / BLENDFILES / "basic_file.blend"
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1-x", "--dry-run")
    assert_one_line_error(done, EXIT_USAGE, "frame range", "1-x")


def test_bad_preset_names_file_and_key(tmp_path: Path, real_fixtures: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[storage]\nacount_url = "https://a.blob.core.windows.net"\n')
    done = run("upload", str(tmp_path), "--preset", str(bad))
    assert_one_line_error(done, PresetError.exit_code, "bad.toml", "line 3", "account_url")


def test_dry_run_plans_without_touching_storage(preset: Path, real_fixtures: Path) -> None:
    scene = real_fixtures / BLENDFILES / "basic_file.blend"
    # No connection string and no account URL: any storage call would fail.
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1-5x2", "--chunk", "2",
               "--dry-run", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["dry_run"] is True and doc["uploaded_bytes"] == 0
    tasks = doc["job"]["tasks"]
    assert [t["frames"] for t in tasks] == [[1, 3], [5]]
    assert shlex.split(doc["job"]["preparation"]["command_line"])[2].endswith(f"sync --job {doc['job_id']}")
    assert all("blender -b" in t["command_line"] for t in tasks)
    assert doc["job"]["render"]["camera"] is None  # as saved in the scene


def test_render_overrides_reach_the_job(preset: Path, real_fixtures: Path) -> None:
    scene = real_fixtures / BLENDFILES / "basic_file.blend"
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1", "--dry-run", "--json",
               "--camera", "CamB", "--layer", "beauty", "--layer", "fx", "--resolution", "640x360")
    assert done.returncode == 0, done.stderr
    render = json.loads(done.stdout)["job"]["render"]
    assert (render["camera"], render["layers"], render["width"], render["height"]) == (
        "CamB", ["beauty", "fx"], 640, 360,
    )
    bad = run("submit", str(scene), "--preset", str(preset), "--frames", "1", "--dry-run",
              "--resolution", "640by360")
    assert_one_line_error(bad, EXIT_USAGE, "resolution", "640by360")


def test_unreachable_storage_is_one_line_and_leaks_no_key(tmp_path: Path, preset: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"png")
    port = free_port()  # nothing listens here
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{DEV_ACCOUNT};"
    )
    done = run("upload", str(tmp_path), "--preset", str(preset), env={"AZURE_STORAGE_CONNECTION_STRING": conn})
    assert_one_line_error(done, StorageError.exit_code, f"127.0.0.1:{port}")
    assert DEV_KEY not in done.stderr + done.stdout


def test_status_of_an_unknown_job(preset: Path) -> None:
    assert_one_line_error(run("status", "no-such-job", "--preset", str(preset)), 1, "no-such-job")


def test_debug_flag_shows_the_traceback(tmp_path: Path) -> None:
    done = run("--debug", "scan", str(tmp_path / "nope.blend"))
    assert done.returncode != 0
    assert "Traceback" in done.stderr
