"""A pool's fingerprint: what azrender made it with, kept in the pool's own metadata.

A pool that ``batch.pool_mode = "create"`` made is reused by id on every later
submit. When the preset has changed since (another image, other mounts, another
start task, another azrender), the reused pool would run the new jobs on old
nodes. So the pool body carries its fingerprint as ``metadata`` items, and a
submit compares it with what it would create before it adds a job::

    spec["metadata"] = metadata_items(pool_fingerprint(spec))
    differences(pool_fingerprint(spec), {m.name: m.value for m in pool.metadata})

Secrets never enter it: mount keys and passwords are left out, start-task
environment values too (their names count), SAS queries are cut from URLs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from azrender import __version__

JSON = dict[str, Any]

#: Metadata names, and how a difference reads.
FIELDS: dict[str, str] = {
    "azrender": "azrender version",
    "azrender-image": "image",
    "azrender-vm-size": "VM size",
    "azrender-mounts": "mounts",
    "azrender-start-task": "start task",
    "azrender-subnet": "subnet",
}
_SECRET_KEYS = frozenset({"accountKey", "sasKey", "password"})
_URL_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")
#: Shown as "differ", not by value: hashes say nothing to a reader.
_HASHED = frozenset({"azrender-mounts", "azrender-start-task"})


def _digest(value: Any) -> str:
    """A short, stable hash of a JSON value (sorted keys)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if k not in _SECRET_KEYS}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    if isinstance(value, str):
        # A SAS changes with every submit (and is a secret): URLs count without their query.
        return _URL_QUERY.sub(r"\1", value)
    return value


def _start_task(start: JSON | None) -> JSON | None:
    if start is None:
        return None
    names = sorted(e["name"] for e in start.get("environmentSettings", []))
    kept = {k: v for k, v in start.items() if k != "environmentSettings"}
    return {**_without_secrets(kept), "environment": names}


def pool_fingerprint(spec: Mapping[str, Any]) -> dict[str, str]:
    """The fingerprint of a pool body (BatchPoolSpecification or BatchPoolCreateOptions).

    >>> a = {"startTask": {"commandLine": "curl -o w.whl 'https://s/c/w.whl?se=1&sig=x' && pip"}}
    >>> b = {"startTask": {"commandLine": "curl -o w.whl 'https://s/c/w.whl?se=2&sig=y' && pip"}}
    >>> pool_fingerprint(a)["azrender-start-task"] == pool_fingerprint(b)["azrender-start-task"]
    True

    >>> fp = pool_fingerprint({"vmSize": "Standard_D4s_v5", "virtualMachineConfiguration": {
    ...     "imageReference": {"publisher": "canonical", "offer": "o", "sku": "s", "version": "latest"}}})
    >>> fp["azrender-image"], fp["azrender-vm-size"]
    ('canonical/o/s/latest', 'Standard_D4s_v5')
    """
    image = spec.get("virtualMachineConfiguration", {}).get("imageReference", {})
    image_text = image.get("virtualMachineImageId") or "/".join(
        str(image.get(k, "")) for k in ("publisher", "offer", "sku", "version")
    )
    network = spec.get("networkConfiguration") or {}
    return {
        "azrender": __version__,
        "azrender-image": image_text[:512],
        "azrender-vm-size": str(spec.get("vmSize", "")),
        "azrender-mounts": _digest(_without_secrets(spec.get("mountConfiguration", []))),
        "azrender-start-task": _digest(_start_task(spec.get("startTask"))),
        "azrender-subnet": str(network.get("subnetId", ""))[:512],
    }


def metadata_items(fingerprint: Mapping[str, str]) -> list[JSON]:
    """The fingerprint as Batch ``metadata`` (name/value pairs)."""
    return [{"name": k, "value": v} for k, v in fingerprint.items()]


def differences(expected: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """What an existing pool's metadata says differently from ``expected``, one phrase each.

    >>> differences({"azrender": "2", "azrender-image": "a/b/c/1"}, {"azrender": "1", "azrender-image": "a/b/c/1"})
    ['azrender version 2 (the pool has 1)']
    """
    out = []
    for name, wanted in expected.items():
        have = actual.get(name, "")
        if have == wanted:
            continue
        what = FIELDS.get(name, name)
        if name in _HASHED:
            out.append(f"the {what} {'differ' if what.endswith('s') else 'differs'} from the preset's")
        else:
            out.append(f"{what} {wanted or 'none'} (the pool has {have or 'none'})")
    return out
