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
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.paths import mirror_key
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.blocks import BlockUpload
from azrender.storage.hashing import HashCache, IndexEntry, read_entry
from azrender.storage.index import (
    DEFAULT_INDEX_BLOB,
    MergeResult,
    Resend,
    get_json,
    get_json_with_etag,
    merge_index,
    parse_index,
    put_bytes,
    read_index,
)
from azrender.storage.items import (
    UploadItem,
    UploadSummary,
    check_blob_name,
    plan_uploads,
    unique_items,
    vanished_as_storage_error,
)
from azrender.storage.journal import UploadJournal
from azrender.storage.layout import check_layout
from azrender.storage.parallel import run_parallel
from azrender.storage.sender import FileSender
from azrender.storage.uploadplan import Claims, Probe, UploadOptions, journalled, probe_all

__all__ = [
    "DEFAULT_INDEX_BLOB",
    "IndexEntry",
    "UploadItem",
    "UploadOptions",
    "UploadSummary",
    "check_blob_name",
    "get_json",
    "get_json_with_etag",
    "items_for_paths",
    "plan_uploads",
    "put_bytes",
    "read_index",
    "upload_files",
]

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
    unique = unique_items(items)
    run = _BlobUpload(
        client, cache, index_blob, progress, max_workers, options or UploadOptions(), layout
    )
    deferred = cache.deferred() if cache is not None else contextlib.nullcontext()
    try:
        with deferred:
            probes = probe_all(unique.values(), cache, max_workers)
            run.read_remote()
            run.send(run.decide_known(probes))
        run.commit()
    finally:
        run.sender.close()
    return run.summary(unique)


@dataclass
class _BlobUpload:
    """One upload to a container and what it has learnt so far.

    ``entries`` holds the hash of every item (by item name), ``uploaded`` what
    the index must gain (by stored name), ``targets`` what this run sent itself:
    only those are sent again when the index merge finds them replaced.
    """

    client: ContainerClient
    cache: HashCache | None
    index_blob: str | None
    progress: Progress
    max_workers: int
    options: UploadOptions
    layout: str
    claims: Claims = field(init=False)  # set by read_remote, once the remote index is known
    entries: dict[str, IndexEntry] = field(init=False, default_factory=dict)
    uploaded: dict[str, IndexEntry] = field(init=False, default_factory=dict)
    targets: dict[str, UploadItem] = field(init=False, default_factory=dict)
    results: list[BlockUpload] = field(init=False, default_factory=list)
    #: The index's ETag when it was read: the merge is conditional on it.
    baseline: str | None = field(init=False, default=None)
    #: What a killed earlier run sent (from its journal): checked again at the merge.
    pending: dict[str, IndexEntry] = field(init=False, default_factory=dict)
    #: Stored item of each file the cache knew and that must go.
    claims_known: dict[str, UploadItem] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # The opener is looked up at each call: a test may replace it.
        self.sender = FileSender(self.client, self.options, lambda item: _open_or_vanished(item))
        target = self.index_blob
        self.journal = UploadJournal.for_target(self.client.url, target) if target is not None else None
        self.keep_below = min(self.options.read_whole_below, self.options.large_threshold)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ the steps

    def read_remote(self) -> None:
        """Read the remote index, and take in what a killed earlier run sent (its journal)."""
        index: dict[str, IndexEntry] | None = None
        if self.index_blob is not None:
            doc, self.baseline = get_json_with_etag(self.client, self.index_blob)
            index = parse_index(doc, self.index_blob)
        self.pending = journalled(self.client, self.journal) if self.journal is not None else {}
        if index is not None and self.pending:
            index = {**index, **self.pending}
        self.uploaded.update(self.pending)
        self.claims = Claims(index, self.layout)

    def decide_known(self, probes: list[Probe]) -> list[Probe]:
        """The files to work on: those the cache knows and that must go, and every one it does not know.

        Files the cache knows are decided now; the others once a worker hashed them.
        """
        work: list[Probe] = []
        for probe in probes:
            if probe.entry is None:
                work.append(probe)
                continue
            self.entries[probe.item.blob] = probe.entry
            target = self.claims.claim(probe.item, probe.entry)
            if target is not None:
                self.claims_known[probe.item.blob] = target
                work.append(probe)
        # Large files first (otherwise in the caller's order): their blocks then
        # overlap the many small files instead of running alone at the end.
        work.sort(key=lambda p: p.size < self.options.large_threshold)
        return work

    def send(self, work: list[Probe]) -> None:
        """Hash and send the files in parallel; on failure, index what did arrive."""
        self.progress.begin("upload", total=sum(p.size for p in work), unit="B")
        try:
            run_parallel(self._one, work, max_workers=self.max_workers, on_done=self._record)
        except BaseException:
            # Record what did arrive so a retry skips it, but never let a failing
            # index write hide the error that stopped the upload.
            if self.index_blob is not None and self.uploaded:
                with contextlib.suppress(StorageError):
                    self._merge(None)
                    if self.journal is not None:
                        self.journal.clear()
            raise
        finally:
            self.progress.end()
            if self.journal is not None:
                self.journal.close()

    def commit(self) -> None:
        """Merge what arrived into the index; refuse blobs another upload overwrote meanwhile."""
        merged = (
            self._merge(self._resend) if self.index_blob is not None and self.uploaded else None
        )
        if self.journal is not None:
            self.journal.clear()
        # A killed run's blob that changed since is simply indexed as it is now; one
        # this run sent and could not keep is an error: its job would not get our bytes.
        lost = sorted(set(merged.replaced) & set(self.targets)) if merged is not None else []
        if lost:
            first = lost[0]
            raise StorageError(
                f"{len(lost)} blob(s), e.g. {first!r}, were overwritten with other "
                "content by another upload at the same time; the index records what they hold now",
                hint="upload again once the other upload is done (or use the content layout)",
            )

    def summary(self, unique: dict[str, UploadItem]) -> UploadSummary:
        results = self.results
        return UploadSummary(
            files=len(unique),
            uploaded_files=len(results),
            uploaded_bytes=sum(r.sent_bytes + r.reused_bytes for r in results),
            skipped_files=len(unique) - len(results),  # with "content", duplicates count as skipped
            entries={blob: self.entries[blob] for blob in unique},
            sent_bytes=sum(r.sent_bytes for r in results),
            resumed_bytes=sum(r.reused_bytes for r in results),
        )

    # ------------------------------------------------------------ one file, on a worker

    def _one(self, probe: Probe) -> _Sent | None:
        if probe.entry is not None:  # known from the cache and claimed already
            return self._send(self.claims_known[probe.item.blob], probe.entry, None)
        with vanished_as_storage_error(probe.item, "before"):
            # The cache was asked for every file at once and did not know this one.
            entry, data = read_entry(
                probe.item.local, self.cache, keep_below=self.keep_below, lookup=False
            )
        with self._lock:
            self.entries[probe.item.blob] = entry
        target = self.claims.claim(probe.item, entry)
        if target is None:
            self.progress.advance(probe.size)  # counted in the total; found already there
            return None
        return self._send(target, entry, data)

    def _send(self, item: UploadItem, entry: IndexEntry, data: bytes | None) -> _Sent:
        with self._lock:
            self.targets[item.blob] = item
        if self.journal is not None:
            self.journal.begin(item.blob, entry)
        result = self.sender.send(item, entry, self.progress, data)
        if self.journal is not None:
            self.journal.append(item.blob, entry)
        return _Sent(item.blob, entry, result)

    def _record(self, _probe: Probe, sent: _Sent | None) -> None:
        if sent is not None:
            with self._lock:
                self.uploaded[sent.blob] = sent.entry
                self.results.append(sent.result)

    def _resend(self, blob: str, entry: IndexEntry) -> None:
        item = self.targets.get(blob)
        if item is None:
            return  # not ours to send again (a killed run's blob): its true entry goes in
        # The file is read again and checked unchanged since it was hashed.
        result = self.sender.send(item, entry, NO_PROGRESS, None)
        with self._lock:
            self.results.append(result)

    def _merge(self, again: Resend | None) -> MergeResult:
        assert self.index_blob is not None
        return merge_index(
            self.client,
            self.index_blob,
            self.uploaded,
            baseline=self.baseline,
            baseline_known=True,
            check=set(self.pending),
            check_all=check_layout(self.layout) == "mirror",
            resend=again,
            max_workers=self.max_workers,
        )
