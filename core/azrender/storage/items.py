"""What an upload is, whichever service it goes to: items, the summary, and the checks both uploaders make.

The blob uploader (:func:`azrender.storage.upload.upload_files`) and the Azure
Files uploader (:func:`azrender.storage.fileshare.upload_to_share`) take the
same :class:`UploadItem` s and return the same :class:`UploadSummary`. A caller
that picks one by storage mode holds an :class:`Uploader`: local files in, the
summary out (:func:`azrender.submit.asset_uploader` makes one for a storage plan).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from azrender.errors import StorageError, UsageError
from azrender.progress import Progress
from azrender.storage.hashing import HashCache, IndexEntry, file_entry

__all__ = [
    "UploadItem",
    "UploadSummary",
    "Uploader",
    "check_blob_name",
    "check_unchanged",
    "entry_or_error",
    "plan_uploads",
    "unique_items",
    "vanished_as_storage_error",
]


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


class Uploader(Protocol):
    """Sends the files the target does not hold yet (named as the target names them); says what it did."""

    def __call__(self, paths: Sequence[Path], *, progress: Progress) -> UploadSummary: ...


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


# ---------------------------------------------------------------- local files


@contextlib.contextmanager
def vanished_as_storage_error(item: UploadItem, when: str) -> Iterator[None]:
    """A local file that is gone or unreadable becomes one line naming it."""
    try:
        yield
    except FileNotFoundError as exc:
        raise StorageError(
            f"local file vanished {when} upload: {item.local}",
            hint="it was deleted or moved while azrender was running; scan again",
        ) from exc
    except OSError as exc:
        raise StorageError(f"cannot read {item.local}: {exc.strerror or exc}") from exc


def entry_or_error(item: UploadItem, cache: HashCache | None) -> IndexEntry:
    """The hash entry of ``item`` (through ``cache``), or a :class:`StorageError` naming the file."""
    with vanished_as_storage_error(item, "before"):
        return file_entry(item.local, cache)


def check_unchanged(path: Path, entry: IndexEntry) -> None:
    """Refuse a file that changed (or vanished) since it was hashed as ``entry``.

    Called after its bytes were sent: what arrived may mix old and new content,
    so it must not be committed or recorded under the old hash.
    """
    try:
        after = os.stat(path)
    except FileNotFoundError as exc:
        raise StorageError(f"local file vanished during upload: {path}") from exc
    if (after.st_size, after.st_mtime_ns) != (entry.size, entry.mtime_ns):
        raise StorageError(
            f"local file changed while it was uploading: {path}",
            hint="wait for whatever writes it to finish and upload again",
        )


# ---------------------------------------------------------------- names


def unique_items(items: Iterable[UploadItem]) -> dict[str, UploadItem]:
    """Each item name once, every name checked first."""
    unique: dict[str, UploadItem] = {}
    for item in items:
        check_blob_name(item)
        unique.setdefault(item.blob, item)  # the same texture used twice is one blob
    return unique



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
