"""The wheel ships the product only: no test doubles, test-scene writers, demo builder or tests.

The test doubles (``tests/maya/fake_cmds.py``, ``tests/max/fake_pymxs.py``), the
writers that build test scenes, the fake Batch service's route table and the
demo scene builder (``scripts/demo_scene.py``) live outside the shipped packages;
this reads the file list of the wheel ``pip wheel`` builds (a zip, PEP 427).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

# Modules that serve the tests or the demo, by file name, wherever they would sit.
HARNESS = {"demo_scene.py", "demo.py", "mb_writer.py", "asset_stream_writer.py", "cfb_writer.py",
           "batch_routes.py", "batch_service.py", "files_service.py", "conftest.py"}


def _files(wheel: Path) -> list[PurePosixPath]:
    with zipfile.ZipFile(wheel) as archive:
        return [PurePosixPath(name) for name in archive.namelist() if not name.endswith("/")]


def test_the_wheel_holds_the_four_packages(built_wheel: Path) -> None:
    tops = {f.parts[0] for f in _files(built_wheel) if not f.parts[0].endswith(".dist-info")}
    assert tops == {"azrender", "azrender_blender", "azrender_maya", "azrender_max"}
    names = {f.as_posix() for f in _files(built_wheel)}
    assert {"azrender/cli.py", "azrender/batch/validate.py", "azrender_blender/adapter.py",
            "azrender_maya/cmds_protocol.py", "azrender_max/pymxs_protocol.py"} <= names


def test_no_test_harness_or_demo_in_the_wheel(built_wheel: Path) -> None:
    harness = [
        f.as_posix() for f in _files(built_wheel)
        if f.name.startswith(("fake_", "test_")) or f.name in HARNESS
        or any(part in {"tests", "test"} for part in f.parts[:-1])
    ]  # fmt: skip
    assert harness == []
