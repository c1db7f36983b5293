"""Upload a job's files to an Azure Files share, moving only what changed.

Storage mode ``azure-files``: render nodes see the share on a drive letter, a
UNC path or a CIFS mount (the share root is the plan's ``node_root``), so each
file goes to the place below the share root where the node will look for it::

    plan = storage_plan(preset, node_os="windows")
    items, outside = items_for_share(paths, plan)        # share path = node path minus the root
    client = share_client(preset.azure_files.account, preset.azure_files.share)
    summary = upload_to_share(client, items, cache=HashCache(), progress=progress)

What is already there is known from an index on the share
(``.azrender/index.json``, the same document as the blob index) and, for files
the index does not vouch for, from the file's own ``xxh3`` metadata (one HEAD),
so a resubmit of an unchanged scene uploads 0 bytes and a lost index costs
requests, not bytes.

Each file is written by :mod:`azrender.storage.sharefile` (part file, ranges,
resume, rename); the share is reached through :mod:`azrender.storage.share`.
Concurrent uploads by two artists are safe for the files (each rename is
atomic); the index is merged just before it is replaced, and a lost race only
costs the other artist's next upload a HEAD per file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from azure.core.pipeline.transport import HttpTransport
from azure.storage.fileshare import ShareClient

from azrender.errors import StorageError
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.hashing import HashCache, IndexEntry
from azrender.storage.items import UploadItem, UploadSummary, entry_or_error, plan_uploads
from azrender.storage.modes import StoragePlan
from azrender.storage.parallel import run_parallel
from azrender.storage.retry import with_retries
from azrender.storage.share import ensure_share, share_client, share_errors
from azrender.storage.sharefile import (
    RANGE_SIZE,
    SHARE_INDEX,
    Retry,
    already_there,
    make_dirs,
    read_share_index,
    upload_file,
    write_share_index,
)
from azrender.storage.sharepaths import (
    PART_PREFIX,
    items_for_share,
    parent_dirs,
    part_name,
    share_path,
)

# The names callers used before the share code was split by job, in one place.
__all__ = [
    "PART_PREFIX",
    "RANGE_SIZE",
    "SHARE_INDEX",
    "items_for_share",
    "part_name",
    "read_share_index",
    "share_client",
    "share_errors",
    "share_path",
    "upload_for_plan",
    "upload_to_share",
]


Job = tuple[UploadItem, IndexEntry]


def upload_to_share(
    client: ShareClient,
    items: Iterable[UploadItem],
    *,
    cache: HashCache | None,
    progress: Progress = NO_PROGRESS,
    max_workers: int = 8,
    range_size: int = RANGE_SIZE,
    range_workers: int = 4,
    retry: Retry = with_retries,
) -> UploadSummary:
    """Upload the items (``blob`` = share path) whose content the share does not hold yet.

    The index decides first; a file it does not vouch for is looked at (its
    ``xxh3`` metadata) before its bytes are sent. A file larger than one
    range whose part an interrupted run left resumes from the ranges the
    service holds (``resumed_bytes``). The index is updated with what is now on
    the share, also when the upload stops midway.
    """
    run = _ShareUpload(
        client, progress, retry, max_workers, min(max(1, range_size), RANGE_SIZE), range_workers
    )
    hashed = run.hash_items(items, cache)
    todo = run.missing(hashed)
    run.send(todo)
    return run.summary(hashed, todo)


class _ShareUpload:
    """One upload to a share: what is on the share now (``done``) and what each transfer moved."""

    def __init__(
        self,
        client: ShareClient,
        progress: Progress,
        retry: Retry,
        max_workers: int,
        range_size: int,
        range_workers: int,
    ) -> None:
        self.client = client
        self.progress = progress
        self.retry = retry
        self.max_workers = max_workers
        self.range_size = range_size
        self.range_workers = range_workers
        #: Share path -> entry of every file the share now holds for this upload.
        self.done: dict[str, IndexEntry] = {}
        #: (bytes sent, bytes found already written) per uploaded file.
        self.moved: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def hash_items(self, items: Iterable[UploadItem], cache: HashCache | None) -> dict[str, Job]:
        """Each share path once, with its file's hash entry."""
        unique: dict[str, UploadItem] = {}
        for item in items:
            unique.setdefault(item.blob, item)
        entries = run_parallel(
            lambda it: entry_or_error(it, cache), unique.values(), max_workers=self.max_workers
        )
        return {it.blob: (it, e) for it, e in zip(unique.values(), entries, strict=True)}

    def missing(self, hashed: dict[str, Job]) -> list[Job]:
        """The files the share does not hold: not vouched for by the index nor by their metadata."""
        ensure_share(self.client)
        index = read_share_index(self.client, self.retry)
        candidates = plan_uploads(hashed, index)
        present = run_parallel(
            lambda job: already_there(self.client, job[0].blob, job[1], self.retry),
            candidates,
            max_workers=self.max_workers,
        )
        pairs = list(zip(candidates, present, strict=True))
        self.done.update({job[0].blob: job[1] for job, there in pairs if there})
        return [job for job, there in pairs if not there]

    def send(self, todo: list[Job]) -> None:
        """Upload ``todo`` and write the index of what arrived, also when the upload stops midway."""
        self.progress.begin("upload", total=sum(e.size for _, e in todo), unit="B")
        try:
            make_dirs(self.client, parent_dirs(it.blob for it, _ in todo), self.retry)
            run_parallel(self._one, todo, max_workers=self.max_workers, on_done=self._record)
        except BaseException:
            # Record what arrived so the next run skips it, without hiding the real error.
            if self.done:
                with suppress(StorageError):
                    write_share_index(self.client, self.done, self.retry)
            raise
        finally:
            self.progress.end()
        if self.done:
            write_share_index(self.client, self.done, self.retry)

    def _one(self, job: Job) -> tuple[int, int]:
        item, entry = job
        return upload_file(
            self.client, item, entry, self.progress, self.retry, self.range_size, self.range_workers
        )

    def _record(self, job: Job, result: tuple[int, int]) -> None:
        with self._lock:
            self.done[job[0].blob] = job[1]
            self.moved.append(result)

    def summary(self, hashed: dict[str, Job], todo: list[Job]) -> UploadSummary:
        return UploadSummary(
            files=len(hashed),
            uploaded_files=len(todo),
            uploaded_bytes=sum(e.size for _, e in todo),
            skipped_files=len(hashed) - len(todo),
            entries={path: e for path, (_, e) in hashed.items()},
            sent_bytes=sum(sent for sent, _ in self.moved),
            resumed_bytes=sum(reused for _, reused in self.moved),
        )


def upload_for_plan(
    paths: Iterable[str | Path],
    plan: StoragePlan,
    account: str,
    share: str,
    *,
    cache: HashCache | None = None,
    progress: Progress = NO_PROGRESS,
    transport: HttpTransport[Any, Any] | None = None,
) -> UploadSummary:
    """The submit's step for ``azure-files``: every file to where ``plan`` says the node sees it.

    Files a ``[[paths]]`` rule sends outside the share are not uploaded (the
    node has them elsewhere); they are named in a progress note.
    """
    items, outside = items_for_share(paths, plan)
    if outside:
        shown = ", ".join(outside[:3]) + (
            f" and {len(outside) - 3} more" if len(outside) > 3 else ""
        )
        progress.note(f"{len(outside)} file(s) map outside the share and are not uploaded: {shown}")
    client = share_client(account, share, transport=transport)
    own_cache = cache is None
    hashes = cache if cache is not None else HashCache()
    try:
        return upload_to_share(client, items, cache=hashes, progress=progress)
    finally:
        if own_cache:
            hashes.close()
