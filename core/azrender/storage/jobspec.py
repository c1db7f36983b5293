"""The job's own description (its JobSpec) kept beside its manifest, at ``jobs/<id>/jobspec.json``.

A submit writes it beside the job's files (:func:`write_job_spec`), but not as one of
them: the manifest does not list it, so no render node downloads it; ``azrender retry``
on Azure reads it back when Batch cannot requeue a job's failed
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
from azrender.storage.index import get_json, put_bytes
from azrender.storage.manifest import job_file_blob

JOB_SPEC_NAME = "jobspec.json"


def job_spec_bytes(job: JobSpec) -> bytes:
    """What :func:`write_job_spec` stores."""
    return json.dumps(job_to_json(job), indent=1, sort_keys=True).encode()


def write_job_spec(client: ContainerClient, job: JobSpec) -> None:
    """Store ``job``'s description at ``jobs/<id>/jobspec.json`` for a later retry."""
    put_bytes(client, job_file_blob(job.job_id, JOB_SPEC_NAME), job_spec_bytes(job),
              content_type="application/json")


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
