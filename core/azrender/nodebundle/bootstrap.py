r"""How a render node gets azrender: the commands and files of the bootstrap (pure functions).

The client stages a *node bundle* in the assets container (:mod:`azrender.nodebundle.bundle`):
its own azrender wheel, the pinned wheels of what ``azrender.node`` imports, and
``install.py`` (:mod:`azrender.nodebundle.node_install`), below ``azrender-node/<bundle id>/``.
The job preparation task gets that prefix as a Batch resource file (so it is in the
task's working directory before the command starts, fetched with the job's own
read SAS or the pool's identity) and installs exactly those files into a private
environment per bundle id; nothing on the node reads a package index, and a node
that already has the bundle skips the install. Every later node command runs that
environment's Python.

Where the environment lives, and why:

* Linux: ``$AZ_BATCH_NODE_SHARED_DIR/azrender/<id>/venv``. Batch documents the shared
  folder as readable and writable by every task on the node ("Files and directories
  in Azure Batch"). Batch does not run command lines under a shell, so it does not
  expand ``$AZ_BATCH_NODE_SHARED_DIR`` ("Azure Batch runtime environment variables",
  *Command-line expansion*): a command that names the environment's Python runs
  through ``/bin/bash -c``.
* Windows: ``C:\ProgramData\azrender\<id>\python`` (CPython's embeddable zip with the
  wheels unpacked into it). A fixed path needs no ``cmd /c`` around the watcher, which
  would re-parse the renderer's own quoted ``cmd /c "..."`` line (see
  :func:`azrender.jobs.with_prefix`).

Batch facts this relies on (``azure.batch.models`` 15.x, generated from the REST
specification): a container ``ResourceFile`` with ``blobPrefix`` downloads every
matching blob below the task's working directory, "any directory structure already
associated with the input data ... retained in full" (``ResourceFile.file_path``);
``commonEnvironmentSettings`` "are set for all Tasks in the Job (including the Job
Manager, Job Preparation and Job Release Tasks)", so ``AZRENDER_JOB_VERSION``
reaches every node command; with ``waitForSuccess`` a failed preparation task (after
its retries) means "the Batch service will not schedule Tasks of the Job to the
Node" (``BatchJobPreparationTask.wait_for_success``). Ubuntu 22.04's ``python3`` is
3.10 and 24.04's is 3.12 (their release notes); neither base Python has
``ensurepip`` without ``python3-venv``, which is why the installer needs no pip.

Why the preparation task and not the pool start task: the start task runs only
when a node joins or reboots, so a pool created by one azrender version would keep
serving later versions' jobs, and its resource files' SAS would have expired by the
time autoscale adds a node. The preparation task runs for every job on every node
before the job's first task there, with ``waitForSuccess`` (a failed bootstrap fails
the job's tasks on that node instead of running them without azrender), for
created, existing and auto pools alike.

>>> ref = NodeBundleRef("0123456789abcdef", "0.1.0")
>>> print(node_python(ref, "linux"))
/bin/bash -c 'exec "$AZ_BATCH_NODE_SHARED_DIR/azrender/0123456789abcdef/venv/bin/python" "$@"' azrender-node
>>> print(node_python(ref, "windows"))
C:\ProgramData\azrender\0123456789abcdef\python\python.exe
"""

from __future__ import annotations

from dataclasses import dataclass

from azrender.model import ResourceFileSpec
from azrender.node.contract import ENV_JOB_VERSION, ENV_SHARED_DIR, INSTALL_FOLDER

#: Blobs of every staged bundle sit below this prefix of the assets container.
BUNDLE_PREFIX = "azrender-node/"
WINDOWS_ROOT = "C:\\ProgramData\\azrender"
LINUX_ROOT = f"${ENV_SHARED_DIR}/{INSTALL_FOLDER}"

_NO_PYTHON3 = "command -v python3 >/dev/null || { echo 'error: the node image has no python3 (azrender needs 3.10+)' >&2; exit 3; }"


@dataclass(frozen=True)
class NodeBundleRef:
    """Which node bundle a job runs with: its content id and the azrender version inside."""

    bundle_id: str
    version: str

    @property
    def blob_prefix(self) -> str:
        return f"{BUNDLE_PREFIX}{self.bundle_id}/"


def node_home(ref: NodeBundleRef, node_os: str) -> str:
    """The bundle's private environment on the node (a path with ``$AZ_BATCH_*`` on Linux)."""
    if node_os == "windows":
        return f"{WINDOWS_ROOT}\\{ref.bundle_id}"
    return f"{LINUX_ROOT}/{ref.bundle_id}"


def node_python(ref: NodeBundleRef, node_os: str, *, in_shell: bool = False) -> str:
    """The command that starts the bundle's Python: arguments follow it on the command line.

    ``in_shell``: for a command inside a ``/bin/bash -c`` script (the variable is
    expanded there); otherwise a command line of its own, which Batch runs without a shell.
    """
    if node_os == "windows":
        return f"{node_home(ref, node_os)}\\python\\python.exe"
    python = f'"{node_home(ref, node_os)}/venv/bin/python"'
    if in_shell:
        return python
    return f"/bin/bash -c 'exec {python} \"$@\"' azrender-node"


def bootstrap_resource(ref: NodeBundleRef) -> ResourceFileSpec:
    """The bundle as a resource file: it lands in ``wd/azrender-node/<id>/``."""
    return ResourceFileSpec(ref.blob_prefix)


def bootstrap_commands(ref: NodeBundleRef, node_os: str) -> tuple[str, ...]:
    r"""The preparation task's first commands: install the bundle unless the node has it.

    Relative paths: the task starts in its working directory, where the resource
    files are.

    >>> ref = NodeBundleRef("0123456789abcdef", "0.1.0")
    >>> print(bootstrap_commands(ref, "windows")[0])
    azrender-node\0123456789abcdef\bootstrap.cmd C:\ProgramData\azrender\0123456789abcdef
    """
    if node_os == "windows":
        folder = f"azrender-node\\{ref.bundle_id}"
        return (f"{folder}\\bootstrap.cmd {node_home(ref, node_os)}",)
    return (
        _NO_PYTHON3,
        f'python3 azrender-node/{ref.bundle_id}/install.py --target "{node_home(ref, node_os)}"',
    )


def version_environment(ref: NodeBundleRef) -> dict[str, str]:
    """What every node command checks its own azrender version against."""
    return {ENV_JOB_VERSION: ref.version}
