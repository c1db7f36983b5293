"""Pre-flight through `azrender submit`: JSON, the human table, blocking, --force, dry runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from azrender.preflight import EXIT_PREFLIGHT, Finding, Report
from azrender.submit import PreflightBlocked, check_preflight

BIN = Path(sys.executable).parent
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
MISSING = REAL / "helio__blender-asset-tracer" / "tests" / "blendfiles" / "missing_textures.blend"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    full.update({"COLUMNS": "400", **env})  # a wide console: table cells are not folded
    return subprocess.run([str(BIN / "azrender"), *args], capture_output=True, text=True, env=full,
                          timeout=120, check=False)


@pytest.fixture
def scene() -> Path:
    if not MISSING.is_file():
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    return MISSING


def write(tmp_path: Path, body: str, name: str = "show.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'name = "show"\n[storage]\nassets_container = "pf-assets"\n{body}', encoding="utf-8")
    return path


def test_dry_run_json_carries_the_report_and_never_blocks(scene: Path, tmp_path: Path) -> None:
    preset = write(tmp_path, '[preflight]\nerrors = "missing-file"\n')
    # No credentials at all: a guaranteed failure, yet a dry run only reports it.
    env = {"AZURE_STORAGE_CONNECTION_STRING": ""}
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1", "--dry-run", "--json", env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)["preflight"]
    assert doc["blocking"] is True
    found = {(f["code"], f["severity"]) for f in doc["findings"]}
    assert found == {("credentials", "error"), ("missing-file", "error")}
    referrers = {f["referrer"] for f in doc["findings"] if f["code"] == "missing-file"}
    assert "Image 'Golden Palace 2, Old Bagan'" in referrers


def test_human_dry_run_shows_a_table(scene: Path, tmp_path: Path) -> None:
    preset = write(tmp_path, "")
    env = {"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1", "--dry-run", env=env)
    assert done.returncode == 0, done.stderr
    assert "preflight: 0 error(s), 2 warning(s)" in done.stderr
    assert "missing-file" in done.stderr and "marble_decoration-color" in done.stderr


def test_errors_block_before_any_upload(scene: Path, tmp_path: Path, storage_env: str) -> None:
    preset = write(tmp_path, '[preflight]\nerrors = "missing-file"\n')
    done = run("submit", str(scene), "--preset", str(preset), "--frames", "1", "--json", env={})
    assert done.returncode == EXIT_PREFLIGHT, done.stderr
    doc = json.loads(done.stdout)
    assert doc["dry_run"] is False and doc["preflight"]["counts"]["error"] == 2
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "pre-flight: missing-file" in errors[0] and "--force" in errors[0]
    assert "Traceback" not in done.stderr
    service = BlobServiceClient.from_connection_string(storage_env)
    assert "pf-assets" not in {c.name for c in service.list_containers()}  # nothing uploaded

    human = run("submit", str(scene), "--preset", str(preset), "--frames", "1", env={})
    assert human.returncode == EXIT_PREFLIGHT
    assert "preflight: 2 error(s)" in human.stderr and "Golden Palace" in human.stderr


def test_force_lets_errors_through() -> None:
    report = Report([Finding("output-unwritable", "error", "output folder /x is not writable", fix="pick another")])
    check_preflight(report, force=True)
    check_preflight(Report([Finding("long-path", "warning", "long")]), force=False)
    with pytest.raises(PreflightBlocked) as info:
        check_preflight(report, force=False)
    assert info.value.exit_code == EXIT_PREFLIGHT and info.value.report is report
    assert str(info.value) == (
        "pre-flight: output-unwritable: output folder /x is not writable "
        "(pick another; or submit with --force to render anyway)"
    )
