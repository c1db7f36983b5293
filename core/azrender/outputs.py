"""Where a job's frames and logs go: a blob container of its own.

A job's tasks upload with a SAS that can write and create (``cw``) and nothing
else. Scoped to the show's one outputs container, that SAS could overwrite
any other job's frames; so every job gets its own container, named after the
preset's ``outputs_container`` and the job id, and its SAS covers that
container only::

    job_outputs_container("abc-outputs", "sh010-20260102-030405-ab12")
    # 'abc-outputs-sh010-20260102-030405-ab12-<8 hex>'

Why a container per job, of the three ways to scope a write SAS:

* Batch's ``OutputFileBlobContainerDestination.containerUrl`` is "the URL of
  the container ... the URL must include a Shared Access Signature (SAS)
  granting write permissions to the container" (azure-batch REST models), and
  its ``path`` is a prefix when the file pattern has wildcards: frame names
  (Maya's per-layer folders, a renderer's padding) are not known before the
  render, so a SAS per expected blob (``sr=b``) cannot be written into it.
* A directory SAS (``sr=d`` with ``sdd``) exists only for accounts with a
  hierarchical namespace (ADLS Gen2; "Create a service SAS" / "Create a user
  delegation SAS", sv 2020-02-10+), and Azurite, which the tests and the local
  backend use, does not accept it (its ``BlobSASResourceType`` knows ``c``,
  ``b`` and ``bs`` only: Azurite 3.37 ``src/blob/authentication``).
* A container SAS (``sr=c``) works on every account, on Azurite, for Batch and
  for a user delegation key alike; a container per job makes it as narrow as
  the job. The ``<job id>/`` prefix inside it is kept, so that downloads and
  links read the same paths as before.

The name is a valid container name (3-63 lowercase letters, digits and single
hyphens), unique per job id: letters are lowered and other characters become
hyphens, so the end is 8 hex digits of the id's SHA-256 (two ids that lower or
truncate alike still get two containers).
"""

from __future__ import annotations

import hashlib
import re

from azure.storage.blob import ContainerClient

from azrender.presets import Preset
from azrender.storage.client import container_client, storage_errors

_MAX = 63
_DIGEST = 8
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def job_outputs_container(base: str, job_id: str) -> str:
    """The outputs container of job ``job_id`` for a preset whose ``outputs_container`` is ``base``.

    >>> job_outputs_container("outputs", "Shot_010-20260102-030405-ab12")
    'outputs-shot-010-20260102-030405-ab12-b02a1019'
    >>> len(job_outputs_container("o" * 63, "j" * 64))
    63
    """
    digest = hashlib.sha256(job_id.encode("utf-8")).hexdigest()[:_DIGEST]
    head = _NOT_NAME.sub("-", f"{base}-{job_id}".lower()).strip("-")
    head = re.sub("-{2,}", "-", head)[: _MAX - _DIGEST - 1].rstrip("-")
    return f"{head}-{digest}"


def outputs_client(preset: Preset, job_id: str) -> ContainerClient:
    """The container ``job_id``'s frames and logs are in, for ``download`` and the job monitors.

    A job submitted before outputs had a container per job has none of its own:
    its files are under ``<job id>/`` in the preset's ``outputs_container``.
    """
    own = container_client(job_outputs_container(preset.storage.outputs_container, job_id),
                           account_url=preset.storage.account_url)
    with storage_errors("looking for the job's outputs container", client=own):
        if own.exists():
            return own
    return container_client(preset.storage.outputs_container, account_url=preset.storage.account_url)
