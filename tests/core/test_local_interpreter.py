"""The interpreter for background work when azrender runs inside an application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from azrender.interpreter import bare_python, python_executable, with_this_sys_path
from azrender.local.node import NodeLayout, install_node_tools


def test_a_python_process_uses_itself() -> None:
    assert python_executable(environ={}) == sys.executable


def test_inside_maya_the_bundled_mayapy_is_used(tmp_path: Path) -> None:
    maya_bin = tmp_path / "maya2025" / "bin"
    maya_bin.mkdir(parents=True)
    (maya_bin / "maya").write_text("")
    (maya_bin / "mayapy").write_text("")
    assert python_executable(str(maya_bin / "maya"), environ={}) == str(maya_bin / "mayapy")


def test_inside_3ds_max_its_python_folder_is_used(tmp_path: Path) -> None:
    root = tmp_path / "3ds Max 2025"
    (root / "Python").mkdir(parents=True)
    (root / "Python" / "python.exe").write_text("")
    (root / "3dsmax.exe").write_text("")
    assert python_executable(str(root / "3dsmax.exe"), environ={}) == str(root / "Python" / "python.exe")


def test_environment_override_wins(tmp_path: Path) -> None:
    assert python_executable("/opt/maya/bin/maya", environ={"AZRENDER_PYTHON": "/x/py"}) == "/x/py"


def test_child_sees_this_process_modules() -> None:
    env = with_this_sys_path({"PYTHONPATH": "/elsewhere"})
    parts = env["PYTHONPATH"].split(os.pathsep)
    assert parts[-1] == "/elsewhere"
    assert len(parts) == len(set(parts))
    azrender_root = str(Path(__import__("azrender").__file__).parents[1])
    assert azrender_root in parts


def test_node_python3_shim_is_a_bare_python(tmp_path: Path) -> None:
    """As on a marketplace image: the node's python3 has no azrender; the job's bootstrap brings it."""
    layout = NodeLayout(tmp_path / "node")
    shims = {p.name: p for p in install_node_tools(layout)}
    env = layout.task_environment("j", "t", {})  # this machine's PYTHONPATH does not reach the node
    out = subprocess.run(
        [str(shims["python3"]), "-c", "import sys, importlib.util; print(importlib.util.find_spec('azrender'))"],
        capture_output=True, text=True, check=True, env={**env, **{"PYTHONPATH": ""}},
    )
    assert out.stdout.strip() == "None"
    assert Path(shims["python3"].read_text().split('"')[1]) == Path(bare_python())


def test_blenders_script_folders_do_not_hide_bpy_from_a_child(tmp_path: Path) -> None:
    fake_scripts = tmp_path / "5.0" / "scripts" / "modules"
    (fake_scripts / "bpy").mkdir(parents=True)
    (fake_scripts / "bpy" / "__init__.py").write_text("from _bpy import types\n")
    sys.path.append(str(fake_scripts))
    try:
        parts = with_this_sys_path({})["PYTHONPATH"].split(os.pathsep)
    finally:
        sys.path.remove(str(fake_scripts))
    assert str(fake_scripts) not in parts
