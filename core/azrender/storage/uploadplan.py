"""Deciding what a blob upload sends, before and while hashing (the upload's planning).

Every file is first stat'ed and looked up in the hash cache at once
(:func:`probe_all`, nothing read); :class:`Claims` then decides, once per
stored blob name, whether a hashed file must go; :func:`journalled` says what a
killed earlier run sent.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from azure.storage.blob import ContainerClient

from azrender.storage.blocks import DEFAULT_BLOCK_SIZE
from azrender.storage.hashing import HashCache, IndexEntry
from azrender.storage.index import holds
from azrender.storage.items import UploadItem, vanished_as_storage_error
from azrender.storage.journal import UploadJournal
from azrender.storage.layout import cas_blob, check_layout
from azrender.storage.parallel import run_parallel

__all__ = [
    "LARGE_FILE_THRESHOLD",
    "READ_WHOLE_BELOW",
    "Claims",
    "Probe",
    "UploadOptions",
    "journalled",
    "probe_all",
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


@dataclass(frozen=True)
class Probe:
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


def probe_all(
    items: Iterable[UploadItem], cache: HashCache | None, max_workers: int
) -> list[Probe]:
    """Stat every item (in parallel: shares answer slowly) and look all up in ``cache`` at once."""
    todo = list(items)
    chunks = [todo[i : i + _STAT_CHUNK] for i in range(0, len(todo), _STAT_CHUNK)]
    stats = [
        s for chunk in run_parallel(_stat_chunk, chunks, max_workers=max_workers) for s in chunk
    ]
    keys = [(it.local, st.st_size, st.st_mtime_ns) for it, st in stats]
    digests = cache.lookup_many(keys) if cache is not None else [None] * len(keys)
    return [
        Probe(it, st.st_size, IndexEntry(d, st.st_size, st.st_mtime_ns) if d else None)
        for (it, st), d in zip(stats, digests, strict=True)
    ]


class Claims:
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


def journalled(client: ContainerClient, journal: UploadJournal) -> dict[str, IndexEntry]:
    """What an earlier, killed run sent: its recorded blobs, plus those it had begun
    that the service holds whole (the kill fell between the commit and the record)."""
    done = journal.pending()
    for blob, entry in journal.unfinished().items():  # at most one per worker of that run
        if holds(client, blob, entry):
            done[blob] = entry
    return done
