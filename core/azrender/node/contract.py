r"""The node contract: what the submitter, a render node and either backend agree on.

The Azure Batch backend (:mod:`azrender.batch`) and the local emulated node
(:mod:`azrender.local`) are siblings: each runs the same task bodies on a node and
reads back the same exit codes and reason lines. Neither imports the other; what
they share is written here once:

* the ids of the job preparation and release tasks;
* the environment variable names a task sees: Batch's own ``AZ_BATCH_*`` (set by
  the Batch node agent, "Azure Batch runtime environment variables",
  https://learn.microsoft.com/azure/batch/batch-compute-node-environment-variables;
  the local node sets the same ones) and azrender's ``AZRENDER_*``;
* the folders azrender keeps under ``$AZ_BATCH_NODE_SHARED_DIR``;
* the watcher's exit codes (:mod:`azrender.node.watch`) and the prefix of its
  one-line failure reason, and :func:`reason_in`, which reads that line back.

This module is imported on the render node inside the node bundle: standard
library only, no I/O.

>>> reason_in("Fra:1\nazrender: licence failure (vray): no licence\n")
'licence failure (vray): no licence'
"""

from __future__ import annotations

#: Task ids of the job preparation and release tasks (the local node names their folders so too).
PREPARATION_TASK_ID = "jobpreparation"
RELEASE_TASK_ID = "jobrelease"

# -- Environment set by the Batch node agent (and by the local node, the same way).
ENV_NODE_ROOT_DIR = "AZ_BATCH_NODE_ROOT_DIR"
ENV_SHARED_DIR = "AZ_BATCH_NODE_SHARED_DIR"
ENV_MOUNTS_DIR = "AZ_BATCH_NODE_MOUNTS_DIR"
ENV_STARTUP_DIR = "AZ_BATCH_NODE_STARTUP_DIR"
ENV_NODE_ID = "AZ_BATCH_NODE_ID"
ENV_POOL_ID = "AZ_BATCH_POOL_ID"
ENV_JOB_ID = "AZ_BATCH_JOB_ID"
ENV_TASK_ID = "AZ_BATCH_TASK_ID"
ENV_TASK_DIR = "AZ_BATCH_TASK_DIR"
ENV_TASK_WORKING_DIR = "AZ_BATCH_TASK_WORKING_DIR"

# -- Environment azrender puts on its tasks.
#: The assets container's URL with a read/list SAS (the preparation task's sync source).
ENV_CONTAINER_URL = "AZRENDER_ASSETS_CONTAINER_URL"
#: The assets container's name, with a connection string instead of a URL (local runs, tests).
ENV_CONTAINER = "AZRENDER_ASSETS_CONTAINER"
#: The storage account's URL, for a node that signs in with a managed identity.
ENV_ACCOUNT_URL = "AZRENDER_STORAGE_ACCOUNT_URL"
#: How many GiB of assets a node keeps between jobs.
ENV_CACHE_LIMIT = "AZRENDER_NODE_CACHE_GIB"
#: The azrender version a job was planned with; the node refuses to run a different one.
ENV_JOB_VERSION = "AZRENDER_JOB_VERSION"

# -- Folders under $AZ_BATCH_NODE_SHARED_DIR.
#: Assets, kept between jobs: ``assets/<blob>``.
ASSETS_FOLDER = "assets"
#: One job's files, removed by the release task: ``jobs/<job>/``.
JOBS_FOLDER = "jobs"
#: The node bundle's private environments (Linux): ``azrender/<bundle id>/venv``.
INSTALL_FOLDER = "azrender"

# -- The watcher's exit codes: distinct from renderers' own (1, 2, 211...) and from signals (128+n).
EXIT_LICENCE = 64
EXIT_PLUGIN = 65
EXIT_LICENCE_UNAVAILABLE = 66
EXIT_CODES: dict[int, str] = {
    EXIT_LICENCE: "licence failure",
    EXIT_PLUGIN: "missing plug-in",
    EXIT_LICENCE_UNAVAILABLE: "licence unavailable",
}
#: Codes that fail every task of the job the same way: the job ends (Batch exit conditions).
TERMINATING_CODES = frozenset({EXIT_PLUGIN, EXIT_LICENCE_UNAVAILABLE})

#: The watcher's one-line reason on a task's stderr starts with this.
REASON_PREFIX = "azrender: "


def reason_in(log: str) -> str | None:
    """The last ``azrender: ...`` line of ``log``, without the prefix, or None.

    Both backends read a failed task's stderr with this: the local one from the
    task folder, the Batch one from the node.
    """
    for line in reversed(log.splitlines()):
        if line.startswith(REASON_PREFIX):
            return line[len(REASON_PREFIX):].strip() or None
    return None
