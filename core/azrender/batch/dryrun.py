"""``azrender submit --backend azure --dry-run``: the Batch bodies, with no network and no secret.

::

    doc = dry_run_document(job, preset, now=datetime.now(timezone.utc))
    doc["pool"], doc["job"], doc["tasks"], doc["jobUpdate"]

SAS URLs show every field but the signature (``sig=***``) and mount secrets show
``***``; each body is checked against the SDK's request models before it is shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from azrender.batch.access import for_job, planned_access
from azrender.batch.mounts import pool_mounts
from azrender.batch.payload import plan_batch
from azrender.batch.validate import check_plan
from azrender.model import JobSpec
from azrender.presets import Preset


def dry_run_document(
    job: JobSpec, preset: Preset, *, now: datetime, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    access = planned_access(for_job(preset, job.outputs_container), now=now, environ=env)
    mounts = pool_mounts(preset, env, dry_run=True)
    plan = plan_batch(job, preset, access, mounts, env).redacted()
    check_plan(plan)
    return plan.to_json()
