#!/usr/bin/env python3
"""Build the installable Blender extension: ``dist/azrender-<version>[-<platform>].zip``.

::

    .venv/bin/python scripts/build_blender_extension.py                 # every platform Blender supports
    .venv/bin/python scripts/build_blender_extension.py --platform current

Steps: copy the add-on package (plugins/blender/azrender_blender) into a
staging folder; build the azrender wheel (``pip wheel --no-deps``); download the
binary wheels of its dependencies for each platform's Blender Python 3.11
(``pip download --only-binary=:all: --platform ... --python-version 3.11``);
write them to ``wheels/``, list them in ``blender_manifest.toml`` (``wheels``
and ``platforms``), and zip the folder with the manifest at the top, which is
what Blender's "Install from Disk" expects.
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

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "plugins" / "blender" / "azrender_blender"
MANIFEST = "blender_manifest.toml"
PYTHON_VERSION = "3.11"  # Blender 4.2 to 5.x embed CPython 3.11

# Blender's platform names and the wheel platform tags a Blender build there
# can load, newest first (Blender 4.2+ needs glibc 2.28 and macOS 11).
PLATFORM_TAGS: dict[str, tuple[str, ...]] = {
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_11_0_arm64",),
    "macos-x64": ("macosx_11_0_x86_64", "macosx_10_15_x86_64", "macosx_10_12_x86_64", "macosx_10_9_x86_64"),
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


def download_dependencies(azrender_wheel: Path, platform_name: str, dest: Path) -> list[Path]:
    """Binary wheels of azrender's dependencies for one platform's Blender Python."""
    dest.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "-q",
        "--only-binary=:all:",
        "--python-version", PYTHON_VERSION,
        "--implementation", "cp",
        "--dest", str(dest),
    ]
    for tag in PLATFORM_TAGS[platform_name]:
        command += ["--platform", tag]
    _run([*command, str(azrender_wheel)], f"downloading the {platform_name} wheels")
    return sorted(p for p in dest.glob("*.whl") if not p.name.startswith("azrender-"))


def toml_list(values: list[str]) -> str:
    if not values:
        return "[]"
    return "[\n" + "".join(f'    "{v}",\n' for v in values) + "]"


def write_manifest(source: Path, dest: Path, *, wheels: list[str], platforms: list[str]) -> dict[str, object]:
    """The source manifest with ``wheels`` and ``platforms`` filled in; returns it parsed."""
    text = source.read_text(encoding="utf-8")
    for key, values in (("wheels", wheels), ("platforms", platforms)):
        pattern = re.compile(rf"^{key} = \[[^\]]*\]", re.MULTILINE)
        if not pattern.search(text):
            raise BuildError(f"{source}: no `{key} = [...]` line to fill in")
        text = pattern.sub(lambda _m, k=key, v=values: f"{k} = {toml_list(v)}", text, count=1)
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


def build(platforms: list[str], dist: Path, work: Path) -> Path:
    """Build the extension zip for ``platforms``; returns its path."""
    stage = work / "azrender"
    stage_package(stage)
    wheels_dir = stage / "wheels"
    azrender_wheel = build_azrender_wheel(work / "azrender-wheel")
    wheels_dir.mkdir()
    shutil.copy2(azrender_wheel, wheels_dir / azrender_wheel.name)
    for name in platforms:
        for wheel in download_dependencies(azrender_wheel, name, work / "downloads" / name):
            # Pure-Python wheels are the same file for every platform: one copy.
            shutil.copy2(wheel, wheels_dir / wheel.name)
    wheel_paths = [f"./wheels/{p.name}" for p in sorted(wheels_dir.glob("*.whl"))]
    manifest = write_manifest(PACKAGE / MANIFEST, stage / MANIFEST, wheels=wheel_paths, platforms=platforms)
    suffix = "" if len(platforms) > 1 else f"-{platforms[0]}"
    archive = dist / f"{manifest['id']}-{manifest['version']}{suffix}.zip"
    zip_folder(stage, archive)
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--platform", action="append", dest="platforms", metavar="NAME",
        help=f"one of {', '.join(PLATFORM_TAGS)} or 'current' (repeatable; default: all)",
    )
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="where the zip goes")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "blender-extension",
                        help="staging folder (emptied first)")
    args = parser.parse_args(argv)
    try:
        platforms = [current_platform() if p == "current" else p for p in (args.platforms or PLATFORM_TAGS)]
        unknown = [p for p in platforms if p not in PLATFORM_TAGS]
        if unknown:
            raise BuildError(f"unknown platform {unknown[0]!r} (use one of {', '.join(PLATFORM_TAGS)} or current)")
        platforms = list(dict.fromkeys(platforms))
        if args.work.exists():
            shutil.rmtree(args.work)
        archive = build(platforms, args.dist.absolute(), args.work.absolute())
    except BuildError as exc:
        print(f"build_blender_extension: error: {exc}", file=sys.stderr)
        return 1
    print(archive)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
