#!/usr/bin/env python3
"""Build the installable Blender extension: ``dist/azrender-<version>-<platform>-cpXY.zip``.

::

    .venv/bin/python scripts/build_blender_extension.py                 # every platform Blender supports
    .venv/bin/python scripts/build_blender_extension.py --platform current

Steps: copy the add-on package (plugins/blender/azrender_blender) into a
staging folder; build the azrender wheel (``pip wheel --no-deps``); find the
third-party modules the add-on imports (its ``register()`` and everything that
reaches, following imports through ``azrender``; see :mod:`addon_imports`);
download the binary wheels of those distributions and their dependencies for
each platform and each Python that Blender embeds (``pip download
--only-binary=:all: --platform ... --python-version ...``); then, per platform
and Python, write the wheels to ``wheels/``, list them in
``blender_manifest.toml`` (``wheels``, ``platforms = [<that platform>]`` and the
Blender versions that embed that Python) and zip the folder with the manifest
at the top, which is what Blender's "Install from Disk" expects.

Facts this relies on, read in Blender's own extension code (``bl_pkg``, in bpy
4.5, 5.0 and 5.3 under ``scripts/addons_core/bl_pkg``, and its last version in
blender-addons-contrib before it moved into Blender for 4.2):

* Blender 4.2-5.0 embed CPython 3.11 and 5.1+ embed 3.13 (bpy 5.0.1 is cp311,
  bpy 5.3.0 cp313 on the package registry).
* One zip per Python, because Blender 4.2 demands it: its installer keeps the
  wheels of this platform without looking at their Python tag ("TODO: Match
  Python & ABI tags" in ``_extensions_wheel_filter_for_platform``) and then one
  wheel per project (``wheel_list_deduplicate_as_skip_set``: equal versions are
  decided by the larger file name, so a cp313 wheel would win in a 3.11
  Blender). Later Blenders (the change "Support multiple extensions with
  different Python versions") filter by Python too
  (``_extensions_wheel_filter_for_this_system``) and list an extension for the
  Pythons its wheels are tagged for (``python_versions_from_wheels``), so
  per-Python zips serve them as well. Each zip says which Blenders it is for:
  ``blender_version_min`` and ``blender_version_max`` (excluded: Blender refuses
  ``version >= max``, ``repository_filter_skip``).
* ``blender --command extension build --split-platforms`` makes one zip per
  entry of ``platforms``, named ``<id>-<version>-<platform with _>.zip``, each
  with only that platform's (and ``any``) wheels: the layout this script writes,
  with ``-cpXY`` added to the name.

Downloaded wheels are kept in ``--wheel-cache`` (default ``.tools/blender-wheels``):
a later build resolves from that folder alone first (``pip download --isolated
--no-index --find-links``) and asks the package index only when something is
missing there (``--refresh`` always asks the index). Building the azrender wheel
itself needs the build backend (hatchling), which pip fetches as for any build.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from addon_imports import AddonImportError, requirements_for_addon

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "plugins" / "blender" / "azrender_blender"
MANIFEST = "blender_manifest.toml"
DEFAULT_WHEEL_CACHE = REPO / ".tools" / "blender-wheels"

# The CPython each supported Blender embeds, and the Blender versions of each zip
# (``blender_version_min``, ``blender_version_max``: the max is excluded): 4.2 LTS to 5.0 use
# 3.11, 5.1 and later 3.13.
PYTHON_VERSIONS: dict[str, tuple[str, str | None]] = {"3.11": ("4.2.0", "5.1.0"), "3.13": ("5.1.0", None)}

# Blender's platform names and the wheel platform tags a Blender build there
# can load, newest first (Blender 4.2+ needs glibc 2.28 and macOS 11).
PLATFORM_TAGS: dict[str, tuple[str, ...]] = {
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_11_0_arm64",),
    "macos-x64": ("macosx_11_0_x86_64", "macosx_10_15_x86_64", "macosx_10_13_x86_64",
                  "macosx_10_12_x86_64", "macosx_10_9_x86_64"),
}

_SKIP_NAMES = {"__pycache__", MANIFEST}


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def current_platform() -> str:
    """This machine's Blender platform name (``linux-x64``...)."""
    system = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(platform.system(), "")
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "arm64": "arm64", "aarch64": "arm64"}.get(machine, machine)
    name = f"{system}-{arch}"
    if name not in PLATFORM_TAGS:
        raise BuildError(f"no wheels are known for this platform ({name})")
    return name


def archive_name(ext_id: str, version: str, platform_name: str, python: str) -> str:
    """``<id>-<version>-<platform>-cpXY.zip``: the name ``blender --command extension build
    --split-platforms`` gives a platform's zip, and the CPython its wheels are for."""
    return f"{ext_id}-{version}-{platform_name.replace('-', '_')}-cp{python.replace('.', '')}.zip"


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BuildError(f"{what} failed (exit {done.returncode}): " + " | ".join(tail))


def stage_package(stage: Path) -> None:
    """Copy the add-on's sources (no caches, no manifest: that is written later)."""
    if stage.exists():
        shutil.rmtree(stage)
    shutil.copytree(PACKAGE, stage, ignore=lambda _d, names: [n for n in names if n in _SKIP_NAMES
                                                                or n.endswith(".pyc")])


def build_azrender_wheel(dest: Path) -> Path:
    """``pip wheel --no-deps`` of this repository; returns the wheel."""
    dest.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), str(REPO)],
         "building the azrender wheel")
    wheels = sorted(dest.glob("azrender-*.whl"))
    if not wheels:
        raise BuildError(f"pip built no azrender wheel in {dest}")
    return wheels[-1]


def download_dependencies(
    requirements: list[str], platform_name: str, python_version: str, dest: Path,
    *, cache: Path | None, refresh: bool = False,
) -> list[Path]:
    """Binary wheels of ``requirements`` (and what they need) for one platform and Python.

    From ``cache`` alone when it holds a full set; else from the package index,
    and the new wheels are added to ``cache``.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if not requirements:
        return []
    command = [
        sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
        "--only-binary=:all:",
        "--python-version", python_version,
        "--implementation", "cp",
        "--dest", str(dest),
    ]
    for tag in PLATFORM_TAGS[platform_name]:
        command += ["--platform", tag]
    what = f"downloading the {platform_name} wheels for Python {python_version}"
    offline = cache is not None and cache.is_dir() and not refresh
    if offline:
        assert cache is not None
        # --isolated: no pip configuration's own indexes or find-links, the cache alone.
        done = subprocess.run([*command, "--isolated", "--no-index", "--find-links", str(cache), *requirements],
                              capture_output=True, text=True, check=False)
        offline = done.returncode == 0
    if not offline:
        print(f"build_blender_extension: {what} from the package index", file=sys.stderr)
        _run([*command, *requirements], what)
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            for wheel in dest.glob("*.whl"):
                if not (cache / wheel.name).exists():
                    shutil.copy2(wheel, cache / wheel.name)
    return sorted(dest.glob("*.whl"))


def wheel_platform_tag(wheel_name: str) -> str:
    """The platform tag of a wheel file name (``...-cp313-cp313-win_amd64.whl`` -> ``win_amd64``)."""
    return wheel_name[: -len(".whl")].split("-")[-1]


def toml_list(values: list[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f'    "{v}",\n' for v in values) + "]"


def write_manifest(
    source: Path, dest: Path, *, wheels: list[str], platforms: list[str],
    blender: tuple[str, str | None] | None = None,
) -> dict[str, object]:
    """The source manifest with ``wheels`` and ``platforms`` filled in, and the Blender versions
    ``(min, max or None)`` when given; returns it parsed."""
    text = source.read_text(encoding="utf-8")
    for key, values in (("wheels", wheels), ("platforms", platforms)):
        pattern = re.compile(rf"^{key} = \[[^\]]*\]", re.MULTILINE)
        if not pattern.search(text):
            raise BuildError(f"{source}: no `{key} = [...]` line to fill in")
        text = pattern.sub(lambda _m, k=key, v=values: f"{k} = {toml_list(v)}", text, count=1)
    if blender is not None:
        pattern = re.compile(r'^blender_version_min = "[^"]*"$', re.MULTILINE)
        if not pattern.search(text):
            raise BuildError(f"{source}: no `blender_version_min = \"...\"` line to fill in")
        lowest, below = blender
        line = f'blender_version_min = "{lowest}"' + (f'\nblender_version_max = "{below}"' if below else "")
        text = pattern.sub(lambda _m: line, text, count=1)
    dest.write_text(text, encoding="utf-8")
    return tomllib.loads(text)


def zip_folder(folder: Path, archive: Path) -> None:
    """Zip ``folder``'s contents with the manifest at the top of the archive."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_suffix(".zip.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    tmp.replace(archive)


def build(
    platforms: list[str], dist: Path, work: Path, *, cache: Path | None = DEFAULT_WHEEL_CACHE,
    refresh: bool = False,
) -> list[Path]:
    """Build one extension zip per platform and Python in ``platforms``; returns their paths."""
    azrender_wheel = build_azrender_wheel(work / "azrender-wheel")
    archives = []
    for name in platforms:
        for python, blender in PYTHON_VERSIONS.items():
            stage = work / f"{name}-{python}" / "azrender"
            stage_package(stage)
            wheels_dir = stage / "wheels"
            wheels_dir.mkdir()
            shutil.copy2(azrender_wheel, wheels_dir / azrender_wheel.name)
            requirements = requirements_for_addon(REPO, python, name)
            downloads = work / "downloads" / f"{name}-{python}"
            for wheel in download_dependencies(requirements, name, python, downloads, cache=cache, refresh=refresh):
                shutil.copy2(wheel, wheels_dir / wheel.name)
            wheel_paths = [f"./wheels/{p.name}" for p in sorted(wheels_dir.glob("*.whl"))]
            manifest = write_manifest(PACKAGE / MANIFEST, stage / MANIFEST, wheels=wheel_paths, platforms=[name],
                                      blender=blender)
            archive = dist / archive_name(str(manifest["id"]), str(manifest["version"]), name, python)
            zip_folder(stage, archive)
            archives.append(archive)
    return archives


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--platform", action="append", dest="platforms", metavar="NAME",
        help=f"one of {', '.join(PLATFORM_TAGS)} or 'current' (repeatable; default: all)",
    )
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="where the zips go")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "blender-extension",
                        help="staging folder (emptied first)")
    parser.add_argument("--wheel-cache", type=Path, default=DEFAULT_WHEEL_CACHE,
                        help="folder of downloaded wheels reused by later builds (default: %(default)s)")
    parser.add_argument("--refresh", action="store_true",
                        help="resolve against the package index even when the cache has every wheel")
    args = parser.parse_args(argv)
    try:
        platforms = [current_platform() if p == "current" else p for p in (args.platforms or PLATFORM_TAGS)]
        unknown = [p for p in platforms if p not in PLATFORM_TAGS]
        if unknown:
            raise BuildError(f"unknown platform {unknown[0]!r} (use one of {', '.join(PLATFORM_TAGS)} or current)")
        platforms = list(dict.fromkeys(platforms))
        if args.work.exists():
            shutil.rmtree(args.work)
        archives = build(platforms, args.dist.absolute(), args.work.absolute(),
                         cache=args.wheel_cache.absolute(), refresh=args.refresh)
    except (BuildError, AddonImportError) as exc:
        print(f"build_blender_extension: error: {exc}", file=sys.stderr)
        return 1
    for archive in archives:
        print(archive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
