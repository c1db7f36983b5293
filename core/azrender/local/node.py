"""The folder layout and environment of an emulated Azure Batch node.

The local backend runs tasks in exactly the places and with exactly the
environment variables a Linux Batch node gives them, so a command line that
works here works on the farm::

    <root>/                               AZ_BATCH_NODE_ROOT_DIR
        shared/                           AZ_BATCH_NODE_SHARED_DIR
        fsmounts/                         AZ_BATCH_NODE_MOUNTS_DIR
        startup/                          AZ_BATCH_NODE_STARTUP_DIR
        workitems/<job>/job-1/<task>/     AZ_BATCH_TASK_DIR (stdout.txt, stderr.txt)
        workitems/<job>/job-1/<task>/wd/  AZ_BATCH_TASK_WORKING_DIR

A storage mode that mounts a share (``nfs``, ``cifs``, ``blobfuse``,
``azure-files``) finds it under ``$AZ_BATCH_NODE_MOUNTS_DIR/<mount name>`` on a
Batch node. The emulated node cannot mount a file server, so a local folder
stands in for the share: ``AZRENDER_LOCAL_MOUNTS="show=/srv/show"`` (entries
separated by ``os.pathsep``) makes ``fsmounts/show`` a link to ``/srv/show``::

    link_mounts(layout, local_mounts_from_env())
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from azrender.apps import all_adapters
from azrender.errors import UsageError
from azrender.interpreter import bare_python, python_executable, with_this_sys_path
from azrender.local.nodeenv import node_base_environment
from azrender.local.tools import find_tool
from azrender.node import contract

#: ``name=folder`` pairs (``os.pathsep`` between them): local folders standing in for mounts.
LOCAL_MOUNTS_ENV = "AZRENDER_LOCAL_MOUNTS"

#: This machine's Python settings, which a farm node does not have.
_CLIENT_PYTHON_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE")


@dataclass(frozen=True)
class NodeLayout:
    """Folders of one emulated node rooted at ``root``."""

    root: Path
    node_id: str = "local-node-1"
    pool_id: str = "local"

    @property
    def shared_dir(self) -> Path:
        return self.root / "shared"

    @property
    def mounts_dir(self) -> Path:
        return self.root / "fsmounts"

    @property
    def startup_dir(self) -> Path:
        return self.root / "startup"

    @property
    def shim_dir(self) -> Path:
        """Executables the emulated node's "image" provides (see :func:`install_node_tools`)."""
        return self.startup_dir / "wd" / "bin"

    @property
    def home_dir(self) -> Path:
        """The tasks' ``HOME`` (the pool auto-user's), not this machine's."""
        return self.root / "home"

    def job_dir(self, job_id: str) -> Path:
        return self.root / "workitems" / job_id / "job-1"

    def job_bin_dir(self, job_id: str) -> Path:
        """Programs for one job's tasks only, first on their PATH: the Blender its scene needs."""
        return self.job_dir(job_id) / "bin"

    def task_dir(self, job_id: str, task_id: str) -> Path:
        return self.job_dir(job_id) / task_id

    def create(self) -> None:
        for folder in (self.shared_dir, self.mounts_dir, self.startup_dir / "wd", self.home_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def task_environment(self, job_id: str, task_id: str, extra: dict[str, str]) -> dict[str, str]:
        """The environment a Batch node gives a task: ``AZ_BATCH_*``, ``extra`` (the task's own
        settings) and of this machine's only what starts a program (:mod:`azrender.local.nodeenv`)."""
        task_dir = self.task_dir(job_id, task_id)
        env = node_base_environment(os.environ, home=self.home_dir)
        env.update(extra)
        path_parts = [str(self.job_bin_dir(job_id)), str(self.shim_dir), env.get("PATH", "")]
        env.update(
            {
                "PATH": os.pathsep.join(p for p in path_parts if p),
                contract.ENV_NODE_ROOT_DIR: str(self.root),
                contract.ENV_SHARED_DIR: str(self.shared_dir),
                contract.ENV_MOUNTS_DIR: str(self.mounts_dir),
                contract.ENV_STARTUP_DIR: str(self.startup_dir),
                contract.ENV_NODE_ID: self.node_id,
                contract.ENV_POOL_ID: self.pool_id,
                contract.ENV_JOB_ID: job_id,
                contract.ENV_TASK_ID: task_id,
                contract.ENV_TASK_DIR: str(task_dir),
                contract.ENV_TASK_WORKING_DIR: str(task_dir / "wd"),
            }
        )
        return env


def _write_shim(layout: NodeLayout, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> Path:
    layout.shim_dir.mkdir(parents=True, exist_ok=True)
    shim = layout.shim_dir / name
    quoted = " ".join(f'"{a}"' for a in argv)
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in (env or {}).items())
    shim.write_text(f'#!/bin/sh\n{exports}exec {quoted} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shim


def install_node_tools(layout: NodeLayout) -> list[Path]:
    """Give the emulated node what a farm node's image provides.

    ``python3`` is a bare Python (:func:`azrender.interpreter.bare_python`):
    no azrender is importable from it, as on a marketplace Ubuntu image, so the
    job's preparation task must bootstrap the node bundle exactly as on Batch.
    Each application's renderer program is added when this machine has none and
    its adapter has a stand-in (:meth:`~azrender.apps.AppAdapter.local_stand_in`;
    Blender's renders with ``bpy`` and accepts the Blender flags our command
    lines use), so the very same command line that a farm node runs renders for
    real (the image's renderer: it keeps this machine's Python and module path).
    """
    python = python_executable()
    shims = [_write_shim(layout, "python3", [bare_python()])]
    for adapter in all_adapters():
        stand_in = adapter.local_stand_in(python)
        if stand_in and not shutil.which(adapter.renderer_program):
            shims.append(_write_shim(layout, adapter.renderer_program, stand_in, with_this_sys_path({})))
    azcopy = find_azcopy()
    if azcopy is not None and not shutil.which("azcopy"):
        shims.append(_write_shim(layout, "azcopy", [azcopy]))
    return shims


def share_node_environments(layout: NodeLayout, folder: Path) -> None:
    """Keep the node bundles' installed environments in ``folder``, shared by every local node.

    ``shared/azrender`` (where the preparation task installs a bundle, see
    :mod:`azrender.nodebundle.bootstrap`) becomes a link to ``folder``, so a bundle is
    installed once per machine, by the very preparation task Batch would run; the
    next job (or the next test's fresh node) finds it installed and goes on, as a
    Batch node that already ran the bundle does.
    """
    link = layout.shared_dir / contract.INSTALL_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and Path(os.readlink(link)) == folder.absolute():
        return
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        return  # a real folder from an earlier run: it keeps working as it is
    layout.shared_dir.mkdir(parents=True, exist_ok=True)
    link.symlink_to(folder.absolute(), target_is_directory=True)


#: Installed node bundles a machine keeps (every azrender build, an edited checkout too, has its own).
KEEP_NODE_ENVIRONMENTS = 3
#: Younger than this, an environment may serve a job still running: never removed.
NODE_ENVIRONMENT_GRACE_S = 24 * 3600


def prune_node_environments(
    folder: Path, keep: int = KEEP_NODE_ENVIRONMENTS, now: float | None = None, marker: str = "complete"
) -> list[str]:
    """Remove all but the ``keep`` most recently used bundle folders in ``folder``; their ids.

    Last use is the time of each folder's ``marker``: an environment's ``complete``,
    which the installer touches whenever a preparation task finds the bundle
    installed (a built bundle's ``install.py``, written by every build).
    Half-finished installs (``.<id>-*``) older than the grace period go too.
    """
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    used = sorted(
        ((p.stat().st_mtime, p.parent) for p in folder.glob(f"*/{marker}")), key=lambda t: t[0], reverse=True
    )
    stale = [d for m, d in used[keep:] if now - m > NODE_ENVIRONMENT_GRACE_S]
    stale += [d for d in folder.glob(".*") if d.is_dir() and now - d.stat().st_mtime > NODE_ENVIRONMENT_GRACE_S]
    for env in stale:
        shutil.rmtree(env, ignore_errors=True)
    return sorted(d.name for d in stale)


def find_azcopy() -> str | None:
    """azcopy for the emulated node (``storage.node_sync = "azcopy"``), if this machine has one.

    ``$AZRENDER_AZCOPY``, the project's ``.tools/azcopy/azcopy`` (``scripts/setup.sh``
    installs it) or ``azcopy`` on ``PATH``.
    """
    return find_tool("AZRENDER_AZCOPY", "azcopy/azcopy", "azcopy")


def local_mounts_from_env(env: Mapping[str, str] | None = None) -> dict[str, Path]:
    """The mounts the emulated node provides, from ``AZRENDER_LOCAL_MOUNTS``.

    >>> local_mounts_from_env({"AZRENDER_LOCAL_MOUNTS": "show=/srv/show"})
    {'show': PosixPath('/srv/show')}
    """
    env = os.environ if env is None else env
    mounts: dict[str, Path] = {}
    for entry in env.get(LOCAL_MOUNTS_ENV, "").split(os.pathsep):
        if not entry.strip():
            continue
        name, sep, folder = entry.partition("=")
        name = name.strip()
        if not sep or not name or "/" in name or "\\" in name or name in (".", "..") or not folder.strip():
            raise UsageError(
                f"{LOCAL_MOUNTS_ENV} entry {entry!r} is not name=folder",
                hint=f'write e.g. {LOCAL_MOUNTS_ENV}="show=/srv/show" (the [share] mount_name, a local folder)',
            )
        mounts[name] = Path(folder.strip()).expanduser()
    return mounts


def link_mounts(layout: NodeLayout, mounts: Mapping[str, Path]) -> None:
    """Make ``<mounts dir>/<name>`` a link to each local folder, as a pool mount would appear.

    A link left by an earlier run is pointed at the new folder; a real folder
    of that name is never replaced.
    """
    layout.mounts_dir.mkdir(parents=True, exist_ok=True)
    for name, folder in mounts.items():
        if not folder.is_dir():
            raise UsageError(
                f"local mount {name!r}: folder {folder} does not exist",
                hint=f"fix {LOCAL_MOUNTS_ENV}, or create the folder",
            )
        link = layout.mounts_dir / name
        if link.is_symlink():
            if Path(os.readlink(link)) == folder.absolute():
                continue
            link.unlink()
        elif link.exists():
            raise UsageError(
                f"the local node already has a folder {link} that is not a mount link",
                hint="remove it, or pick another mount name",
            )
        link.symlink_to(folder.absolute(), target_is_directory=True)


def missing_mount(layout: NodeLayout, node_path: str, mounts: Mapping[str, Path]) -> str | None:
    """The mount name a node path needs that this node does not provide, or None.

    >>> missing_mount(NodeLayout(Path("/n")), "$AZ_BATCH_NODE_MOUNTS_DIR/show/a.blend", {})
    'show'
    >>> missing_mount(NodeLayout(Path("/n")), "$AZ_BATCH_NODE_SHARED_DIR/assets/a.blend", {}) is None
    True
    """
    for prefix in ("$AZ_BATCH_NODE_MOUNTS_DIR/", "${AZ_BATCH_NODE_MOUNTS_DIR}/", f"{layout.mounts_dir}/"):
        if node_path.startswith(prefix):
            name = node_path[len(prefix) :].split("/", 1)[0]
            present = name in mounts or (layout.mounts_dir / name).is_dir()
            return None if present else name
    return None
