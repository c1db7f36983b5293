"""Reconcile the remote index with what the container really holds (``azrender upload --verify``).

The index lets a no-change submit skip the listing; it can drift when someone
deletes or overwrites blobs by other means (portal, azcopy, lifecycle rules).
:func:`reconcile` lists the container with metadata and rewrites the index so
that it claims only blobs that exist with the recorded size and hash::

    report = reconcile(client)
    report.to_json()   # {"listed": 1200, "indexed": 1201, "missing": 1, "stale": 0, "adopted": 3}

- **missing**: in the index, gone from storage → dropped (the next upload sends it);
- **stale**: size or ``xxh3`` metadata differs from the index → dropped;
- **adopted**: a blob with ``xxh3`` metadata the index did not know → added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.storage.client import storage_errors
from azrender.storage.hashing import IndexEntry
from azrender.storage.index import (
    DEFAULT_INDEX_BLOB,
    get_json_with_etag,
    index_document,
    parse_index,
    write_if_unchanged,
)
from azrender.storage.retry import with_retries

_ATTEMPTS = 8


@dataclass
class VerifyReport:
    listed: int = 0
    indexed: int = 0
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, int]:
        return {
            "listed": self.listed,
            "indexed": self.indexed,
            "missing": len(self.missing),
            "stale": len(self.stale),
            "adopted": len(self.adopted),
        }


def listed_entries(client: ContainerClient) -> dict[str, IndexEntry | None]:
    """Every blob (except azrender's own) → its entry from metadata, or None without ``xxh3``."""
    out: dict[str, IndexEntry | None] = {}
    with storage_errors("listing blobs", client=client):
        for b in client.list_blobs(include=["metadata"]):
            if b.name.startswith((".azrender/", "jobs/")):
                continue
            meta = b.metadata or {}
            h = meta.get("xxh3")
            mtime = meta.get("mtime_ns", "0")
            out[b.name] = (
                IndexEntry(hash=h, size=int(b.size), mtime_ns=int(mtime) if mtime.isdigit() else 0)
                if h
                else None
            )
    return out


def compare(
    index: dict[str, IndexEntry], listed: dict[str, IndexEntry | None]
) -> tuple[dict[str, IndexEntry], VerifyReport]:
    """The corrected index and what changed (pure).

    >>> e = IndexEntry("aa", 3, 0)
    >>> fixed, r = compare({"a": e, "gone": e}, {"a": e, "new": IndexEntry("bb", 1, 0)})
    >>> sorted(fixed), r.missing, r.adopted
    (['a', 'new'], ['gone'], ['new'])
    """
    report = VerifyReport(listed=len(listed), indexed=len(index))
    fixed: dict[str, IndexEntry] = {}
    for blob, entry in index.items():
        if blob not in listed:
            report.missing.append(blob)
            continue
        real = listed[blob]
        if real is None or real.hash != entry.hash or real.size != entry.size:
            report.stale.append(blob)
        else:
            fixed[blob] = entry
    for blob, real in listed.items():
        if blob not in index and real is not None:
            fixed[blob] = real
            report.adopted.append(blob)
    for names in (report.missing, report.stale, report.adopted):
        names.sort()
    return fixed, report


def reconcile(client: ContainerClient, index_blob: str = DEFAULT_INDEX_BLOB) -> VerifyReport:
    """List the container and rewrite the index to match it (under an ETag condition)."""
    for _ in range(_ATTEMPTS):
        doc, etag = get_json_with_etag(client, index_blob)
        index = parse_index(doc, index_blob)
        fixed, report = compare(index, listed_entries(client))
        if fixed == index and doc is not None:
            return report
        body = json.dumps(index_document(fixed), separators=(",", ":")).encode()
        with storage_errors("writing the remote index", client=client, blob=index_blob):
            try:
                with_retries(lambda: write_if_unchanged(client, index_blob, body, etag))  # noqa: B023
                return report
            except (ResourceModifiedError, ResourceExistsError):
                continue
    raise StorageError(
        f"could not reconcile the remote index {index_blob!r}: it kept changing",
        hint="another upload is writing to the same container; try again when it is done",
    )
