"""The maya.cmds protocol is checked by mypy against Maya's signatures from the types-maya stubs."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None
    or not any((Path(p) / "maya-stubs").is_dir() for p in sys.path),
    reason="needs mypy and the types-maya stubs (pip install -e '.[dev]')",
)


def run_mypy(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    check = tmp_path / "check_cmds.py"
    check.write_text(body)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         str(check)],
        capture_output=True, text=True, timeout=300, check=False,
        env={"MYPYPATH": f"{REPO / 'core'}:{REPO / 'plugins' / 'maya'}:{REPO / 'tests' / 'maya'}",
             "PATH": "/usr/bin:/bin"},
    )


def test_real_maya_cmds_satisfies_the_protocol(tmp_path: Path) -> None:
    done = run_mypy(tmp_path, (
        "import maya.cmds\n"
        "from azrender_maya.cmds_protocol import MayaCmds\n"
        "cmds: MayaCmds = maya.cmds\n"
    ))
    assert done.returncode == 0, done.stdout[-3000:]


def test_the_check_fails_on_a_flag_maya_does_not_have(tmp_path: Path) -> None:
    done = run_mypy(tmp_path, (
        "from typing import Any, Protocol\n"
        "import maya.cmds\n"
        "class Wrong(Protocol):\n"
        "    def ls(self, *args: Any, onlyRenderable: bool = ...) -> Any: ...\n"
        "cmds: Wrong = maya.cmds\n"
    ))
    assert done.returncode == 1 and "ls" in done.stdout


def test_fake_cmds_satisfies_the_scene_protocol(tmp_path: Path) -> None:
    done = run_mypy(tmp_path, (
        "from pathlib import Path\n"
        "from azrender_maya.cmds_protocol import SceneCmds\n"
        "from fake_cmds import SceneFileCmds\n"
        "cmds: SceneCmds = SceneFileCmds(Path('x.ma'))\n"
    ))
    assert done.returncode == 0, done.stdout[-3000:]
