"""A .max job on Windows nodes reading assets from Azure Files: golden Batch bodies, no key anywhere.

The dry run of a real .max with an ``azure-files`` preset on a Windows pool:
the pool start task persists the share's credentials with ``cmdkey`` (the key
from an environment variable, never the literal), each task maps the drive
with ``net use`` before ``3dsmaxcmdio.exe``, node paths are on the drive (or the
UNC path), and every body passes the Batch REST request-model validator.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from test_max_adapter import cmd_words
from tests.node_lines import WINDOWS_WATCHER

from azrender.batch.dryrun import dry_run_document
from azrender.batch.validate import validate_body
from azrender.model import FrameRange
from azrender.presets import load_preset
from azrender.submit import submit_scene

SMILING = "BabylonJS__Exporters/3ds Max/Samples/sourceModels/SmilingFace/SmilingFace.max"
KEY = "Zm9vYmFyS2V5K0FCQy8xMjM0NTY3ODkw/QUJD=="  # looks like an account key; must never be printed
HOST = "abcrender.file.core.windows.net"
NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)

PRESET = """\
name = "max-files"

[storage]
mode = "azure-files"
account_url = "https://abcrender.blob.core.windows.net"
outputs_container = "abc-outputs"

[azure_files]
account = "abcrender"
share = "show-abc"
windows_paths = "{paths}"
drive = "S"
mount_at = "task"

[backend]
kind = "azure"

[batch]
account_url = "https://abcrender.westeurope.batch.azure.com"
pool_id = "max-pool"

[pool]
os = "windows"
vm_size = "Standard_D16s_v5"
image = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/max2025"
node_agent_sku = "batch.node.windows amd64"
licence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1"
# lic1 is a private name: the pool joins the studio's virtual network to reach it.
subnet_id = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/studio/subnets/render"

[render]
chunk = 5
format = "OPEN_EXR"
"""

# What runs every render on a Windows node: the watcher, which starts the rest unchanged.
WATCHER = WINDOWS_WATCHER


def write_preset(tmp_path: Path, paths: str = "drive") -> Path:
    path = tmp_path / f"max-files-{paths}.toml"
    path.write_text(PRESET.format(paths=paths))
    return path


def dry_run(scene: Path, preset_path: Path) -> dict[str, Any]:
    preset = load_preset(preset_path)
    result = submit_scene(scene, preset, FrameRange.parse("1-10"), dry_run=True)
    return dry_run_document(result.job, preset, now=NOW, environ={"AZRENDER_FILES_KEY": KEY})


def test_windows_drive_plan_golden(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / SMILING
    doc = dry_run(scene, write_preset(tmp_path))
    start = doc["pool"]["startTask"]["commandLine"]
    # The pool start task persists the share's credentials; the key is an environment reference.
    # (Azure Files takes the account as user in either spelling: AZURE\acct, or localhost\acct
    # as Microsoft's current documentation writes it.)
    cmdkey = re.search(r"cmdkey /add:(\S+) /user:(\S+) /pass:([^\s&\"]+)", start)
    assert cmdkey is not None, start
    assert cmdkey.group(1) == HOST
    assert cmdkey.group(2) in ("AZURE\\abcrender", "localhost\\abcrender")
    assert cmdkey.group(3) == "%AZRENDER_FILES_KEY%"
    assert doc["pool"]["startTask"]["userIdentity"]["autoUser"]["scope"] == "pool"
    assert "mountConfiguration" not in doc["pool"]  # mount_at = "task": net use, not a MountConfiguration

    node_scene = "S:" + str(scene).replace("/", "\\")
    tasks = doc["tasks"]
    assert [t["id"] for t in tasks] == ["frames-001", "frames-002"]
    for task, (first, last) in zip(tasks, ((1, 5), (6, 10)), strict=True):
        assert task["userIdentity"] == {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
        line = task["commandLine"]
        assert line.startswith(WATCHER + 'cmd /c "')  # the node's watcher starts the rest as written
        net_use, _, render = line[len(WATCHER + 'cmd /c "'):].partition(" && ")
        assert net_use == f"net use S: \\\\{HOST}\\show-abc /persistent:no"  # before every task
        words = cmd_words('cmd /c "' + render)
        assert words[:7] == ["3dsmaxcmdio.exe", "-v:5", "-rfw:0", f"-start:{first}", f"-end:{last}",
                             "-w:640", "-h:480"]  # the size saved in SmilingFace.max
        assert words[-1] == node_scene
        assert words[-3] == r"-outputName:%AZ_BATCH_TASK_WORKING_DIR%\out\SmilingFace_.exr"
        # The exact text survives the Batch JSON: escaped quotes and backslashes, same bytes back.
        assert json.loads(json.dumps(task))["commandLine"] == line

    # Every body passes the azure-batch SDK's REST request models.
    assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    for task in tasks:
        assert validate_body("BatchTaskCreateOptions", task) == []
    assert KEY not in json.dumps(doc)


def test_windows_unc_plan_uses_the_share_path_and_no_drive(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / SMILING
    doc = dry_run(scene, write_preset(tmp_path, "unc"))
    assert "cmdkey /add:" + HOST in doc["pool"]["startTask"]["commandLine"]
    for task in doc["tasks"]:
        line = task["commandLine"]
        assert line.startswith(WATCHER)  # no `net use`: UNC paths need no drive
        words = cmd_words(line[len(WATCHER):])
        assert words[0] == "3dsmaxcmdio.exe"
        assert words[-1] == f"\\\\{HOST}\\show-abc" + str(scene).replace("/", "\\")
        assert validate_body("BatchTaskCreateOptions", task) == []
    assert KEY not in json.dumps(doc)


def test_cmdkey_runs_as_the_task_identity(real_fixtures: Path, tmp_path: Path) -> None:
    doc = dry_run(real_fixtures / SMILING, write_preset(tmp_path))
    assert doc["pool"]["startTask"]["userIdentity"] == doc["tasks"][0]["userIdentity"]


def test_cli_dry_run_never_prints_the_key(real_fixtures: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AZRENDER_FILES_KEY": KEY}
    out = subprocess.run(
        [sys.executable, "-m", "azrender.cli", "submit", str(real_fixtures / SMILING), "--preset",
         str(write_preset(tmp_path)), "--frames", "1-10", "--dry-run", "--json"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert KEY not in out.stdout and KEY not in out.stderr
    doc = json.loads(out.stdout)
    assert "/pass:%AZRENDER_FILES_KEY%" in doc["pool"]["startTask"]["commandLine"]
    assert all("net use S:" in t["commandLine"] for t in doc["tasks"])
