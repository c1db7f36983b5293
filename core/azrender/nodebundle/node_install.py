"""Install a staged node bundle into a private Python environment: no package index, no pip.

This file travels to the node as ``install.py`` in the bundle (:mod:`azrender.nodebundle.bundle`)
and runs on the node's own Python before azrender exists there, so it uses the
standard library only and runs on Python 3.10+ (Ubuntu 22.04's ``python3`` is 3.10,
24.04's is 3.12)::

    python3 azrender-node/<id>/install.py --target "$AZ_BATCH_NODE_SHARED_DIR/azrender/<id>"

The bundle folder holds ``<target key>.json`` (e.g. ``cp310-linux.json``): the wheel
files for that Python and their SHA-256. The installer

1. picks the file list for this interpreter, or fails with one line naming the
   Pythons the bundle has;
2. makes a virtual environment without pip (Linux; PEP 405 layout, so it works
   where Debian/Ubuntu leave ``ensurepip`` out of the base Python: no
   ``python3-venv`` is needed) or, on Windows, uses the embeddable CPython that
   ``bootstrap.cmd`` unpacked into the staging folder;
3. checks every wheel's hash and unpacks it (a wheel is a zip of the files as they
   sit in site-packages, PEP 427; ``<name>.data/purelib|platlib`` are moved there too);
4. runs ``python -m azrender.node version --expect <version>`` in the new
   environment, so a missing dependency fails here, not in the first render;
5. renames the staging folder to ``--target``: a node half-way through an install
   never leaves a folder that looks complete, and two jobs installing the same
   bundle at once both end with the one that finished first.

Exit codes: 0 installed (or already there), 3 this node cannot take the bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

EXIT_NODE = 3
COMPLETE = "complete"


def target_key(version: tuple[int, int] | None = None, platform: str | None = None) -> str:
    """``cp311-linux`` / ``cp312-windows``: which wheels this interpreter takes.

    >>> target_key((3, 10), "linux"), target_key((3, 12), "win32"), target_key((3, 11), "darwin")
    ('cp310-linux', 'cp312-windows', 'cp311-macos')
    """
    major, minor = version or sys.version_info[:2]
    plat = platform or sys.platform
    return f"cp{major}{minor}-{ {'win32': 'windows', 'darwin': 'macos'}.get(plat, 'linux')}"


def fail(message: str) -> int:
    print(f"error: azrender node bootstrap: {message}", file=sys.stderr, flush=True)
    return EXIT_NODE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_venv(folder: Path) -> Path:
    """A virtual environment without pip at ``folder``; its python.

    The standard ``venv`` module when it works; otherwise the PEP 405 layout by
    hand (``pyvenv.cfg`` with ``home``, ``bin/python`` linked to this interpreter,
    an empty site-packages), which is all the interpreter looks for.
    """
    try:
        import venv

        venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(str(folder))
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        base = Path(getattr(sys, "_base_executable", sys.executable))
        (folder / "bin").mkdir(parents=True)
        (folder / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages").mkdir(parents=True)
        (folder / "pyvenv.cfg").write_text(
            f"home = {base.parent}\ninclude-system-site-packages = false\n"
            f"version = {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n"
        )
        os.symlink(base, folder / "bin" / "python")
    return folder / "bin" / "python"


def embedded_python(python_dir: Path) -> Path:
    """Make the embeddable CPython in ``python_dir`` see ``Lib\\site-packages``; its python.exe.

    The embeddable distribution's ``pythonXY._pth`` replaces sys.path with the
    folders it lists and leaves ``import site`` commented out, so installed
    packages are invisible until the ._pth names the folder.
    """
    site = python_dir / "Lib" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    for pth in python_dir.glob("python*._pth"):
        lines = [ln for ln in pth.read_text().splitlines() if ln.strip() not in ("#import site", "import site")]
        pth.write_text("\n".join([*lines, "Lib\\site-packages", "import site", ""]))
    return python_dir / "python.exe"


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    )
    return Path(out.stdout.strip())


def unpack_wheel(wheel: Path, site: Path) -> None:
    """Unpack one wheel into ``site`` (PEP 427 "spread": ``*.data/purelib|platlib`` into site)."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            if ".." in parts or info.filename.startswith("/") or info.is_dir():
                continue
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: the node runs ``python -m`` only
                parts = parts[2:]
            dest = site.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)


def make_root(root: Path) -> None:
    """The folder of all bundles; open to every node user, like /tmp (sticky).

    The preparation task runs elevated when it mounts (blobfuse) and as the
    non-admin task user otherwise: whichever creates the folder first must not
    lock the other out of adding the next bundle.
    """
    if root.is_dir():
        return
    root.mkdir(parents=True, exist_ok=True)
    if sys.platform != "win32":
        os.chmod(root, 0o1777)


def install(bundle: Path, target: Path, staging: Path | None) -> int:
    if (target / COMPLETE).is_file():
        os.utime(target / COMPLETE)  # last use: what a node cache may evict by
        print(f"azrender node: {target.name} already installed in {target}", flush=True)
        return 0
    key = target_key()
    listing = bundle / f"{key}.json"
    if not listing.is_file():
        have = sorted(p.stem for p in bundle.glob("cp*-*.json"))
        return fail(
            f"this node's Python {sys.version.split()[0]} ({key}) is not in the bundle, which has "
            f"{', '.join(have) or 'nothing'}; use an image whose python3 is one of those, or submit "
            "from a workstation that stages this Python"
        )
    spec = json.loads(listing.read_text())
    make_root(target.parent)
    work = staging or Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    if sys.platform != "win32":
        os.chmod(work, 0o755)  # mkdtemp's 0700 would hide an elevated install from the task user
    try:
        if sys.platform == "win32":
            python = embedded_python(work / "python")
        else:
            python = make_venv(work / "venv")
        site = site_packages(python)
        for wheel in spec["wheels"]:
            path = bundle / wheel["file"]
            if not path.is_file() or sha256_of(path) != wheel["sha256"]:
                return fail(f"staged wheel {wheel['file']} is missing or does not match its hash; submit again")
            unpack_wheel(path, site)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        check = subprocess.run(
            [str(python), "-m", "azrender.node", "version", "--expect", spec["azrender"]],
            env=env, capture_output=True, text=True,
        )
        if check.returncode != 0:
            return fail(f"the installed environment does not run: {(check.stderr or check.stdout).strip()[-400:]}")
        (work / COMPLETE).write_text(json.dumps({"bundle": target.name, "azrender": spec["azrender"], "target": key}))
        try:
            os.replace(work, target)
        except OSError:
            if not (target / COMPLETE).is_file():  # another job's install won the race: fine
                raise
            return 0
        work = target
        print(f"azrender node: installed azrender {spec['azrender']} ({key}) in {target}", flush=True)
        return 0
    finally:
        if work != target:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="install.py", description="install an azrender node bundle")
    parser.add_argument("--target", required=True, help="folder of the private environment (per bundle id)")
    parser.add_argument("--staging", help="Windows: the folder bootstrap.cmd unpacked the embeddable Python into")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 10):  # noqa: UP036 (the node's Python, not the project's)
        return fail(f"Python {sys.version.split()[0]} is too old; azrender needs Python 3.10 or newer")
    try:
        return install(Path(__file__).resolve().parent, Path(args.target), Path(args.staging) if args.staging else None)
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as exc:
        return fail(f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    raise SystemExit(main())
