"""The job's own description (its JobSpec) kept beside its manifest, at ``jobs/<id>/jobspec.json``.

A submit writes it among the job's files (:func:`azrender.storage.manifest.write_job`);
``azrender retry`` on Azure reads it back when Batch cannot requeue a job's failed
tasks in place (a job that has ended cannot be reopened, see
:meth:`azrender.batch.backend.AzureBatchBackend.retry`) and runs them again as a
new job built from the very same task specs. It holds command lines and blob
names, never a secret: access (SAS) is minted per Batch job when it is sent.
"""

from __future__ import annotations

import json

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.model import JobSpec, job_from_json, job_to_json
from azrender.storage.index import get_json
from azrender.storage.manifest import job_file_blob

JOB_SPEC_NAME = "jobspec.json"


def job_spec_bytes(job: JobSpec) -> bytes:
    """What a submit writes as the job file :data:`JOB_SPEC_NAME`."""
    return json.dumps(job_to_json(job), indent=1, sort_keys=True).encode()


def read_job_spec(client: ContainerClient, job_id: str) -> JobSpec | None:
    """The JobSpec the submit of ``job_id`` stored, or None when it stored none."""
    blob = job_file_blob(job_id, JOB_SPEC_NAME)
    data = get_json(client, blob)
    if data is None:
        return None
    try:
        return job_from_json(data)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"{blob} in container {client.container_name!r} is not a job description: {exc}",
                           hint="submit the scene again") from None
