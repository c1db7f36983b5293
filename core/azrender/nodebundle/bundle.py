"""The node bundle: this client's azrender and exactly what ``azrender.node`` needs, as wheels.

Built on the submitting machine, content-addressed, staged once in the assets
container below ``azrender-node/<id>/`` and installed by the job preparation task
(:mod:`azrender.nodebundle.bootstrap`)::

    ref = running_ref()                       # id from the azrender wheel's hash and the pins
    folder = build_bundle(ref, [running_target()])
    stage_bundle(assets_client, ref, folder)  # uploads only what is not there yet

Contents of ``azrender-node/<id>/``:

* ``install.py`` (:mod:`azrender.nodebundle.node_install`), ``bootstrap.cmd`` (Windows);
* ``wheels/azrender-<version>-py3-none-any.whl``: built from the running
  installation (the ``azrender`` package folder as it is imported now, so an
  editable checkout ships what it runs), zipped with fixed timestamps;
* ``wheels/<dependency>.whl``: the distributions ``azrender.node`` imports
  (:data:`azrender.nodebundle.wheels.NODE_REQUIREMENTS`) and their dependencies, at the versions installed
  here. For a node Python equal to this one they are repacked from this
  installation (no network); for another Python (Ubuntu 22.04's 3.10, 24.04's 3.12,
  the Windows embeddable 3.12) they come from ``pip download --only-binary=:all:
  --python-version X.Y --platform ...`` once per workstation (pip's documented way
  to fetch wheels for another interpreter), cached in the user cache folder;
* ``cpXY-<os>.json`` per staged Python: the wheel files for it with their SHA-256;
* ``python-embed-amd64.zip`` (Windows): CPython's embeddable distribution.

The bundle id hashes the azrender wheel, the pinned dependency versions and the
Windows Python version: another client version, or the same version with other
code (an editable checkout), gets another id, so a node never mixes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from azure.storage.blob import ContainerClient

import azrender
from azrender.errors import UsageError
from azrender.interpreter import python_executable
from azrender.model import JobSpec
from azrender.node.contract import ENV_JOB_VERSION
from azrender.nodebundle import node_install
from azrender.nodebundle.bootstrap import BUNDLE_PREFIX, NodeBundleRef
from azrender.nodebundle.wheels import NODE_REQUIREMENTS, azrender_wheel, closure, pins, repack
from azrender.settings import cache_dir
from azrender.storage.client import storage_errors

#: The default ``python3`` of the Ubuntu LTS images Batch offers: 22.04 ships 3.10, 24.04 3.12.
LINUX_PYTHONS = ("3.10", "3.12")
#: CPython's embeddable zip for Windows nodes (python.org's Windows "embeddable package").
WINDOWS_PYTHON = "3.12.10"
WINDOWS_PYTHON_URL = f"https://www.python.org/ftp/python/{WINDOWS_PYTHON}/python-{WINDOWS_PYTHON}-embed-amd64.zip"
#: Where built bundles (and the local node's installed environments) are kept; default
#: ``<cache dir>/node``. The test suite points it at one folder for the whole session.
ENV_NODE_CACHE = "AZRENDER_NODE_CACHE_DIR"
#: A local copy of that zip (offline workstations, or a studio's vetted build).
ENV_WINDOWS_PYTHON_ZIP = "AZRENDER_WINDOWS_PYTHON_ZIP"
BUNDLE_FORMAT = 1
#: The oldest glibc a Linux node has: Ubuntu 22.04's 2.35 (24.04 has 2.39). Wheels for a
#: newer glibc would not load there.
NODE_GLIBC_MINOR = 35
#: pip platform tags for Linux x86_64 nodes: every manylinux tag up to that glibc. pip
#: takes them literally (it widens only manylinux2014/2010, not ``manylinux_2_X``).
_LINUX_PLATFORMS = (
    *(f"manylinux_2_{m}_x86_64" for m in range(NODE_GLIBC_MINOR, 4, -1)),
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
)  # fmt: skip
_MANYLINUX = re.compile(r"manylinux_2_(\d+)_x86_64|manylinux(2014|2010|1)_x86_64")


@dataclass(frozen=True)
class Target:
    """One node Python: ``3.10`` on ``linux`` takes the files of ``cp310-linux.json``."""

    python: str
    os: str

    @property
    def key(self) -> str:
        major, minor = (int(p) for p in self.python.split("."))
        return node_install.target_key((major, minor), {"windows": "win32", "macos": "darwin"}.get(self.os, "linux"))


def running_target() -> Target:
    """This interpreter as a node Python (the local emulated node runs it bare)."""
    osname = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")
    return Target(f"{sys.version_info[0]}.{sys.version_info[1]}", osname)


def node_compatible(wheel_name: str) -> bool:
    """Whether a wheel of this machine also loads on an Azure Linux x86_64 node.

    >>> node_compatible("xxhash-3.8.2-cp311-cp311-manylinux_2_17_x86_64.whl"), node_compatible("a-1-py3-none-any.whl")
    (True, True)
    >>> node_compatible("c-1-cp311-cp311-manylinux_2_39_x86_64.whl"), node_compatible("c-1-cp311-cp311-linux_x86_64.whl")
    (False, False)
    """
    platform_tag = wheel_name[: -len(".whl")].rsplit("-", 1)[-1]
    if platform_tag == "any":
        return True
    found = [_MANYLINUX.fullmatch(t) for t in platform_tag.split(".")]
    return any(m and (m.group(2) or int(m.group(1)) <= NODE_GLIBC_MINOR) for m in found)


def targets_for(node_os: str) -> tuple[Target, ...]:
    """What an Azure node of ``node_os`` may run: Ubuntu LTS Pythons (and this one), or the staged 3.12."""
    if node_os == "windows":
        return (Target(WINDOWS_PYTHON.rsplit(".", 1)[0], "windows"),)
    here = running_target()
    pythons = sorted({*LINUX_PYTHONS, *((here.python,) if here.os == "linux" else ())}, key=lambda v: tuple(map(int, v.split("."))))
    return tuple(Target(p, "linux") for p in pythons)


def download_wheels(target: Target, versions: dict[str, str], dest: Path) -> list[Path]:
    """The dependency wheels for another node Python, fetched by pip into ``dest`` (cached)."""
    marker = dest / ".complete"
    if marker.is_file():
        return sorted(dest.glob("*.whl"))
    dest.mkdir(parents=True, exist_ok=True)
    constraints = dest / "constraints.txt"
    constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(versions.items())))
    platforms = ("win_amd64",) if target.os == "windows" else _LINUX_PLATFORMS
    argv = [
        python_executable(), "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", target.python,
        *(a for p in platforms for a in ("--platform", p)),
        "--dest", str(dest), "-c", str(constraints), *NODE_REQUIREMENTS,
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["pip failed"]
        raise UsageError(
            f"cannot fetch the node's wheels for Python {target.python} ({target.os}): {tail[0]}",
            hint="this machine needs its package index once per azrender version to stage them",
        )
    marker.write_text("ok")
    return sorted(dest.glob("*.whl"))


def windows_python_zip(dest: Path) -> Path:
    """CPython's embeddable zip for Windows nodes: ``$AZRENDER_WINDOWS_PYTHON_ZIP`` or python.org (cached)."""
    local = os.environ.get(ENV_WINDOWS_PYTHON_ZIP)
    if local:
        return Path(local)
    path = dest / f"python-{WINDOWS_PYTHON}-embed-amd64.zip"
    if not path.is_file():
        dest.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(WINDOWS_PYTHON_URL, timeout=120) as response:
                data = response.read()
        except OSError as exc:
            raise UsageError(
                f"cannot fetch the Windows node's Python from {WINDOWS_PYTHON_URL}: {exc}",
                hint=f"download it once and set {ENV_WINDOWS_PYTHON_ZIP} to the file",
            ) from exc
        path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        if "python.exe" not in archive.namelist():
            raise UsageError(f"{path} is not CPython's embeddable zip (no python.exe)", hint=f"check {ENV_WINDOWS_PYTHON_ZIP}")
    return path


# --- the bundle --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def running_ref() -> NodeBundleRef:
    """The bundle id of this client: its azrender wheel, the node's pins, the Windows Python."""
    _, data = azrender_wheel()
    manifest = {
        "format": BUNDLE_FORMAT,
        "azrender": hashlib.sha256(data).hexdigest(),
        "pins": pins(),
        "windows_python": WINDOWS_PYTHON,
    }
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    return NodeBundleRef(digest[:20], azrender.__version__)


def node_cache_dir() -> Path:
    override = os.environ.get(ENV_NODE_CACHE)
    return Path(override) if override else cache_dir() / "node"


def bundle_folder(ref: NodeBundleRef) -> Path:
    return node_cache_dir() / "bundles" / ref.bundle_id


def build_bundle(ref: NodeBundleRef, targets: Iterable[Target], *, local: bool = True) -> Path:
    """The bundle's files for ``targets`` in the user cache folder (built once per target).

    This interpreter's own target is repacked from the installation; for an Azure
    node (``local`` False) only when every wheel also loads there (manylinux up to
    the node's glibc), else it is downloaded like the others.
    """
    if ref.bundle_id != running_ref().bundle_id:
        raise ValueError("only this client's own bundle can be built here")
    # The listing names this client's version: a ref taken from a job may lack it (a job
    # built without AZRENDER_JOB_VERSION), and the node checks the version the listing names.
    ref = running_ref()
    folder = bundle_folder(ref)
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    (folder / "install.py").write_bytes(Path(node_install.__file__).read_bytes())
    name, data = azrender_wheel()
    _write_once(wheels / name, data)
    here = running_target()
    for target in targets:
        listing = folder / f"{target.key}.json"
        if listing.is_file() and (local or json.loads(listing.read_text()).get("portable")):
            continue  # a listing of this machine's own wheels serves Azure nodes only if they load there
        repacked = [repack(dist) for dist in closure()] if target == here else []
        if repacked and (local or all(node_compatible(n) for n, _ in repacked)):
            files = []
            for wheel_name, data in repacked:
                _write_once(wheels / wheel_name, data)
                files.append(wheels / wheel_name)
        else:
            cached = node_cache_dir() / "wheels" / target.key / ref.bundle_id
            files = []
            for wheel in download_wheels(target, pins(), cached):
                shutil.copyfile(wheel, wheels / wheel.name)
                files.append(wheels / wheel.name)
        files.insert(0, wheels / name)
        if target.os == "windows":
            _windows_files(folder)
        entries = [{"file": f"wheels/{p.name}", "sha256": node_install.sha256_of(p)} for p in files]
        portable = target.os == "windows" or all(node_compatible(p.name) for p in files)
        listing.write_text(json.dumps(
            {"azrender": ref.version, "bundle": ref.bundle_id, "portable": portable, "wheels": entries}, indent=1))
    return folder


def _write_once(path: Path, data: bytes) -> None:
    if not path.is_file() or path.stat().st_size != len(data):
        path.write_bytes(data)


BOOTSTRAP_CMD = r"""@echo off
rem azrender node bootstrap (Windows): CPython's embeddable zip and the staged wheels; no package index.
rem Usage: bootstrap.cmd <target folder>. Runs in the preparation task's working directory.
setlocal
set "HERE=%~dp0"
set "TARGET=%~1"
if exist "%TARGET%\complete" (
  echo azrender node: %TARGET% already installed
  exit /b 0
)
if not exist "%TARGET%\.." mkdir "%TARGET%\.."
set "STAGING=%TARGET%.partial-%RANDOM%%RANDOM%"
powershell -NoProfile -NonInteractive -Command "Expand-Archive -LiteralPath '%HERE%python-embed-amd64.zip' -DestinationPath '%STAGING%\python' -Force"
if errorlevel 1 (
  echo error: azrender node bootstrap: cannot unpack the staged Python 1>&2
  exit /b 3
)
"%STAGING%\python\python.exe" "%HERE%install.py" --staging "%STAGING%" --target "%TARGET%"
exit /b %errorlevel%
"""


def _windows_files(folder: Path) -> None:
    (folder / "bootstrap.cmd").write_bytes(BOOTSTRAP_CMD.replace("\n", "\r\n").encode())
    shutil.copyfile(windows_python_zip(node_cache_dir() / "python"), folder / "python-embed-amd64.zip")


def stage_bundle(client: ContainerClient, ref: NodeBundleRef, folder: Path) -> int:
    """Upload the bundle's files that the container lacks; the number uploaded.

    Content-addressed, so a wheel that exists is the same bytes and stays. The
    ``cpXY-<os>.json`` listings (a few kB) go last, every time: a listing in the
    container means its wheels are there.
    """
    with storage_errors("listing the node bundle", client=client, blob=ref.blob_prefix):
        have = {b.name for b in client.list_blobs(name_starts_with=ref.blob_prefix)}
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: (p.suffix == ".json", str(p)))
    sent = 0
    for path in files:
        blob = ref.blob_prefix + path.relative_to(folder).as_posix()
        if blob in have and path.suffix != ".json":
            continue  # the listings are sent again: a portable one replaces a local node's
        with storage_errors("staging the node bundle", client=client, blob=blob), open(path, "rb") as data:
            client.upload_blob(blob, data, overwrite=True)
        sent += 1
    return sent


def job_bundle(job: JobSpec) -> NodeBundleRef | None:
    """The node bundle a built job's preparation task installs, or None."""
    prep = job.preparation.resource_files if job.preparation else ()
    for spec in prep:
        if spec.blob_prefix.startswith(BUNDLE_PREFIX):
            return NodeBundleRef(spec.blob_prefix[len(BUNDLE_PREFIX) :].strip("/"), job.environment.get(ENV_JOB_VERSION, ""))
    return None


def stage_job_bundle(client: ContainerClient, job: JobSpec, targets: Iterable[Target] | None = None) -> int:
    """Put the bundle ``job`` installs in its assets container (blobs uploaded; 0 when all there).

    ``targets``: the Azure node Pythons to stage for; None: this interpreter, for the local node.
    """
    ref = job_bundle(job)
    if ref is None:
        return 0
    if ref.bundle_id != running_ref().bundle_id:
        raise UsageError(
            f"job {job.job_id} runs node bundle {ref.bundle_id} (azrender {ref.version}), not this "
            f"azrender's {running_ref().bundle_id} ({running_ref().version})",
            hint="submit the job again from this azrender",
        )
    folder = build_bundle(ref, targets or (running_target(),), local=targets is None)
    return stage_bundle(client, ref, folder)
