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
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError, UsageError
from azrender.paths import mirror_key
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.blocks import DEFAULT_BLOCK_SIZE, BlockUpload, upload_in_blocks
from azrender.storage.client import storage_errors
from azrender.storage.hashing import HashCache, IndexEntry, read_entry
from azrender.storage.index import (
    DEFAULT_INDEX_BLOB,
    MergeResult,
    Resend,
    get_json,
    get_json_with_etag,
    holds,
    merge_index,
    metadata_for,
    parse_index,
    put_bytes,
    read_index,
)
from azrender.storage.items import (
    UploadItem,
    UploadSummary,
    check_unchanged,
    plan_uploads,
    vanished_as_storage_error,
)
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

# Files from this size on go up as resumable blocks (see azrender.storage.blocks).
LARGE_FILE_THRESHOLD = 32 << 20
# Files under this size are hashed from memory and sent from the same bytes.
READ_WHOLE_BELOW = 8 << 20


@dataclass(frozen=True)
class UploadOptions:
    """How files are cut up: from ``large_threshold`` bytes on, ``block_size`` blocks,
    ``block_workers`` of them in flight per file."""

    large_threshold: int = LARGE_FILE_THRESHOLD
    block_size: int = DEFAULT_BLOCK_SIZE
    block_workers: int = 4
    #: A file smaller than this that must be hashed is read once into memory and
    #: sent from those bytes (at most ``max_workers`` such buffers at a time).
    read_whole_below: int = READ_WHOLE_BELOW


def items_for_paths(paths: Iterable[Path | str]) -> list[UploadItem]:
    """Map absolute local paths to upload items named by their mirror key.

    >>> items_for_paths(["/mnt/show/tex/a.png"])
    [UploadItem(local=PosixPath('/mnt/show/tex/a.png'), blob='mnt/show/tex/a.png')]
    """
    return [UploadItem(local=Path(p), blob=mirror_key(p)) for p in paths]


# ---------------------------------------------------------------- the upload


def _open_or_vanished(item: UploadItem) -> BinaryIO:
    try:
        return open(item.local, "rb")
    except FileNotFoundError as exc:
        raise StorageError(
            f"local file vanished during upload: {item.local}",
            hint="it was deleted or moved while azrender was running; scan again",
        ) from exc


def _put_whole(
    client: ContainerClient, item: UploadItem, entry: IndexEntry, data: bytes | None = None
) -> None:
    """One Put Blob: atomic, MD5-checked by the service, repeated from byte 0 on a transient failure.

    ``data`` is the file's content when the caller already holds it (read once
    for hashing); otherwise the file is read here.
    """

    def send(body: bytes | BinaryIO) -> None:
        client.upload_blob(
            item.blob,
            body,
            length=entry.size,
            overwrite=True,
            metadata=metadata_for(entry),
            validate_content=True,
            # Below the SDK's max_single_put_size (64 MiB, above our large-file
            # threshold) this is one Put Blob: the blob appears whole or not at all.
            max_concurrency=1,
        )

    def attempt() -> None:
        if data is not None:
            send(data)
            return
        with _open_or_vanished(item) as f:
            send(f)

    with_retries(attempt)


def _upload_one(
    client: ContainerClient,
    item: UploadItem,
    entry: IndexEntry,
    progress: Progress,
    options: UploadOptions,
    data: bytes | None = None,
) -> BlockUpload:
    """Upload one file; returns the bytes sent and the bytes found already staged.

    With ``data`` (the bytes that were hashed) the blob holds exactly what
    ``entry`` describes; a file read here again is checked not to have changed.
    """
    with storage_errors("uploading", client=client, blob=item.blob):
        if data is None and entry.size >= options.large_threshold:
            try:
                result = upload_in_blocks(
                    client.get_blob_client(item.blob),
                    item.local,
                    entry,
                    metadata=metadata_for(entry),
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
            _put_whole(client, item, entry, data)
            progress.advance(entry.size)
            result = BlockUpload(blocks=1, sent_bytes=entry.size, reused_bytes=0)
    if data is not None:
        return result
    # The blob may hold a mix of old and new bytes; its metadata hash would be wrong.
    check_unchanged(item.local, entry)
    return result


# ---------------------------------------------------------------- pipelined planning


@dataclass(frozen=True)
class _Probe:
    """One file after a stat and a hash-cache lookup; ``entry`` is ``None`` on a cache miss."""

    item: UploadItem
    size: int
    entry: IndexEntry | None


#: Files stat'ed per task: one thread-pool task per file costs more than a local stat.
_STAT_CHUNK = 256


def _stat_chunk(chunk: list[UploadItem]) -> list[tuple[UploadItem, os.stat_result]]:
    out = []
    for item in chunk:
        with vanished_as_storage_error(item, "before"):
            out.append((item, os.stat(item.local)))
    return out


def _probe_all(
    items: Iterable[UploadItem], cache: HashCache | None, max_workers: int
) -> list[_Probe]:
    """Stat every item (in parallel: shares answer slowly) and look all up in ``cache`` at once."""
    todo = list(items)
    chunks = [todo[i : i + _STAT_CHUNK] for i in range(0, len(todo), _STAT_CHUNK)]
    stats = [
        s for chunk in run_parallel(_stat_chunk, chunks, max_workers=max_workers) for s in chunk
    ]
    keys = [(it.local, st.st_size, st.st_mtime_ns) for it, st in stats]
    digests = cache.lookup_many(keys) if cache is not None else [None] * len(keys)
    return [
        _Probe(it, st.st_size, IndexEntry(d, st.st_size, st.st_mtime_ns) if d else None)
        for (it, st), d in zip(stats, digests, strict=True)
    ]


class _Claims:
    """Decides, once per stored blob name, whether a hashed file must be sent.

    Thread-safe, because files hashed by the workers are decided as they come:
    a blob is sent when the remote index (plus the journal) does not already
    hold this hash and size, and only by the first file that claims its name
    (with the "content" layout, identical files share one ``cas/<hash>`` blob).
    """

    def __init__(self, index: dict[str, IndexEntry] | None, layout: str) -> None:
        self.index = index
        self.mirror = check_layout(layout) == "mirror"
        self._claimed: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, item: UploadItem, entry: IndexEntry) -> UploadItem | None:
        """The item as it must be stored, or ``None`` if nothing needs sending."""
        name = item.blob if self.mirror else cas_blob(entry.hash)
        with self._lock:
            if name in self._claimed:
                return None
            self._claimed.add(name)
        if self.index is not None:
            known = self.index.get(name)
            if known is not None and known.hash == entry.hash and known.size == entry.size:
                return None  # mtime alone never causes an upload
        return item if self.mirror else UploadItem(item.local, name)


def _journalled(client: ContainerClient, journal: UploadJournal) -> dict[str, IndexEntry]:
    """What an earlier, killed run sent: its recorded blobs, plus those it had begun
    that the service holds whole (the kill fell between the commit and the record)."""
    done = journal.pending()
    for blob, entry in journal.unfinished().items():  # at most one per worker of that run
        if holds(client, blob, entry):
            done[blob] = entry
    return done


# ---------------------------------------------------------------- the upload


@dataclass(frozen=True)
class _Sent:
    """One blob that arrived: its stored name, entry and what the transfer did."""

    blob: str
    entry: IndexEntry
    result: BlockUpload


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

    Hashing is pipelined with sending: every file is first stat'ed and looked
    up in the hash cache (nothing read), then each worker hashes a file the
    cache does not know and, if it must go, sends it at once; a small file is
    read once and the very bytes that were hashed are sent.

    Each finished blob is appended to a local :class:`UploadJournal` before the
    index is written, so a run killed midway is followed by one that uploads
    only what was left (large files resume from their staged blocks).
    """
    options = options or UploadOptions()
    unique: dict[str, UploadItem] = {}
    for item in items:
        check_blob_name(item)
        unique.setdefault(item.blob, item)  # the same texture used twice is one blob

    journal = UploadJournal.for_target(client.url, index_blob) if index_blob is not None else None
    keep_below = min(options.read_whole_below, options.large_threshold)

    uploaded: dict[str, IndexEntry] = {}
    entries: dict[str, IndexEntry] = {}
    lock = threading.Lock()
    results: list[BlockUpload] = []

    def record(_probe: _Probe, sent: _Sent | None) -> None:
        if sent is not None:
            with lock:
                uploaded[sent.blob] = sent.entry
                results.append(sent.result)

    targets: dict[str, UploadItem] = {}
    index: dict[str, IndexEntry] | None = None
    baseline: str | None = None
    pending: dict[str, IndexEntry] = {}

    def send(item: UploadItem, entry: IndexEntry, data: bytes | None) -> _Sent:
        with lock:
            targets[item.blob] = item
        if journal is not None:
            journal.begin(item.blob, entry)
        result = _upload_one(client, item, entry, progress, options, data)
        if journal is not None:
            journal.append(item.blob, entry)
        return _Sent(item.blob, entry, result)

    def one(probe: _Probe) -> _Sent | None:
        if probe.entry is not None:  # known from the cache and claimed already
            return send(claims_known[probe.item.blob], probe.entry, None)
        with vanished_as_storage_error(probe.item, "before"):
            # The cache was asked for every file at once and did not know this one.
            entry, data = read_entry(probe.item.local, cache, keep_below=keep_below, lookup=False)
        with lock:
            entries[probe.item.blob] = entry
        target = claims.claim(probe.item, entry)
        if target is None:
            progress.advance(probe.size)  # counted in the total; found already there
            return None
        return send(target, entry, data)

    def resend(blob: str, entry: IndexEntry) -> None:
        item = targets.get(blob)
        if item is None:
            return  # not ours to send again (a killed run's blob): its true entry goes in
        # The file is read again and checked unchanged since it was hashed.
        result = _upload_one(client, item, entry, NO_PROGRESS, options, None)
        with lock:
            results.append(result)

    def merge(again: Resend | None) -> MergeResult:
        assert index_blob is not None
        return merge_index(
            client,
            index_blob,
            uploaded,
            baseline=baseline,
            baseline_known=True,
            check=set(pending),
            check_all=check_layout(layout) == "mirror",
            resend=again,
            max_workers=max_workers,
        )

    deferred = cache.deferred() if cache is not None else contextlib.nullcontext()
    with deferred:
        probes = _probe_all(unique.values(), cache, max_workers)
        if index_blob is not None:
            doc, baseline = get_json_with_etag(client, index_blob)
            index = parse_index(doc, index_blob)
        pending = _journalled(client, journal) if journal is not None else {}
        if index is not None and pending:
            index = {**index, **pending}
        uploaded.update(pending)
        claims = _Claims(index, layout)
        # Files the cache knows are decided now; the others once a worker hashed them.
        claims_known: dict[str, UploadItem] = {}
        work: list[_Probe] = []
        for probe in probes:
            if probe.entry is None:
                work.append(probe)
                continue
            entries[probe.item.blob] = probe.entry
            target = claims.claim(probe.item, probe.entry)
            if target is not None:
                claims_known[probe.item.blob] = target
                work.append(probe)

        # Large files first (otherwise in the caller's order): their blocks then
        # overlap the many small files instead of running alone at the end.
        work.sort(key=lambda p: p.size < options.large_threshold)
        progress.begin("upload", total=sum(p.size for p in work), unit="B")
        try:
            run_parallel(one, work, max_workers=max_workers, on_done=record)
        except BaseException:
            # Record what did arrive so a retry skips it, but never let a failing
            # index write hide the error that stopped the upload.
            if index_blob is not None and uploaded:
                with contextlib.suppress(StorageError):
                    merge(None)
                    if journal is not None:
                        journal.clear()
            raise
        finally:
            progress.end()
            if journal is not None:
                journal.close()

    merged = merge(resend) if index_blob is not None and uploaded else None
    if journal is not None:
        journal.clear()
    # A killed run's blob that changed since is simply indexed as it is now; one
    # this run sent and could not keep is an error: its job would not get our bytes.
    lost = sorted(set(merged.replaced) & set(targets)) if merged is not None else []
    if lost:
        first = lost[0]
        raise StorageError(
            f"{len(lost)} blob(s), e.g. {first!r}, were overwritten with other "
            "content by another upload at the same time; the index records what they hold now",
            hint="upload again once the other upload is done (or use the content layout)",
        )

    return UploadSummary(
        files=len(unique),
        uploaded_files=len(results),
        uploaded_bytes=sum(r.sent_bytes + r.reused_bytes for r in results),
        skipped_files=len(unique) - len(results),  # with "content", duplicates count as skipped
        entries={blob: entries[blob] for blob in unique},
        sent_bytes=sum(r.sent_bytes for r in results),
        resumed_bytes=sum(r.reused_bytes for r in results),
    )


def check_blob_name(item: UploadItem) -> None:
    """Refuse a blob name with a backslash: it would not be unique to its file.

    Blob storage reads ``\\`` in a blob URL as ``/`` (Azurite stores ``a\\b.png``
    as ``a/b.png``; "Naming and Referencing Containers, Blobs, and Metadata"
    tells to avoid it), and Windows nodes and the downloader treat it as a
    folder separator, so ``/show/a\\b.png`` and ``/show/a/b.png`` on Linux would
    share one blob. Refused rather than escaped: an escape would have to be
    undone identically by every reader (node sync, blobfuse mounts, the path
    map in the remap scripts), and no Windows machine can hold such a file anyway.
    """
    if "\\" in item.blob:
        raise UsageError(
            f"cannot upload {item.local}: its name contains a backslash, which blob storage "
            "and Windows nodes read as a folder separator",
            hint="rename the file (and the scene's reference to it) without the backslash",
        )
