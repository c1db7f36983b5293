"""The job manifest: the one document that says exactly what a render node needs.

A submit uploads the assets (see :mod:`azrender.storage.upload`), then writes the
job's own small files (remap script, path map, ...) and the manifest under
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
import re
import time
from dataclasses import dataclass, field

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError, UsageError
from azrender.storage.hashing import IndexEntry, hash_bytes
from azrender.storage.index import get_json, put_bytes
from azrender.storage.layout import LAYOUT_CONTENT, LAYOUT_MIRROR, LAYOUTS, cas_blob, check_layout

MANIFEST_VERSION = 2  # 2 added "layout"; a mirror-layout manifest is still written as 1
MANIFEST_NAME = "manifest.json"

# Azure Batch job ids: letters, digits, hyphens and underscores, at most 64.
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_JOB_FILE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


def check_job_id(job_id: str) -> str:
    """``job_id`` if it is a valid Batch job id (it becomes a blob prefix and a folder name)."""
    if not _JOB_ID.match(job_id):
        raise UsageError(
            f"invalid job id {job_id!r}",
            hint="use at most 64 letters, digits, hyphens and underscores",
        )
    return job_id


def check_job_file_name(name: str) -> str:
    """A job file name: a plain file name, not ``manifest.json``, no folders, no ``..``."""
    if not _JOB_FILE.match(name) or name in (".", "..") or name == MANIFEST_NAME:
        raise UsageError(
            f"invalid job file name {name!r}",
            hint="use a plain file name (letters, digits, '.', '-', '_'), not manifest.json",
        )
    return name


def job_prefix(job_id: str) -> str:
    """Blob prefix of a job's own files.

    >>> job_prefix("shot010")
    'jobs/shot010/'
    """
    return f"jobs/{check_job_id(job_id)}/"


def manifest_blob(job_id: str) -> str:
    return job_prefix(job_id) + MANIFEST_NAME


def job_file_blob(job_id: str, name: str) -> str:
    return job_prefix(job_id) + check_job_file_name(name)


@dataclass
class JobManifest:
    """Assets (mirror path → entry) and job files (name → entry, stored at ``jobs/<id>/<name>``).

    With the ``mirror`` layout an asset's blob is its mirror path; with
    ``content`` it is :func:`cas_blob` of its hash (see :meth:`blob_for`).
    """

    job_id: str
    assets: dict[str, IndexEntry] = field(default_factory=dict)
    job_files: dict[str, IndexEntry] = field(default_factory=dict)
    version: int = field(default=1, compare=False)
    layout: str = LAYOUT_MIRROR

    def blob_for(self, path_key: str, entry: IndexEntry) -> str:
        """The blob holding asset ``path_key``.

        >>> m = JobManifest("j", layout="content")
        >>> m.blob_for("P/a.png", IndexEntry("ff00", 1, 0))
        'cas/ff/ff00'
        """
        return cas_blob(entry.hash) if self.layout == LAYOUT_CONTENT else path_key

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.assets.values()) + sum(
            e.size for e in self.job_files.values()
        )

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            # Old nodes know only version 1 (mirror); they must refuse a content manifest.
            "version": 2 if self.layout != LAYOUT_MIRROR else self.version,
            "job_id": self.job_id,
            "assets": {k: self.assets[k].to_json() for k in sorted(self.assets)},
            "job_files": {k: self.job_files[k].to_json() for k in sorted(self.job_files)},
        }
        if self.layout != LAYOUT_MIRROR:
            doc["layout"] = self.layout
        return doc

    @classmethod
    def from_json(cls, data: object) -> JobManifest:
        """Parse and validate a manifest document; raises :class:`StorageError` if malformed.

        >>> m = JobManifest("j1", {"a/b.png": IndexEntry("00", 3, 0)})
        >>> JobManifest.from_json(m.to_json()) == m
        True
        """
        try:
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            version = data.get("version")
            if not isinstance(version, int) or version > MANIFEST_VERSION or version < 1:
                raise ValueError(f"unsupported version {version!r}")
            job_id = data.get("job_id")
            if not isinstance(job_id, str):
                raise ValueError("no job_id")
            layout = data.get("layout", LAYOUT_MIRROR)
            if layout not in LAYOUTS:
                raise ValueError(f"unknown layout {layout!r}")
            assets, job_files = data.get("assets", {}), data.get("job_files", {})
            if not isinstance(assets, dict) or not isinstance(job_files, dict):
                raise ValueError("assets and job_files must be objects")
            manifest = cls(
                job_id=check_job_id(job_id),
                assets={str(k): IndexEntry.from_json(v) for k, v in assets.items()},
                job_files={
                    check_job_file_name(str(k)): IndexEntry.from_json(v)
                    for k, v in job_files.items()
                },
                version=version,
                layout=str(layout),
            )
        except (ValueError, UsageError) as exc:
            raise StorageError(
                f"job manifest is malformed: {exc}",
                hint="submit the job again (a newer azrender may have written it)",
            ) from exc
        return manifest


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
