"""The SAS rules every job's nodes get, whichever backend runs the job.

A job's SAS is no stronger than the job needs and lives no longer: read+list on
the assets container, write+create on the job's outputs container, from a little
before now to just after the job's wall-clock limit. The Azure Batch backend
(:mod:`azrender.batch.access`, which also signs with a user-delegation key or
hands the pool's managed identity out instead) and the local backend
(:mod:`azrender.local.backend`) both mint their SAS by these rules, so they live
beside neither backend::

    start, expiry = sas_window(datetime.now(timezone.utc), preset.batch.max_job_minutes)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from azure.storage.blob import ContainerSasPermissions

from azrender.errors import UsageError

#: Added to the job's wall-clock limit: the SAS outlives the job, but not by much.
SAS_MARGIN = timedelta(minutes=30)
#: Get User Delegation Key: the key's expiry "must be within 7 days of the current time"
#: (Storage REST API). Key-signed SAS keep the same bound, so a job's window does not
#: depend on how the workstation signs in.
MAX_SAS_WINDOW = timedelta(days=7)
# Signed start a little in the past: the node's and the service's clocks differ.
CLOCK_SKEW = timedelta(minutes=5)
ASSETS_PERMISSIONS = ContainerSasPermissions(read=True, list=True)
OUTPUTS_PERMISSIONS = ContainerSasPermissions(write=True, create=True)


def sas_window(now: datetime, max_job_minutes: int) -> tuple[datetime, datetime]:
    """(start, expiry) of a job's SAS: from a little before now to just after the job's limit.

    >>> from datetime import timezone
    >>> start, end = sas_window(datetime(2026, 1, 1, tzinfo=timezone.utc), 60)
    >>> start.isoformat(), end.isoformat()
    ('2025-12-31T23:55:00+00:00', '2026-01-01T01:30:00+00:00')
    """
    expiry = now + timedelta(minutes=max_job_minutes) + SAS_MARGIN
    if expiry - now > MAX_SAS_WINDOW:
        longest = (MAX_SAS_WINDOW - SAS_MARGIN) // timedelta(minutes=1)
        raise UsageError(
            f"batch.max_job_minutes = {max_job_minutes} would make the job's SAS outlive the 7 days a "
            f"user delegation key may last (the SAS ends {SAS_MARGIN // timedelta(minutes=1)} minutes "
            f"after the job's limit)",
            hint=f"set batch.max_job_minutes to {longest} or less, or use batch.node_access = \"identity\"",
        )
    return now - CLOCK_SKEW, expiry
