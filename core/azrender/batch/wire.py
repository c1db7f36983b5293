"""The small pieces of the Batch REST wire format that pool, job and task bodies share.

Batch takes durations as ISO 8601 (``PT1H30M``) and environment variables as a
list of ``{"name", "value"}`` (REST ``EnvironmentSetting``); tasks of every kind
run as one pool-wide auto-user (REST ``UserIdentity.autoUser``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]

# Tasks run as the pool-wide non-admin auto-user: the same account on every task
# of every job, so anything the start task sets up for it (cmdkey, caches) is seen.
TASK_USER: JSON = {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
# The start task installs software: pool-wide admin auto-user, unless it must store
# credentials for the tasks (see azrender.batch.pool.start_task).
START_TASK_USER: JSON = {"autoUser": {"scope": "pool", "elevationLevel": "admin"}}


def iso_duration(seconds: int) -> str:
    """An ISO 8601 duration as Batch takes it.

    >>> iso_duration(90), iso_duration(3600), iso_duration(5400), iso_duration(86400 * 2)
    ('PT1M30S', 'PT1H', 'PT1H30M', 'P2D')
    """
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    return ("P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")) or "PT0S"


def environment(env: Mapping[str, str]) -> list[JSON]:
    """Batch ``environmentSettings`` from a mapping, in a stable order."""
    return [{"name": k, "value": v} for k, v in sorted(env.items())]
