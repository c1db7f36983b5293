"""Shared fixtures: a private Azurite for the session and isolated azrender folders per test."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from azrender.local.azurite import AzuriteServer

REPO = Path(__file__).resolve().parents[1]
REAL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real"
DEMO_SCENE_BUILDER = REPO / "scripts" / "demo_scene.py"


@pytest.fixture(scope="session", autouse=True)
def shared_node_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One node-bundle cache for the session (AZRENDER_NODE_CACHE_DIR): the bundle is built and
    the local node's environment installed, through the real preparation task, once per run."""
    folder = tmp_path_factory.mktemp("node-cache")
    before = os.environ.get("AZRENDER_NODE_CACHE_DIR")
    os.environ["AZRENDER_NODE_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("AZRENDER_NODE_CACHE_DIR", None)
    else:
        os.environ["AZRENDER_NODE_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def no_unanswered_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Qt question box no test answers would wait forever offscreen: it fails the test instead.

    Tests that expect a question answer it through the dialog's ``confirm``.
    """
    binding = sys.modules.get("azrender.qt.binding")
    if binding is None:
        return

    def unanswered(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the dialog asked a question that this test does not answer")

    monkeypatch.setattr(binding.QtWidgets.QMessageBox, "question", staticmethod(unanswered))


@pytest.fixture(autouse=True)
def isolated_azrender_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's cache or data folders."""
    monkeypatch.setenv("AZRENDER_DATA_DIR", str(tmp_path / "azrender-data"))
    monkeypatch.setenv("AZRENDER_CACHE_DIR", str(tmp_path / "azrender-cache"))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)


@pytest.fixture
def stat_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path ``os.stat`` is asked for while the test runs, in order (``os.stat`` still answers)."""
    calls: list[str] = []
    real_stat = os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        calls.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    return calls


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """One Azurite on 127.0.0.1 for the whole session, fresh data folder, stopped at the end."""
    with AzuriteServer.start() as server:
        yield server


@pytest.fixture
def storage_env(azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point azrender at the session's Azurite; returns the connection string."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return azurite.connection_string


@pytest.fixture
def real_fixtures() -> Path:
    if not REAL_FIXTURES.is_dir():
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    return REAL_FIXTURES


@pytest.fixture(scope="session")
def pxr() -> Any:
    """Pixar's usd-core (``pxr``), the ground truth of the USD tests; missing is a failure on CI."""
    try:  # the submodules the tests use as pxr.Sdf, pxr.Usd, ...
        import pxr.Sdf
        import pxr.Usd
        import pxr.UsdShade
        import pxr.UsdUtils
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("usd-core is not installed; scripts/setup.sh installs it (dev extra)")
        pytest.skip("usd-core is not installed (pip install 'azrender[usd]')")
    import pxr

    return pxr


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The azrender wheel as ``pip wheel --no-deps`` builds it from this checkout, once per session.

    Building needs the build backend (hatchling) from the package index: without it
    the tests that need the wheel skip, and fail on CI.
    """
    dist = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(dist), str(REPO)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        reason = f"could not build the wheel (no package index for hatchling?): {proc.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return next(dist.glob("azrender-*.whl"))


@pytest.fixture(scope="session")
def demo_scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shot, built once per session by ``python scripts/demo_scene.py`` with bpy.

    Shared: read it as it is, or take :func:`demo_scene` (a private copy) to change it.
    """
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (Blender as a module) is not installed")
    dest = tmp_path_factory.mktemp("demo") / "show" / "shot010"
    proc = subprocess.run(
        [sys.executable, str(DEMO_SCENE_BUILDER), str(dest)], capture_output=True, text=True,
        timeout=300, check=False, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (dest / "shot010.blend").is_file()
    return dest


@pytest.fixture
def demo_scene(demo_scene_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo shot (a test may change its textures); its .blend."""
    copy = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, copy)
    return copy / "shot010.blend"
