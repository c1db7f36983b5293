"""`azrender scan` imports only what a scan needs: no Azure SDK, no rich for JSON (issue 20).

What a process imported is read from Python's own ``-X importtime`` report
(https://docs.python.org/3/using/cmdline.html#cmdoption-X: "importtime to
show how long each import takes"), one line per module on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"
SCENE = f"{BLENDFILES}/T55539-particles/particle.blend"  # a real .blend, 28 files, none missing


def imported(*args: str, cwd: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a ``python -m azrender ...`` process imported, and the process."""
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "azrender", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=cwd,
    )
    modules = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line
    }
    return modules, done


@pytest.mark.parametrize("cached", [False, True])
def test_a_json_scan_imports_neither_azure_nor_rich(real_fixtures: Path, tmp_path: Path, cached: bool) -> None:
    scene = real_fixtures / SCENE
    if cached:  # the second scan answers from the scan cache
        imported("scan", str(scene), "--json", cwd=tmp_path)
    modules, done = imported("scan", str(scene), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["app"] == "blender"
    assert "azrender_blender" in modules and "json" in modules  # the report did list the imports
    assert "azure" not in modules
    assert "rich" not in modules
    assert "click" not in modules  # a plain scan's arguments are read by azrender.launch
    assert not {"azrender_maya", "azrender_max"} & modules  # only the adapter of the scene's suffix
    if cached:  # the entry's name and the scanner's version: BLAKE2 without hashlib's OpenSSL
        assert not {"hashlib", "_hashlib"} & modules


def test_click_answers_help_and_anything_the_plain_scan_grammar_does_not_know(tmp_path: Path) -> None:
    modules, done = imported("scan", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--no-cache" in done.stdout and "click" in modules
    modules, done = imported("scan", "shot.blend", "--jsn", cwd=tmp_path)
    assert done.returncode == 2 and "No such option '--jsn'" in done.stderr and "click" in modules


def test_a_table_scan_imports_rich_but_not_azure(real_fixtures: Path, tmp_path: Path) -> None:
    modules, done = imported("scan", str(real_fixtures / SCENE), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "particle.blend" in done.stdout
    assert "rich" in modules and "azure" not in modules


def test_no_cache_scans_afresh_with_the_same_json(real_fixtures: Path, tmp_path: Path) -> None:
    scene = str(real_fixtures / SCENE)
    _, cold = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    _, first = imported("scan", scene, "--json", cwd=tmp_path)
    _, cached = imported("scan", scene, "--json", cwd=tmp_path)
    assert cold.returncode == first.returncode == cached.returncode == 0
    assert json.loads(cold.stdout) == json.loads(first.stdout) == json.loads(cached.stdout)


@pytest.mark.parametrize("command", ["scan", "upload", "submit"])
def test_every_command_that_scans_takes_no_cache(command: str, tmp_path: Path) -> None:
    _, done = imported(command, "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--no-cache" in done.stdout


def modules_of(done: subprocess.CompletedProcess[str]) -> set[str]:
    """Every module (dotted name) the process's ``-X importtime`` report lists."""
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_a_warm_scan_skips_the_entry_point_metadata_until_sys_path_changes(
    real_fixtures: Path, tmp_path: Path
) -> None:
    scene = str(real_fixtures / SCENE)
    cache = Path(os.environ["AZRENDER_CACHE_DIR"])
    _, first = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)  # reads and remembers them
    assert first.returncode == 0, first.stderr[-2000:]
    hints = json.loads((cache / "adapter-suffixes.json").read_text())
    assert ["blender", "azrender_blender.adapter:BlenderAdapter"] in hints["entry-points"][0]["points"]

    _, warm = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    assert warm.returncode == 0 and json.loads(warm.stdout) == json.loads(first.stdout)
    assert "importlib.metadata" not in modules_of(warm)

    # A folder on sys.path that changed (a distribution installed or removed there) is
    # told by its mtime: the entry points are read again, and the scan still answers.
    hints["entry-points"][0]["stamp"] = [[entry, 1] for entry, _ in hints["entry-points"][0]["stamp"]]
    hints["entry-points"][0]["points"] = [["blender", "azrender_gone.adapter:Adapter"]]
    (cache / "adapter-suffixes.json").write_text(json.dumps(hints))
    _, stale = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    assert stale.returncode == 0, stale.stderr[-2000:]
    assert json.loads(stale.stdout) == json.loads(first.stdout)
    assert "importlib.metadata" in modules_of(stale)
    again = json.loads((cache / "adapter-suffixes.json").read_text())["entry-points"][0]["points"]
    assert ["blender", "azrender_blender.adapter:BlenderAdapter"] in again


def test_a_remembered_adapter_that_is_gone_is_read_afresh(real_fixtures: Path, tmp_path: Path) -> None:
    scene = str(real_fixtures / SCENE)
    cache = Path(os.environ["AZRENDER_CACHE_DIR"])
    _, first = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    hints = json.loads((cache / "adapter-suffixes.json").read_text())
    # sys.path as it was, but the remembered package no longer importable: not trusted.
    hints["entry-points"][0]["points"] = [["blender", "azrender_gone.adapter:Adapter"]]
    (cache / "adapter-suffixes.json").write_text(json.dumps(hints))
    _, done = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == json.loads(first.stdout)


def test_a_blend_scan_without_usd_loads_neither_the_usd_reader_nor_the_shared_path_helpers(
    real_fixtures: Path, tmp_path: Path
) -> None:
    """basic_file.blend is uncompressed and lists no USD layer: the gzip and temp-file modules, the
    USD reader and the text-path helpers it brings (azrender.scan.assets, .resolve, .tokens) stay out."""
    scene = real_fixtures / BLENDFILES / "basic_file.blend"
    assert scene.read_bytes()[:7] == b"BLENDER"
    imported("scan", str(scene), "--json", "--no-cache", cwd=tmp_path)  # the entry points, read once and remembered
    _, done = imported("scan", str(scene), "--json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = modules_of(done)
    assert {"azrender.scan.stages", "azrender_blender.blend.source"} <= modules  # the report lists them
    assert not {"azrender.scan.usd", "azrender.scan.assets", "azrender.scan.resolve", "azrender.scan.tokens",
                "gzip", "tempfile"} & modules  # fmt: skip


def test_a_scan_loads_no_job_model(real_fixtures: Path, tmp_path: Path) -> None:
    """The job types, frame ranges and render invocations are a submit's: a scan leaves them out."""
    scene = str(real_fixtures / SCENE)
    imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)  # the entry points, read once and remembered
    _, done = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = modules_of(done)
    assert {"azrender.model", "azrender.apps", "azrender.paths", "azrender.progress"} <= modules
    assert not {"azrender.jobmodel", "azrender.frames"} & modules


def test_a_scan_loads_no_render_contract_path_mapping_or_reporters(real_fixtures: Path, tmp_path: Path) -> None:
    """A scan with --json needs the adapter contract's scan half, is_windows_path and the progress contract;
    the render invocation, the path mapping and the progress reporters are a submit's (each a few dataclasses)."""
    scene = str(real_fixtures / SCENE)
    imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    _, done = imported("scan", scene, "--json", "--no-cache", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = modules_of(done)
    assert not {"azrender.rendering", "azrender.paths.mapping", "azrender.reporters", "threading"} & modules
    assert not {"azrender.scan.cache", "azrender.scan.kept", "azrender.scan.envvars"} & modules  # --no-cache
    _, cached = imported("scan", scene, "--json", cwd=tmp_path)
    assert cached.returncode == 0 and {"azrender.scan.cache", "azrender.scan.kept"} <= modules_of(cached)


def test_the_names_moved_out_of_a_scan_are_where_they_were() -> None:
    from azrender import apps, paths, rendering
    from azrender.paths import mapping

    assert apps.RenderInvocation is rendering.RenderInvocation and apps.LocalInstalls is rendering.LocalInstalls
    assert paths.PathMap is mapping.PathMap and paths.mirror_key("/mnt/a") == "mnt/a"
    assert {"RenderInvocation", "LocalInstall"} <= set(dir(apps)) and "UnmappedPathError" in dir(paths)


def test_a_blend_scan_that_lists_a_usd_layer_follows_it(tmp_path: Path) -> None:
    """The other side of the lazy import: a .usda layer in a scan's result loads the reader, and the
    texture it names joins the result; a result without a layer is left as it is."""
    from azrender.model import Asset, AssetKind, AssetSet
    from azrender.scan.stages import follow_usd_layers

    (tmp_path / "tex").mkdir()
    (tmp_path / "tex" / "wood.png").write_bytes(b"png")
    layer = tmp_path / "stage.usda"
    layer.write_text('#usda 1.0\ndef "X" { asset inputs:file = @./tex/wood.png@ }\n')
    result = AssetSet(scene=tmp_path / "shot.blend", app="blender")
    result.add(Asset.from_disk(layer, AssetKind.CACHE, referrer="Cache file 'stage'"))
    assert follow_usd_layers(result, env={}) == []
    assert [a.path for a in result.assets] == [layer, tmp_path / "tex" / "wood.png"]
    assert follow_usd_layers(AssetSet(scene=tmp_path / "shot.blend", app="blender"), env={}) == []
