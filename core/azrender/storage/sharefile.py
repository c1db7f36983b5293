"""One file, and the index, on an Azure Files share: written to a part, renamed into place.

A file is written to a hidden part file beside its final name (``.azpart-…``,
named by the target path and the content hash), in ranges of at most 4 MiB
(the service's Put Range limit, each with a Content-MD5 and retried on
transient failures), and only renamed over the final name once every range is
in. The part carries the content's ``xxh3`` and the source's ``mtime_ns`` from
its creation and the rename keeps them, so a file under its final name is
always complete and described: a node never opens half a texture, and an
interrupted upload leaves the previous version intact.

An interrupted upload (network gone, process killed) resumes: the next run
finds the part, checks that it was made for the same content (size, ``xxh3``
and source ``mtime_ns`` in its metadata; otherwise it is created afresh) and
asks the service which ranges hold data (List Ranges), then sends only the
missing ones. The service is the record, so no local journal is needed: a
range the service applied just before the kill counts, one it never got is
sent again.

Stale parts are not swept: a part is left only by an interrupted upload, is
resumed by the next upload of the same content, and is hidden and never named
by the index, so nodes never open it. A part whose source changed before it
was finished (different content, different name) stays behind until someone
deletes ``.azpart-*`` files by hand; that costs storage, never correctness.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.fileshare import ShareClient, ShareFileClient

from azrender.errors import StorageError
from azrender.progress import Progress
from azrender.storage.account import FILES, found_or_none
from azrender.storage.blocks import read_at
from azrender.storage.documents import index_document, parse_index
from azrender.storage.hashing import IndexEntry, hash_bytes
from azrender.storage.items import UploadItem, check_unchanged
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import with_retries
from azrender.storage.share import share_errors
from azrender.storage.sharepaths import parent_dirs, part_name

__all__ = [
    "RANGE_SIZE",
    "SHARE_INDEX",
    "already_there",
    "covered",
    "make_dirs",
    "read_share_index",
    "rename_into_place",
    "upload_file",
    "write_share_index",
    "written_spans",
]

Retry = Callable[[Callable[[], Any]], Any]

#: The index of what the share holds: share path -> {hash, size, mtime_ns}.
SHARE_INDEX = ".azrender/index.json"
#: The largest body one Put Range may carry.
RANGE_SIZE = 4 << 20


def read_share_index(client: ShareClient, retry: Retry = with_retries) -> dict[str, IndexEntry]:
    """The share's index; empty when there is none yet."""
    with share_errors("reading the share index", client, SHARE_INDEX):
        try:
            data = retry(lambda: client.get_file_client(SHARE_INDEX).download_file().readall())
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ShareNotFound":
                raise
            return {}
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise StorageError(
            f"the share index {SHARE_INDEX!r} on share {client.share_name!r} is not valid JSON",
            hint="delete it; the next upload checks each file's metadata instead",
        ) from exc
    return parse_index(doc, SHARE_INDEX)


def write_share_index(
    client: ShareClient, new: dict[str, IndexEntry], retry: Retry = with_retries
) -> None:
    """Merge ``new`` into the index and replace it whole (part file, then rename)."""
    make_dirs(client, parent_dirs([SHARE_INDEX]), retry)
    merged = {**read_share_index(client, retry), **new}
    body = json.dumps(index_document(merged), separators=(",", ":")).encode()
    tmp = part_name(SHARE_INDEX, uuid.uuid4().hex)  # never resumed: small, rewritten whole
    with share_errors("writing the share index", client, SHARE_INDEX):
        part = client.get_file_client(tmp)
        digest = hash_bytes(body)
        retry(lambda: part.upload_file(body, metadata={"xxh3": digest}))
        rename_into_place(client, part, SHARE_INDEX, digest, retry)


def _metadata(entry: IndexEntry) -> dict[str, str]:
    return {"xxh3": entry.hash, "mtime_ns": str(entry.mtime_ns)}


def make_dirs(client: ShareClient, dirs: list[str], retry: Retry) -> None:
    """Create ``dirs`` (parents first); folders that exist already are fine."""
    by_depth: dict[int, list[str]] = {}
    for d in dirs:
        by_depth.setdefault(d.count("/"), []).append(d)

    def make(d: str) -> None:
        with share_errors("creating a folder", client, d), suppress(ResourceExistsError):
            retry(lambda: client.get_directory_client(d).create_directory())

    for depth in sorted(by_depth):
        run_parallel(make, by_depth[depth], max_workers=8)


def already_there(client: ShareClient, path: str, entry: IndexEntry, retry: Retry) -> bool:
    """True when the file on the share carries this content's hash and size."""
    with share_errors("checking", client, path):
        props = found_or_none(lambda: retry(lambda: client.get_file_client(path).get_file_properties()), FILES)
    if props is None:
        return False
    meta = props.metadata or {}
    return bool(meta.get("xxh3") == entry.hash and props.size == entry.size)


def _has_hash(client: ShareClient, path: str, content_hash: str) -> bool:
    try:
        props = client.get_file_client(path).get_file_properties()
    except ResourceNotFoundError:
        return False
    return bool((props.metadata or {}).get("xxh3") == content_hash)


def rename_into_place(
    client: ShareClient, part: ShareFileClient, final: str, content_hash: str, retry: Retry
) -> None:
    """Rename ``part`` over ``final`` (atomic on the service).

    A rename that finds its part gone checks whether ``final`` carries the
    hash already: an earlier attempt succeeded and only its answer was lost, or
    another upload of the same content (which shares the part) renamed it first.
    """

    def rename() -> None:
        try:
            part.rename_file(final, overwrite=True, ignore_read_only=True)
        except ResourceNotFoundError:
            if _has_hash(client, final, content_hash):
                return
            raise

    retry(rename)


def _part_matches(props: Any, entry: IndexEntry) -> bool:
    """True when a part was created for exactly this content (size, hash, source mtime)."""
    meta = props.metadata or {}
    return bool(
        props.size == entry.size
        and meta.get("xxh3") == entry.hash
        and meta.get("mtime_ns") == str(entry.mtime_ns)
    )


def written_spans(ranges: Iterable[Any]) -> list[tuple[int, int]]:
    """Merge List Ranges answers (inclusive ``start``/``end``) into sorted ``[start, end)`` spans.

    Cleared ranges (``cleared=True``, only in snapshot diffs) hold no data.

    >>> written_spans([{"start": 512, "end": 1023}, {"start": 0, "end": 511}, {"start": 2048, "end": 2099}])
    [(0, 1024), (2048, 2100)]
    """
    spans: list[tuple[int, int]] = []
    for r in sorted(
        (int(r["start"]), int(r["end"]) + 1) for r in ranges if not r.get("cleared", False)
    ):
        if spans and r[0] <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], r[1]))
        else:
            spans.append(r)
    return spans


def covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` lies inside one of the merged ``spans``.

    >>> covered([(0, 1024)], 256, 1024), covered([(0, 1024)], 512, 1025)
    (True, False)
    """
    return any(s <= start and end <= e for s, e in spans)


def _resumable(
    part: ShareFileClient, entry: IndexEntry, retry: Retry
) -> list[tuple[int, int]] | None:
    """The spans already written to ``part`` when it holds this content, else None.

    None means: no part, or a part made for other content (or an older source
    mtime), which must be created afresh before any range is written.
    """
    try:
        props = retry(part.get_file_properties)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ShareNotFound":
            raise
        return None
    if not _part_matches(props, entry):
        return None
    if entry.size == 0:
        return []
    try:
        ranges = retry(lambda: list(part.list_ranges()))
    except ResourceNotFoundError:
        return None  # deleted (or renamed by another upload of the same content) meanwhile
    return written_spans(ranges)


def upload_file(
    client: ShareClient,
    item: UploadItem,
    entry: IndexEntry,
    progress: Progress,
    retry: Retry,
    range_size: int,
    range_workers: int,
) -> tuple[int, int]:
    """Write one file to its part in ranges, then rename it into place.

    A part left by an interrupted upload of the same content is resumed: only
    the ranges the service does not hold are sent. Returns (bytes sent, bytes
    found already written).
    """
    part = client.get_file_client(part_name(item.blob, entry.hash))
    lock = threading.Lock()
    sent = 0
    with share_errors("uploading", client, item.blob):
        # A file of one range gains nothing from resuming: no HEAD, no List Ranges.
        have = _resumable(part, entry, retry) if entry.size > range_size else None
        if have is None:
            # Create File on an existing part replaces it: a stale part never leaks in.
            # The metadata is set here, before any byte, so a rename never needs to add it.
            retry(lambda: part.create_file(entry.size, metadata=_metadata(entry)))
            have = []
        starts = range(0, entry.size, range_size)
        todo = [o for o in starts if not covered(have, o, min(o + range_size, entry.size))]
        reused = entry.size - sum(min(range_size, entry.size - o) for o in todo)
        if reused:
            progress.advance(reused)

        def put(offset: int) -> None:
            nonlocal sent
            length = min(range_size, entry.size - offset)
            try:
                data = read_at(item.local, offset, length)
            except FileNotFoundError as exc:
                raise StorageError(f"local file vanished during upload: {item.local}") from exc
            retry(lambda: part.upload_range(data, offset, length, validate_content=True))
            with lock:
                sent += length
            progress.advance(length)

        run_parallel(put, todo, max_workers=range_workers)
        # The part may mix old and new bytes; it is never renamed into place.
        check_unchanged(item.local, entry)
        rename_into_place(client, part, item.blob, entry.hash, retry)
    return sent, reused
