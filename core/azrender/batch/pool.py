"""The pool as a Batch REST body: image, size, nodes, mounts, network and the start task.

A created pool (``pool_mode = "create"``) takes :func:`pool_body`; an auto-pool takes
:func:`pool_specification` inside the job's ``poolInfo`` (:func:`pool_info`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from azrender.batch.fingerprint import metadata_items, pool_fingerprint
from azrender.batch.mounts import PoolMounts
from azrender.batch.wire import JSON, START_TASK_USER, TASK_USER, environment, iso_duration
from azrender.errors import UsageError
from azrender.presets import Preset

#: Auto-pools are named by Batch from this prefix (REST ``AutoPoolSpecification``).
AUTO_POOL_PREFIX = "azrender"

_GALLERY = re.compile(r"^/subscriptions/", re.IGNORECASE)


def image_reference(image: str) -> JSON:
    """``publisher/offer/sku[/version]`` or a Compute Gallery image id as a Batch imageReference.

    >>> image_reference("canonical/ubuntu-24_04-lts/server")
    {'publisher': 'canonical', 'offer': 'ubuntu-24_04-lts', 'sku': 'server', 'version': 'latest'}
    """
    if _GALLERY.match(image):
        return {"virtualMachineImageId": image}
    parts = image.split("/")
    if len(parts) not in (3, 4) or not all(parts):
        raise UsageError(
            f"pool image {image!r} is neither publisher/offer/sku[/version] nor a gallery image id",
            hint="see `pool.image` in docs/presets.md",
        )
    return {
        "publisher": parts[0],
        "offer": parts[1],
        "sku": parts[2],
        "version": parts[3] if len(parts) == 4 else "latest",
    }


#: Linux start-task steps giving the node Microsoft's azcopy (``node_sync = "azcopy"``) unless
#: the image has it: the official release archive, its one binary into /usr/local/bin.
AZCOPY_INSTALL = (
    "command -v azcopy >/dev/null || (curl -fsSL https://aka.ms/downloadazcopy-v10-linux -o /tmp/azcopy.tgz"
    " && tar -xzf /tmp/azcopy.tgz -C /usr/local/bin --strip-components=1 --wildcards '*/azcopy'"
    " && chmod 755 /usr/local/bin/azcopy && rm -f /tmp/azcopy.tgz)",
)


def start_task(preset: Preset, extra: tuple[str, ...] = (), env: Mapping[str, str] | None = None) -> JSON | None:
    r"""What each node runs as it joins the pool: ``pool.start_command`` first, then azrender's steps.

    No azrender here: the node code travels with each job and the job preparation
    task installs it (:mod:`azrender.nodebundle.bootstrap`), for created, existing and
    auto pools alike. What is left is the image setup: the preset's own
    ``pool.start_command`` (e.g. installing the renderer, or Python on a Windows
    image; it runs before azrender's steps so they may rely on it), azcopy for
    ``node_sync = "azcopy"`` and the storage plan's ``extra`` commands (``cmdkey``
    on Windows). The credentials ``cmdkey`` stores belong to the user who runs it,
    so a start task with such commands runs as the tasks' own identity (pool
    auto-user, non-admin); the renderer must then come with the image, or install
    without elevation. ``env`` is the start task's environment
    (``AZRENDER_FILES_KEY`` for ``cmdkey /pass:%AZRENDER_FILES_KEY%``). None when
    there is nothing to run.

    ``waitForSuccess``: Batch schedules no task on a node whose start task has not
    succeeded, so a failed image setup never runs renders (REST ``StartTask``).

    >>> from pathlib import Path
    >>> from azrender.presets import parse_preset
    >>> p = parse_preset('name = "a"\n[pool]\nos = "windows"\n', Path("a.toml"))
    >>> start_task(p, ("cmdkey /add:h /user:localhost\\a /pass:%K%",))["userIdentity"] == TASK_USER
    True
    >>> start_task(p) is None
    True
    """
    pool = preset.pool
    as_task_user = bool(extra)
    first = (pool.start_command,) if pool.start_command else ()
    if pool.os == "windows":
        steps = [*first, *extra]
        command = 'cmd /c "' + " && ".join(steps) + '"'
    else:
        steps = [*first, *(AZCOPY_INSTALL if preset.storage.node_sync == "azcopy" else ()), *extra]
        command = "/bin/bash -c " + shlex.quote("; ".join(["set -euo pipefail", *steps]))
    if not steps:
        return None
    body: JSON = {
        "commandLine": command,
        "userIdentity": TASK_USER if as_task_user else START_TASK_USER,
        "maxTaskRetryCount": 2,
        "waitForSuccess": True,
    }
    if env:
        body["environmentSettings"] = environment(env)
    return body


def pool_specification(preset: Preset, mounts: PoolMounts) -> JSON:
    """The pool's settings without its id: a BatchPoolSpecification (auto-pools take this)."""
    pool = preset.pool
    vm: JSON = {"imageReference": image_reference(pool.image), "nodeAgentSKUId": pool.node_agent_sku}
    if pool.os == "windows":
        vm["windowsConfiguration"] = {"enableAutomaticUpdates": False}
    body: JSON = {
        "displayName": f"azrender {preset.name}",
        "vmSize": pool.vm_size,
        "virtualMachineConfiguration": vm,
        "taskSlotsPerNode": pool.task_slots,
    }
    if pool.autoscale_formula:
        body["enableAutoScale"] = True
        body["autoScaleFormula"] = pool.autoscale_formula
        body["autoScaleEvaluationInterval"] = iso_duration(5 * 60)
    else:
        if pool.dedicated == 0 and pool.spot == 0:
            raise UsageError(
                f"{preset.source}: the pool would have no nodes (pool.dedicated = 0, pool.spot = 0)",
                hint="set pool.dedicated or pool.spot, or an autoscale_formula",
            )
        body["targetDedicatedNodes"] = pool.dedicated
        body["targetLowPriorityNodes"] = pool.spot
    if mounts.entries:
        body["mountConfiguration"] = mounts.entries
    start = start_task(preset, mounts.start_commands, mounts.start_environment)
    if start is not None:
        body["startTask"] = start
    if pool.subnet_id:
        # Private file and licence servers are reachable only from inside their network.
        body["networkConfiguration"] = {"subnetId": pool.subnet_id}
    # What the pool is made with, so a later submit can tell a pool made for other settings.
    body["metadata"] = metadata_items(pool_fingerprint(body))
    return body


def pool_body(preset: Preset, mounts: PoolMounts) -> JSON:
    """The BatchPoolCreateOptions for ``batch.pool_id``."""
    return {"id": preset.batch.pool_id, **pool_specification(preset, mounts)}


def pool_info(preset: Preset, mounts: PoolMounts) -> JSON:
    if preset.batch.pool_mode == "auto":
        return {
            "autoPoolSpecification": {
                "autoPoolIdPrefix": AUTO_POOL_PREFIX,
                "poolLifetimeOption": "job",
                "keepAlive": False,
                "pool": pool_specification(preset, mounts),
            }
        }
    return {"poolId": preset.batch.pool_id}
