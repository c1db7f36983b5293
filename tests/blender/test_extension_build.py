"""The Blender extension zip: built by scripts/build_blender_extension.py, checked by Blender's own
validator, installed into bpy the way "Install from Disk" does, and rendering from its operator."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
import tomllib
from blender_helpers import BPY_PYTHONS, bpy_python, needs_bpy
from test_ui_operators import drive

from azrender.local.azurite import AzuriteServer

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_blender_extension.py"
WHEEL_CACHE = REPO / ".tools" / "blender-wheels"


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_blender_extension", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build_script()


def _cannot_build(message: str) -> None:
    """No package index here: a skip on a workstation, a failure on CI (the CI image has the index)."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def extension_zips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One build for every platform (the azrender wheel + downloaded dependency wheels).

    The wheels are kept in .tools/blender-wheels, so the package index is asked once per machine.
    """
    root = tmp_path_factory.mktemp("extension")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dist", str(root / "dist"), "--work", str(root / "work"),
         "--wheel-cache", str(WHEEL_CACHE)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    if proc.returncode != 0 and "downloading" in proc.stderr and "wheels for Python" in proc.stderr:
        _cannot_build(f"the package index cannot be reached: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stderr
    archives = [Path(line) for line in proc.stdout.strip().splitlines()]
    assert [a.name for a in archives] == [f"azrender-0.1.0-{p.replace('-', '_')}-{cp}.zip"
                                          for p in build.PLATFORM_TAGS for cp in ("cp311", "cp313")]
    return archives


def zip_for(archives: list[Path], python: str) -> Path:
    """This machine's platform's zip for CPython ``python`` ("3.11")."""
    name = f"-{build.current_platform().replace('-', '_')}-cp{python.replace('.', '')}.zip"
    (archive,) = [a for a in archives if a.name.endswith(name)]
    return archive


@pytest.fixture(scope="module")
def extension_zip(extension_zips: list[Path]) -> Path:
    """This platform's zip for Blender 4.2-5.0 (CPython 3.11, as the .venv's bpy 5.0)."""
    return zip_for(extension_zips, "3.11")


def test_blenders_repository_takes_each_zip_for_its_platform_and_python(
    extension_zips: list[Path], tmp_path: Path
) -> None:
    """Blender's own extension repository generator (``server-generate``) lists the four zips."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for archive in extension_zips:
        (repo / archive.name).symlink_to(archive)
    python = bpy_python("5.3")
    proc = subprocess.run([str(python), str(_blender_ext(python)), "server-generate", "--repo-dir", str(repo)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json.loads((repo / "index.json").read_text())["data"]
    # One zip per platform and Python, each for the Blenders that embed that Python.
    expected = [(f"./{a.name}", (plat,), (py,), *blender) for a, (plat, (py, blender)) in zip(
        extension_zips, [(p, v) for p in build.PLATFORM_TAGS for v in build.PYTHON_VERSIONS.items()], strict=True)]
    assert sorted((e["archive_url"], tuple(e["platforms"]), tuple(e["python_versions"]),
                   e["blender_version_min"], e.get("blender_version_max")) for e in listed) == sorted(expected)
    assert build.PYTHON_VERSIONS == {"3.11": ("4.2.0", "5.1.0"), "3.13": ("5.1.0", None)}
    for archive in extension_zips:  # and its validator accepts each
        check = subprocess.run([str(python), str(_blender_ext(python)), "validate", str(archive)],
                               capture_output=True, text=True, timeout=120, check=False)
        assert check.returncode == 0 and "Success" in check.stdout, check.stdout + check.stderr


def test_manifest_has_the_required_keys(extension_zip: Path) -> None:
    """The 3.11 zip (Blender 4.2 LTS up to 5.1, excluded); the 3.13 one is checked with the repository."""
    with zipfile.ZipFile(extension_zip) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        names = set(zf.namelist())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["id"] == "azrender" and manifest["type"] == "add-on"
    assert manifest["version"] == project["version"]
    assert (manifest["blender_version_min"], manifest["blender_version_max"]) == ("4.2.0", "5.1.0")
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    for key in ("name", "tagline", "maintainer"):
        assert isinstance(manifest[key], str) and manifest[key]
    assert set(manifest["permissions"]) == {"network", "files"}
    for reason in manifest["permissions"].values():
        # Blender's rule for these one-line reasons: short, no final punctuation.
        assert 0 < len(reason) <= 64 and reason[-1].isalnum()
    assert manifest["platforms"] == [build.current_platform()]
    listed = manifest["wheels"]
    assert all(w.startswith("./wheels/") and w.endswith(".whl") for w in listed)
    in_zip = {n for n in names if n.startswith("wheels/")}
    assert {w[2:] for w in listed} == in_zip


def _project(wheel: str) -> str:
    return re.sub(r"[-_.]+", "_", wheel.split("-")[0]).lower()


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_zip_layout_and_bundled_wheels(python: str, extension_zips: list[Path]) -> None:
    with zipfile.ZipFile(zip_for(extension_zips, python)) as zf:
        names = set(zf.namelist())
    for required in ("blender_manifest.toml", "__init__.py", "ui/collect.py", "ui/__init__.py", "node/remap.py",
                     "ui/panel.py", "ui/operators.py", "adapter.py"):
        assert required in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    wheels = {n.split("/", 1)[1] for n in names if n.startswith("wheels/")}
    projects = {_project(w) for w in wheels}
    for needed in ("azrender", "azure_storage_blob", "azure_storage_file_share", "azure_batch",
                   "azure_identity", "azure_core", "fileseq", "xxhash",
                   "platformdirs", "requests", "cryptography", "cffi", "charset_normalizer",
                   "azure_storage_extensions"):
        assert needed in projects, needed
    # Only what the add-on imports: the command line's click stays out. (olefile is in: a scan
    # loads every application adapter to find the scene's, and the 3ds Max one imports it; rich
    # too: a submit packs the render node's code from what is installed, and the node uses it.)
    assert {"olefile", "rich", "packaging"} <= projects
    assert "click" not in projects and "pip" not in projects
    assert "blender_asset_tracer" not in projects  # the scanner reads .blend files itself; BAT is a test peer
    tags = build.PLATFORM_TAGS[build.current_platform()]
    by_project: dict[str, set[str]] = {}
    for wheel in wheels:
        tag, abi, plat = wheel[: -len(".whl")].split("-")[-3:]
        if plat == "any":
            assert "py3" in tag.split(".") and abi == "none", wheel  # pure Python: one wheel for all
            continue
        assert any(t in plat for t in tags), wheel  # compiled: this platform's only
        by_project.setdefault(_project(wheel), set()).add("abi3" if abi == "abi3" else tag)
    # Every compiled dependency has its wheel for this zip's CPython (or the stable ABI), no other.
    assert {"xxhash", "cffi", "charset_normalizer", "cryptography"} <= by_project.keys()
    for project, pythons in by_project.items():
        assert pythons in ({f"cp{python.replace('.', '')}"}, {"abi3"}), (project, pythons)


def test_the_crc64_wheel_goes_only_where_it_is_built(extension_zips: list[Path]) -> None:
    """azure-storage-extensions 0.1 has wheels for Linux, Windows and Apple silicon, not Intel Macs
    (its files on PyPI): the macos-x64 zips go without it (uploads there send Content-MD5)."""
    for archive in extension_zips:
        with zipfile.ZipFile(archive) as zf:
            projects = {_project(n.split("/", 1)[1]) for n in zf.namelist() if n.startswith("wheels/")}
        assert ("azure_storage_extensions" in projects) == ("macos_x64" not in archive.name), archive.name


def _blender_ext(python: Path) -> Path:
    found = sorted(python.parent.parent.glob("lib/python3.*/site-packages/bpy/*/scripts/addons_core/"
                                             "bl_pkg/cli/blender_ext.py"))
    assert found, f"{python}: bpy ships blender_ext.py"
    return found[-1]


@pytest.mark.parametrize("python", ["3.11", "3.13"])
def test_blender_reads_one_python_from_each_zips_wheels(python: str, extension_zips: list[Path]) -> None:
    """Blender's own rule (``python_versions_from_wheels``, what the extension platform lists)."""
    bpy = bpy_python("5.3")
    code = (
        "import importlib.util, sys, tomllib, zipfile\n"
        "spec = importlib.util.spec_from_file_location('blender_ext', sys.argv[1])\n"
        "ext = importlib.util.module_from_spec(spec); spec.loader.exec_module(ext)\n"
        "wheels = tomllib.loads(zipfile.ZipFile(sys.argv[2]).read('blender_manifest.toml').decode())['wheels']\n"
        "print(sorted(ext.python_versions_from_wheels(wheels)))\n"
    )
    proc = subprocess.run([str(bpy), "-c", code, str(_blender_ext(bpy)), str(zip_for(extension_zips, python))],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    major, minor = python.split(".")
    assert proc.stdout.strip() == f"[({major}, {minor})]"


@needs_bpy
def test_blenders_own_validator_accepts_the_zip(extension_zip: Path) -> None:
    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.origin is not None
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    assert found, "bpy ships blender_ext.py"
    proc = subprocess.run([sys.executable, str(found[-1]), "validate", str(extension_zip)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def _embedded(version: str) -> str:
    """The CPython Blender ``version`` embeds (DESIGN.md; the install test checks it)."""
    return "3.13" if tuple(map(int, version.split("."))) >= (5, 1) else "3.11"


# A folder with bpy and what bpy itself requires, nothing else: what a Blender install offers an
# extension (azrender and its dependencies must then come from the zip's wheels).
_BPY_ONLY_SITE = r"""
import importlib.metadata as md, os, re, sys
dest = sys.argv[1]
os.makedirs(dest)
todo, seen = ["bpy"], set()
while todo:
    name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
    if name in seen:
        continue
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:  # a requirement for another Python
        continue
    seen.add(name)
    todo += [re.match(r"[A-Za-z0-9._-]+", r).group() for r in dist.requires or () if "extra ==" not in r]
    for top in {f.parts[0] for f in dist.files or () if f.parts[0] != ".."}:
        source, link = os.path.join(str(dist.locate_file("")), top), os.path.join(dest, top)
        if os.path.exists(source) and not os.path.lexists(link):
            os.symlink(source, link)
"""

# Run with `python -I -S`: no site-packages but the bpy-only folder. Save a tiny scene, install the
# zip the way "Install from Disk" does, then press Render on Azure with the submit made a dry run.
_INSTALL_DRIVER = r"""
import sys, site
site.addsitedir(sys.argv[1])
import importlib, importlib.util, json, os, time
import bpy, addon_utils

archive, scene, preset, wrong = sys.argv[2:6]
def importable(names):
    return sorted(n for n in names if importlib.util.find_spec(n) is not None)
out = {"blender": list(bpy.app.version[:2]), "python": list(sys.version_info[:2]),
       "before": importable(["azrender", "xxhash", "azure", "rich", "click"])}
bpy.ops.wm.read_factory_settings(use_empty=False)
bpy.context.scene.render.resolution_x = bpy.context.scene.render.resolution_y = 4
bpy.ops.wm.save_as_mainfile(filepath=scene)
# The other Python's zip first: Blender refuses it by its Blender version range (it says why
# on stdout and installs nothing).
bpy.ops.extensions.package_install_files(filepath=wrong, repo="user_default", enable_on_install=True)
out["wrong_enabled"] = "bl_ext.user_default.azrender" in bpy.context.preferences.addons
out["wrong_installed"] = os.path.isdir(os.path.join(bpy.utils.user_resource("EXTENSIONS"), "user_default", "azrender"))
out["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=archive, repo="user_default", enable_on_install=True))
addon = "bl_ext.user_default.azrender"
out["enabled"] = addon in bpy.context.preferences.addons
out["panel"] = hasattr(bpy.types, "AZRENDER_PT_render_on_azure")
out["operators"] = sorted(dir(bpy.ops.azrender))
out["declared"] = sorted(c.bl_idname.split(".", 1)[1]
                         for c in importlib.import_module(addon + ".ui.operators").CLASSES)
out["after"] = importable(["azrender", "xxhash", "azure", "rich", "click"])
out["azrender_file"] = importlib.import_module("azrender").__file__
out["xxhash_file"] = importlib.import_module("xxhash._xxhash").__file__

flows = importlib.import_module(addon + ".ui.flows")
runtime = importlib.import_module(addon + ".ui.runtime")
from azrender.errors import AzrenderError
planned = []
real_submit = flows.submit_scene
def dry_submit(*args, **kwargs):
    kwargs["dry_run"] = True
    result = real_submit(*args, **kwargs)
    planned.append([t.command_line for t in result.job.tasks])
    raise AzrenderError("stopped after the dry run")
flows.submit_scene = dry_submit
bpy.context.preferences.addons[addon].preferences.preset_path = os.path.dirname(preset)
settings = bpy.context.scene.azrender
settings.preset = preset
settings.use_scene_frames, settings.frames, settings.chunk, settings.backend = False, "1-2", 2, "local"
out["submit"] = sorted(bpy.ops.azrender.submit())
deadline = time.monotonic() + 120
while runtime.WORK.busy() and time.monotonic() < deadline:
    runtime.poll()
    time.sleep(0.05)
runtime.poll()
out["planned"] = planned
out["job_error"] = settings.jobs[0].error
out["rich_loaded"] = sorted(m for m in sys.modules if m.split(".")[0] in ("rich", "click"))
addon_utils.disable(addon, default_set=True, handle_error=None)
out["unregistered"] = not hasattr(bpy.types, "AZRENDER_PT_render_on_azure")
print("AZR-RESULT " + json.dumps(out))
"""


@pytest.mark.bpy
@pytest.mark.parametrize("version", list(BPY_PYTHONS))
def test_zip_installs_registers_and_submits_in_each_blender(
    version: str, extension_zips: list[Path], tmp_path: Path
) -> None:
    python = bpy_python(version)
    site = tmp_path / "bpy-only-site"
    subprocess.run([str(python), "-c", _BPY_ONLY_SITE, str(site)], check=True, timeout=60)
    presets = tmp_path / "shows"
    presets.mkdir()
    preset = presets / "ext.toml"
    preset.write_text('name = "ext"\n[backend]\nkind = "local"\n[render]\nformat = "PNG"\n')
    user = tmp_path / "blender-user"
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user),  # never the real user's Blender folders
           "AZRENDER_DATA_DIR": str(tmp_path / "data"), "AZRENDER_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("AZRENDER_PRESET_PATH", None)
    proc = subprocess.run(
        [str(python), "-I", "-S", "-c", _INSTALL_DRIVER, str(site), str(zip_for(extension_zips, _embedded(version))),
         str(tmp_path / "scene.blend"), str(preset),
         str(zip_for(extension_zips, "3.11" if _embedded(version) == "3.13" else "3.13"))],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert line is not None, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = json.loads(line[len("AZR-RESULT "):])

    major, minor = (int(p) for p in version.split("."))
    assert out["blender"] == [major, minor]
    assert out["python"] == ([3, 13] if (major, minor) >= (5, 1) else [3, 11])
    # Before the install nothing of azrender's is importable; after it, all from the zip's wheels.
    assert out["before"] == []
    assert not out["wrong_enabled"] and not out["wrong_installed"]
    refusal = ("doesn't meet the minimum supported version (5.1.0)" if out["python"] == [3, 11]
               else "must be less than the maximum version (5.1.0)")
    assert f"ERROR azrender: This Blender version ({version}" in proc.stdout and refusal in proc.stdout
    assert out["install"] == ["FINISHED"] and out["enabled"] and out["panel"]
    # Every operator the add-on declares is registered, the panel's buttons among them.
    assert out["operators"] == out["declared"]
    assert {"check_dependencies", "submit", "download", "open_output"} <= set(out["operators"])
    assert out["after"] == ["azrender", "azure", "rich", "xxhash"]
    site_packages = user / "extensions" / ".local" / "lib" / f"python{out['python'][0]}.{out['python'][1]}"
    assert Path(out["azrender_file"]).is_relative_to(site_packages)
    abi = f"cpython-{out['python'][0]}{out['python'][1]}"
    assert Path(out["xxhash_file"]).is_relative_to(site_packages) and abi in Path(out["xxhash_file"]).name
    # The operator's submit planned the job (dry run) with nothing of the command line's loaded
    # (rich is in the zip for the render node, never imported by the add-on).
    assert out["submit"] == ["FINISHED"]
    assert out["job_error"] == "stopped after the dry run"
    (lines,) = out["planned"]
    assert len(lines) == 1 and " -s 1 -e 2 -a" in lines[0]
    assert out["rich_loaded"] == []
    assert out["unregistered"]


def test_manifest_filling_and_bad_input(tmp_path: Path) -> None:
    source = REPO / "plugins" / "blender" / "azrender_blender" / "blender_manifest.toml"
    assert tomllib.loads(source.read_text())["wheels"] == []
    out = tmp_path / "m.toml"
    parsed = build.write_manifest(source, out, wheels=["./wheels/a-1-py3-none-any.whl"], platforms=["linux-x64"])
    assert parsed["wheels"] == ["./wheels/a-1-py3-none-any.whl"]
    assert parsed["platforms"] == ["linux-x64"]
    broken = tmp_path / "broken.toml"
    broken.write_text('schema_version = "1.0.0"\n')
    with pytest.raises(build.BuildError, match=re.escape("no `wheels = [...]` line")):
        build.write_manifest(broken, out, wheels=[], platforms=[])
    proc = subprocess.run([sys.executable, str(SCRIPT), "--platform", "amiga-68k", "--work",
                           str(tmp_path / "w"), "--dist", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "build_blender_extension: error: unknown platform 'amiga-68k' "
        "(use one of linux-x64, windows-x64, macos-arm64, macos-x64 or current)"
    )


@needs_bpy
@pytest.mark.bpy
@pytest.mark.azurite
@pytest.mark.slow
def test_installed_extension_renders_through_the_local_backend(
    extension_zip: Path, demo_scene_dir: Path, tmp_path: Path, azurite: AzuriteServer
) -> None:
    import shutil

    shot = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, shot)
    presets = tmp_path / "shows"
    presets.mkdir()
    (presets / "ext.toml").write_text(
        'name = "ext"\n[storage]\nassets_container = "ext-assets"\noutputs_container = "ext-outputs"\n'
        '[backend]\nkind = "local"\n'
    )
    user = tmp_path / "blender-user"
    env = dict(os.environ)
    env.update(
        AZR_EXTENSION_ZIP=str(extension_zip),
        BLENDER_USER_RESOURCES=str(user),  # never the real user's Blender folders
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONWARNINGS="ignore",
    )
    output = tmp_path / "out"

    out = drive(env, str(output), str(presets / "ext.toml"), str(shot / "shot010.blend"), str(presets),
                "submit")

    assert out["addon"] == "bl_ext.user_default.azrender"
    assert Path(out["addon_file"]) == user / "extensions" / "user_default" / "azrender" / "__init__.py"
    # The bundled wheels were installed while enabled, and removed with the extension.
    assert out["bundled_azrender"] and not out["bundled_azrender_after_disable"]
    assert out["thread_finished"] and out["job"]["state"] == "done", out["job"]
    frames = sorted(p.name for p in (output / out["job"]["job_id"] / "frames").iterdir())
    assert frames == ["shot010_0001.png", "shot010_0002.png"]
    assert out["unregistered"]


def test_a_second_build_needs_no_package_index(extension_zips: list[Path], tmp_path: Path) -> None:
    """The wheel cache answers alone: the package index is a dead port on 127.0.0.1 here (the
    dependency wheels are resolved with pip --isolated --no-index, so no configured index helps)."""
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--platform", "current", "--dist", str(tmp_path / "dist"),
         "--work", str(tmp_path / "work"), "--wheel-cache", str(WHEEL_CACHE)],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "from the package index" not in proc.stderr  # every wheel came from the cache
    again = [Path(line) for line in proc.stdout.split()]
    assert len(again) == 2  # this platform, both Pythons
    for archive in again:
        (first,) = (a for a in extension_zips if a.name == archive.name)
        with zipfile.ZipFile(first) as a, zipfile.ZipFile(archive) as b:
            assert sorted(n for n in a.namelist() if n.startswith("wheels/")) == sorted(
                n for n in b.namelist() if n.startswith("wheels/"))
