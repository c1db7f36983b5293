"""The stable finding codes, with the severity each has by default.

No imports from the rest of azrender: the preset format
(:mod:`azrender.presets.fields`) validates ``[preflight]`` code lists against
this table without pulling in the checks.

>>> DEFAULT_SEVERITY["output-unwritable"]
'error'
"""

from __future__ import annotations

#: code -> default severity. Only guaranteed failures are errors by default
#: (the issue's rule): an output the artist cannot receive, assets that cannot
#: fit the node's or the share's disk, storage credentials that do not resolve,
#: tasks whose frames are never collected.
DEFAULT_SEVERITY: dict[str, str] = {
    "missing-file": "warning",
    "scan-warning": "warning",
    "outside-mapped-roots": "warning",
    "unmapped-drive": "warning",
    "long-path": "warning",
    "case-collision": "warning",
    "assets-exceed-temp-disk": "error",
    "consider-blobfuse": "info",
    "azcopy-on-existing-pool": "info",
    "share-quota": "error",
    "share-readers": "warning",
    "renderer-not-on-image": "warning",
    "blender-older-than-scene": "warning",
    "app-not-on-node-os": "error",
    "frames-outside-scene": "warning",
    "credentials": "error",
    "output-unwritable": "error",
    "output-not-collected": "error",
    "auto-pool-identity": "error",
    "too-many-task-slots": "error",
    "private-server-without-subnet": "error",
}

CODES: tuple[str, ...] = tuple(DEFAULT_SEVERITY)
