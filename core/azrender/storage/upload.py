"""Upload files to a container, skipping every file the remote index says is already there.

The remote index (``.azrender/index.json`` in the container) maps blob name to
``{hash, size, mtime_ns}``. An upload hashes each local file (through the
:class:`~azrender.storage.hashing.HashCache`, so unchanged files are not read),
uploads only those whose hash or size differ from the index, then merges the
new entries into the index under an ETag condition so two artists uploading
at once do not lose each other's entries::

    items = items_for_paths(asset_set_paths)           # blob name = mirror_key(path)
    with HashCache() as cache:
        summary = upload_files(client, items, cache=cache, progress=RichProgress())
    print(summary.to_json())  # {"files": 120, "uploaded_files": 3, "uploaded_bytes": ..., ...}

Render outputs pass ``index_blob=None``: every file is uploaded, no index kept.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from azrender.errors import StorageError
from azrender.paths import mirror_key
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.blocks import DEFAULT_BLOCK_SIZE, BlockUpload, upload_in_blocks
from azrender.storage.client import storage_errors
from azrender.storage.hashing import HashCache, IndexEntry, file_entry
from azrender.storage.journal import UploadJournal
from azrender.storage.layout import cas_blob, check_layout
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import with_retries

__all__ = [
    "DEFAULT_INDEX_BLOB",
    "IndexEntry",
    "UploadItem",
    "UploadOptions",
    "UploadSummary",
    "get_json",
    "get_json_with_etag",
    "items_for_paths",
    "plan_uploads",
    "put_bytes",
    "read_index",
    "upload_files",
]

DEFAULT_INDEX_BLOB = ".azrender/index.json"
INDEX_VERSION = 1
# Files from this size on go up as resumable blocks (see azrender.storage.blocks).
LARGE_FILE_THRESHOLD = 32 << 20
_INDEX_MERGE_ATTEMPTS = 8


@dataclass(frozen=True)
class UploadOptions:
    """How files are cut up: from ``large_threshold`` bytes on, ``block_size`` blocks,
    ``block_workers`` of them in flight per file."""

    large_threshold: int = LARGE_FILE_THRESHOLD
    block_size: int = DEFAULT_BLOCK_SIZE
    block_workers: int = 4


@dataclass(frozen=True)
class UploadItem:
    """One local file and the blob name it is stored under."""

    local: Path
    blob: str


@dataclass
class UploadSummary:
    """What an upload did; ``entries`` holds the hash of every file (uploaded or skipped)."""

    files: int
    uploaded_files: int
    uploaded_bytes: int
    skipped_files: int
    entries: dict[str, IndexEntry] = field(default_factory=dict)
    #: Bytes that went over the wire, and bytes of large files found already staged.
    sent_bytes: int = 0
    resumed_bytes: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "files": self.files,
            "uploaded_files": self.uploaded_files,
            "uploaded_bytes": self.uploaded_bytes,
            "skipped_files": self.skipped_files,
        }


def items_for_paths(paths: Iterable[Path | str]) -> list[UploadItem]:
    """Map absolute local paths to upload items named by their mirror key.

    >>> items_for_paths(["/mnt/show/tex/a.png"])
    [UploadItem(local=PosixPath('/mnt/show/tex/a.png'), blob='mnt/show/tex/a.png')]
    """
    return [UploadItem(local=Path(p), blob=mirror_key(p)) for p in paths]


# ---------------------------------------------------------------- small blob helpers


def put_bytes(
    client: ContainerClient, blob: str, data: bytes, content_type: str | None = None
) -> None:
    """Write ``data`` to ``blob`` (overwriting), with a transactional MD5 check."""
    settings = ContentSettings(content_type=content_type) if content_type else None
    with storage_errors("writing blob", client=client, blob=blob):
        with_retries(
            lambda: client.upload_blob(
                blob, data, overwrite=True, content_settings=settings, validate_content=True
            )
        )


def _read_whole(client: ContainerClient, blob: str) -> tuple[bytes, str]:
    downloader = client.download_blob(blob)
    return downloader.readall(), str(downloader.properties.etag)


def get_json_with_etag(client: ContainerClient, blob: str) -> tuple[object | None, str | None]:
    """The parsed JSON content of ``blob`` and its ETag, or ``(None, None)`` if it does not exist."""
    with storage_errors("reading blob", client=client, blob=blob):
        try:
            data, etag = with_retries(lambda: _read_whole(client, blob))
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise
            return None, None
    try:
        return json.loads(data), etag
    except ValueError as exc:
        raise StorageError(
            f"blob {blob!r} in container {client.container_name!r} is not valid JSON",
            hint="delete it to start afresh",
        ) from exc


def get_json(client: ContainerClient, blob: str) -> object | None:
    """The parsed JSON content of ``blob``, or ``None`` if it does not exist."""
    return get_json_with_etag(client, blob)[0]


# ---------------------------------------------------------------- the remote index


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


def read_index(client: ContainerClient, blob: str = DEFAULT_INDEX_BLOB) -> dict[str, IndexEntry]:
    """The remote index; empty if it does not exist yet."""
    doc, _ = get_json_with_etag(client, blob)
    return parse_index(doc, blob)


def write_if_unchanged(client: ContainerClient, blob: str, body: bytes, etag: str | None) -> None:
    """Write ``body`` only if ``blob`` still has ``etag`` (``None``: only if it does not exist)."""
    settings = ContentSettings(content_type="application/json")
    if etag is None:
        # Nobody has written an index yet: only create, never clobber.
        client.upload_blob(
            blob,
            body,
            overwrite=True,
            match_condition=MatchConditions.IfMissing,
            content_settings=settings,
        )
    else:
        client.upload_blob(
            blob,
            body,
            overwrite=True,
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
            content_settings=settings,
        )


def _merge_index(client: ContainerClient, blob: str, new: dict[str, IndexEntry]) -> None:
    """Read-modify-write the index with an ETag condition, retrying when someone else won.

    A write whose answer was lost and is then retried meets its own ETag change
    (412/409) and simply merges again.
    """
    for _ in range(_INDEX_MERGE_ATTEMPTS):
        doc, etag = get_json_with_etag(client, blob)
        merged = parse_index(doc, blob)
        merged.update(new)
        body = json.dumps(index_document(merged), indent=1).encode()
        with storage_errors("writing the remote index", client=client, blob=blob):
            try:
                with_retries(functools.partial(write_if_unchanged, client, blob, body, etag))
                return
            except (ResourceModifiedError, ResourceExistsError):
                continue  # 412/409: another uploader changed the index; merge again
    raise StorageError(
        f"could not update the remote index {blob!r}: it kept changing under us",
        hint="another upload is writing to the same container; try again",
    )


# ---------------------------------------------------------------- planning (pure)


def plan_uploads(
    hashed: dict[str, tuple[UploadItem, IndexEntry]], index: dict[str, IndexEntry] | None
) -> list[tuple[UploadItem, IndexEntry]]:
    """The items that must be uploaded: all of them without an index, else those that differ.

    A file is "already there" when the index has the same hash and size for its
    blob name; mtime alone never causes an upload.
    """
    if index is None:
        return list(hashed.values())
    todo = []
    for blob, (item, entry) in hashed.items():
        known = index.get(blob)
        if known is None or known.hash != entry.hash or known.size != entry.size:
            todo.append((item, entry))
    return todo


# ---------------------------------------------------------------- the upload


def _entry_or_error(item: UploadItem, cache: HashCache | None) -> IndexEntry:
    try:
        return file_entry(item.local, cache)
    except FileNotFoundError as exc:
        raise StorageError(
            f"local file vanished before upload: {item.local}",
            hint="it was deleted or moved while azrender was running; scan again",
        ) from exc
    except OSError as exc:
        raise StorageError(f"cannot read {item.local}: {exc.strerror or exc}") from exc


def _metadata(entry: IndexEntry) -> dict[str, str]:
    return {"xxh3": entry.hash, "mtime_ns": str(entry.mtime_ns)}


def _open_or_vanished(item: UploadItem) -> BinaryIO:
    try:
        return open(item.local, "rb")
    except FileNotFoundError as exc:
        raise StorageError(
            f"local file vanished during upload: {item.local}",
            hint="it was deleted or moved while azrender was running; scan again",
        ) from exc


def _put_whole(client: ContainerClient, item: UploadItem, entry: IndexEntry) -> None:
    """One Put Blob: atomic, MD5-checked by the service, repeated from byte 0 on a transient failure."""

    def attempt() -> None:
        with _open_or_vanished(item) as f:
            client.upload_blob(
                item.blob,
                f,
                length=entry.size,
                overwrite=True,
                metadata=_metadata(entry),
                validate_content=True,
                # Below the SDK's max_single_put_size (64 MiB, above our large-file
                # threshold) this is one Put Blob: the blob appears whole or not at all.
                max_concurrency=1,
            )

    with_retries(attempt)


def _upload_one(
    client: ContainerClient,
    item: UploadItem,
    entry: IndexEntry,
    progress: Progress,
    options: UploadOptions,
) -> BlockUpload:
    """Upload one file; returns the bytes sent and the bytes found already staged."""
    with storage_errors("uploading", client=client, blob=item.blob):
        if entry.size >= options.large_threshold:
            try:
                result = upload_in_blocks(
                    client.get_blob_client(item.blob),
                    item.local,
                    entry,
                    metadata=_metadata(entry),
                    block_size=options.block_size,
                    max_workers=options.block_workers,
                    progress=progress,
                )
            except FileNotFoundError as exc:
                raise StorageError(f"local file vanished during upload: {item.local}") from exc
            except OSError as exc:
                if isinstance(exc, (ConnectionError, TimeoutError)):
                    raise
                raise StorageError(f"cannot read {item.local}: {exc}") from exc
        else:
            _put_whole(client, item, entry)
            progress.advance(entry.size)
            result = BlockUpload(blocks=1, sent_bytes=entry.size, reused_bytes=0)
    try:
        after = os.stat(item.local)
    except FileNotFoundError as exc:
        raise StorageError(f"local file vanished during upload: {item.local}") from exc
    if (after.st_size, after.st_mtime_ns) != (entry.size, entry.mtime_ns):
        # The blob may hold a mix of old and new bytes; its metadata hash is wrong.
        raise StorageError(
            f"local file changed while it was uploading: {item.local}",
            hint="wait for whatever writes it to finish and upload again",
        )
    return result


def _stored_as(
    hashed: dict[str, tuple[UploadItem, IndexEntry]], layout: str
) -> dict[str, tuple[UploadItem, IndexEntry]]:
    """Blob name → (item, entry) as stored: unchanged for "mirror", by hash for "content"."""
    if check_layout(layout) == "mirror":
        return hashed
    stored: dict[str, tuple[UploadItem, IndexEntry]] = {}
    for item, entry in hashed.values():
        name = cas_blob(entry.hash)
        stored.setdefault(name, (UploadItem(item.local, name), entry))
    return stored


def upload_files(
    client: ContainerClient,
    items: Iterable[UploadItem],
    *,
    cache: HashCache | None,
    index_blob: str | None = DEFAULT_INDEX_BLOB,
    progress: Progress = NO_PROGRESS,
    max_workers: int = 8,
    options: UploadOptions | None = None,
    layout: str = "mirror",
) -> UploadSummary:
    """Upload the items whose content the remote index does not already hold.

    Returns an :class:`UploadSummary` whose ``entries`` describe every item
    (uploaded or skipped), ready for a job manifest. With ``index_blob=None``
    no index is read or written and every item is uploaded.

    With ``layout="content"`` each file is stored as ``cas/<hash>`` instead of
    its item name (identical files once); ``entries`` stay keyed by item name,
    which is what the job manifest maps to hashes.

    Each finished blob is appended to a local :class:`UploadJournal` before the
    index is written, so a run killed midway is followed by one that uploads
    only what was left (large files resume from their staged blocks).
    """
    options = options or UploadOptions()
    unique: dict[str, UploadItem] = {}
    for item in items:
        unique.setdefault(item.blob, item)  # the same texture used twice is one blob

    entries = run_parallel(
        lambda it: _entry_or_error(it, cache), unique.values(), max_workers=max_workers
    )
    hashed = {it.blob: (it, e) for it, e in zip(unique.values(), entries, strict=True)}
    stored = _stored_as(hashed, layout)

    journal = UploadJournal.for_target(client.url, index_blob) if index_blob is not None else None
    index = read_index(client, index_blob) if index_blob is not None else None
    pending = journal.pending() if journal is not None else {}
    if index is not None and pending:
        index = {**index, **pending}
    todo = plan_uploads(stored, index)
    total = sum(e.size for _, e in todo)

    uploaded: dict[str, IndexEntry] = dict(pending)
    lock = threading.Lock()
    results: list[BlockUpload] = []

    def record(job: tuple[UploadItem, IndexEntry], result: BlockUpload) -> None:
        with lock:
            uploaded[job[0].blob] = job[1]
            results.append(result)

    def one(job: tuple[UploadItem, IndexEntry]) -> BlockUpload:
        result = _upload_one(client, job[0], job[1], progress, options)
        if journal is not None:
            journal.append(job[0].blob, job[1])
        return result

    progress.begin("upload", total=total, unit="B")
    try:
        run_parallel(one, todo, max_workers=max_workers, on_done=record)
    except BaseException:
        # Record what did arrive so a retry skips it, but never let a failing
        # index write hide the error that stopped the upload.
        if index_blob is not None and uploaded:
            with contextlib.suppress(StorageError):
                _merge_index(client, index_blob, uploaded)
                if journal is not None:
                    journal.clear()
        raise
    finally:
        progress.end()
    if index_blob is not None and uploaded:
        _merge_index(client, index_blob, uploaded)
    if journal is not None:
        journal.clear()

    return UploadSummary(
        files=len(hashed),
        uploaded_files=len(todo),
        uploaded_bytes=total,
        skipped_files=len(hashed) - len(todo),  # with "content", duplicates count as skipped
        entries={blob: e for blob, (_, e) in hashed.items()},
        sent_bytes=sum(r.sent_bytes for r in results),
        resumed_bytes=sum(r.reused_bytes for r in results),
    )
