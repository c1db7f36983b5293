"""The job manifest: the one document that says exactly what a render node needs.

Reading and writing it in a container; its format (and version) is
:mod:`azrender.storage.documents`. A submit uploads the assets (see
:mod:`azrender.storage.upload`), then writes the job's own small files (remap script, path map, ...) and the manifest under
``jobs/<job_id>/``::

    summary = upload_files(client, items, cache=cache)
    manifest = write_job(client, "shot010-v3", summary.entries,
                         {"remap.py": script_bytes, "pathmap.json": pathmap_bytes})

On the node, ``python3 -m azrender.node sync --job shot010-v3`` reads
``jobs/shot010-v3/manifest.json`` and fetches exactly those blobs, verifying
each against its hash.
"""

from __future__ import annotations

import json
import time

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.storage.documents import (
    MANIFEST_NAME,
    MANIFEST_VERSION,
    JobManifest,
    check_job_file_name,
    check_job_id,
    job_file_blob,
    job_prefix,
    manifest_blob,
)
from azrender.storage.hashing import IndexEntry, hash_bytes
from azrender.storage.index import get_json, put_bytes
from azrender.storage.layout import LAYOUT_MIRROR, check_layout

# The manifest's format lives in azrender.storage.documents; its names are kept here too.
__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "JobManifest",
    "check_job_file_name",
    "check_job_id",
    "job_file_blob",
    "job_prefix",
    "manifest_blob",
    "read_job",
    "write_job",
]


def write_job(
    client: ContainerClient,
    job_id: str,
    summary_entries: dict[str, IndexEntry],
    job_files: dict[str, bytes],
    *,
    layout: str = LAYOUT_MIRROR,
) -> JobManifest:
    """Upload the job files and the manifest under ``jobs/<job_id>/``; return the manifest.

    The manifest is written last, so a node never sees a manifest that names a
    job file not yet uploaded.
    """
    check_job_id(job_id)
    now = time.time_ns()
    entries: dict[str, IndexEntry] = {}
    for name, data in sorted(job_files.items()):
        put_bytes(client, job_file_blob(job_id, name), data)
        entries[name] = IndexEntry(hash=hash_bytes(data), size=len(data), mtime_ns=now)
    manifest = JobManifest(
        job_id=job_id, assets=dict(summary_entries), job_files=entries, layout=check_layout(layout)
    )
    body = json.dumps(manifest.to_json(), separators=(",", ":")).encode()
    put_bytes(client, manifest_blob(job_id), body, content_type="application/json")
    return manifest


def read_job(client: ContainerClient, job_id: str) -> JobManifest:
    """The manifest of ``job_id``; :class:`StorageError` if the job was never written."""
    doc = get_json(client, manifest_blob(job_id))
    if doc is None:
        raise StorageError(
            f"job {job_id!r} has no manifest ({manifest_blob(job_id)}) in container "
            f"{client.container_name!r}",
            hint="submit the job first, or check the container the node was given",
        )
    manifest = JobManifest.from_json(doc)
    if manifest.job_id != job_id:
        raise StorageError(f"manifest {manifest_blob(job_id)} is for job {manifest.job_id!r}")
    return manifest
