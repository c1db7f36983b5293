"""The documents azrender keeps in storage, and their versions: the remote index and the job manifest.

Submitters and render nodes may run different azrender versions, so each
document carries a ``version`` and a reader refuses one newer than it knows
(with a hint to submit again) instead of misreading it:

- the **index** (``.azrender/index.json`` in the assets container, and on an
  Azure Files share): ``{"version": 1, "entries": {name: {hash, size, mtime_ns}}}``;
- the **job manifest** (``jobs/<job_id>/manifest.json``): ``{"version": 1 | 2,
  "job_id", "assets": {mirror path: entry}, "job_files": {name: entry}}``;
  version 2 added ``"layout"`` (``"content"``: assets stored as ``cas/<hash>``),
  and a mirror-layout manifest is still written as version 1 so older nodes read it.

Pure: reading and writing them in a container is :mod:`azrender.storage.index`
and :mod:`azrender.storage.manifest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from azrender.errors import StorageError, UsageError
from azrender.storage.hashing import IndexEntry
from azrender.storage.layout import LAYOUT_CONTENT, LAYOUT_MIRROR, LAYOUTS, cas_blob

DEFAULT_INDEX_BLOB = ".azrender/index.json"
INDEX_VERSION = 1

# ---------------------------------------------------------------- the index


def parse_index(doc: object, blob: str = DEFAULT_INDEX_BLOB) -> dict[str, IndexEntry]:
    """Entries of an index document ``{"version": 1, "entries": {blob: entry}}``."""
    if doc is None:
        return {}
    try:
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
            raise ValueError("no entries object")
        return {str(k): IndexEntry.from_json(v) for k, v in doc["entries"].items()}
    except ValueError as exc:
        raise StorageError(
            f"remote index {blob!r} is malformed: {exc}",
            hint="delete the blob; the next upload rebuilds it (uploading everything once)",
        ) from exc


def index_document(entries: dict[str, IndexEntry]) -> dict[str, object]:
    return {
        "version": INDEX_VERSION,
        "entries": {k: entries[k].to_json() for k in sorted(entries)},
    }


# ---------------------------------------------------------------- the job manifest

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
