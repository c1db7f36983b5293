"""A local, append-only record of uploads that finished but are not in the remote index yet.

The remote index is written once, at the end of an upload. If the process is
killed before that (SIGKILL, power cut), the journal still says which blobs
arrived, so the next run skips them instead of uploading everything again::

    journal = UploadJournal.for_target(client.url, ".azrender/index.json")
    journal.pending()                       # {blob: IndexEntry} from an earlier, killed run
    journal.unfinished()                    # begun but not recorded: check these blobs
    journal.begin("P/show/a.png", entry)    # before sending it
    journal.append("P/show/a.png", entry)   # after it is committed
    journal.clear()                         # once the remote index holds them

A kill can land between the service committing a blob and the journal line
saying so; :meth:`begin` lines name the few blobs in that window, so the next
run asks the service about those instead of sending them again.

One JSON line per record, handed to the OS as written (that survives SIGKILL;
the file stays open between appends so thousands of small files do not each
pay an open and close); a torn last line (the kill hit mid-write) is ignored.
The file lives in the user cache folder and holds blob names and hashes only,
never credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from azrender import settings
from azrender.storage.client import public_url
from azrender.storage.hashing import IndexEntry
from azrender.storage.localdisk import local_disk_errors

#: The way out when the cache folder cannot be written.
CACHE_OTHER = "another cache folder (set AZRENDER_CACHE_DIR)"


class JsonLines:
    """An append-only file of JSON lines, kept open between appends.

    Each record is one ``write`` on an ``O_APPEND`` descriptor: handed to the
    OS whole, so it survives SIGKILL. With ``sync_every`` the file is also
    fsync'd after that many records (a power cut loses at most that batch).
    A torn last line (the kill hit mid-write) is skipped when reading.
    Failing to write (disk full, read-only) raises a one-line :class:`StorageError`.
    """

    def __init__(
        self, path: Path, *, sync_every: int = 0, other: str = "another folder", note: str | None = None
    ) -> None:
        self.path = path
        self.sync_every = sync_every
        self.other = other
        self.note = note
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._unsynced = 0

    def read(self) -> list[dict[str, object]]:
        """Every whole record in the file, oldest first; nothing if it cannot be read."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return []
        out: list[dict[str, object]] = []
        for line in text.splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue  # a torn line from a killed writer
            if isinstance(doc, dict):
                out.append(doc)
        return out

    def append(self, record: dict[str, object]) -> None:
        """One ``write`` of one line (no Python lock around it: the kernel places
        short ``O_APPEND`` writes whole, and a lock across a syscall makes the
        transfer threads queue behind each other)."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        with local_disk_errors("writing the journal", self.path, other=self.other, note=self.note):
            fd = self._fd_for_append()
            os.write(fd, line)
            if self.sync_every:
                with self._lock:
                    self._unsynced += 1
                    due = self._unsynced >= self.sync_every
                    if due:
                        self._unsynced = 0
                if due:
                    os.fsync(fd)

    def _fd_for_append(self) -> int:
        fd = self._fd
        if fd is not None:
            return fd
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                torn = _ends_torn(self.path)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                if torn:
                    os.write(self._fd, b"\n")  # keep our first line apart from a killed writer's
            return self._fd

    def close(self) -> None:
        """fsync and close the descriptor (the records stay)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if self.sync_every:
                    os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._close()
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)


class UploadJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = JsonLines(path, other=CACHE_OTHER)

    @classmethod
    def for_target(cls, container_url: str, index_blob: str) -> UploadJournal:
        """The journal of one container + index, in ``<cache_dir>/journals/``."""
        key = hashlib.sha256(f"{public_url(container_url)}|{index_blob}".encode()).hexdigest()
        return cls(settings.cache_dir() / "journals" / f"{key[:32]}.jsonl")

    def _records(self) -> tuple[dict[str, IndexEntry], dict[str, IndexEntry]]:
        """(begun, done) blob → entry, from the file; torn or foreign lines are skipped."""
        begun: dict[str, IndexEntry] = {}
        done: dict[str, IndexEntry] = {}
        for doc in self._lines.read():
            try:
                entry = IndexEntry.from_json(doc["entry"])
                if "begin" in doc:
                    begun[str(doc["begin"])] = entry
                else:
                    done[str(doc["blob"])] = entry
            except (ValueError, KeyError, TypeError):
                continue
        return begun, done

    def pending(self) -> dict[str, IndexEntry]:
        """Blobs recorded as uploaded by a run that never updated the remote index."""
        return self._records()[1]

    def unfinished(self) -> dict[str, IndexEntry]:
        """Blobs a killed run began sending and never recorded: they may or may not be there."""
        begun, done = self._records()
        return {blob: e for blob, e in begun.items() if done.get(blob) != e}

    def begin(self, blob: str, entry: IndexEntry) -> None:
        """Record that ``blob`` is about to be sent with this content."""
        self._lines.append({"begin": blob, "entry": entry.to_json()})

    def append(self, blob: str, entry: IndexEntry) -> None:
        """Record one committed blob."""
        self._lines.append({"blob": blob, "entry": entry.to_json()})

    def close(self) -> None:
        """Close the descriptor kept open by :meth:`append` (the records stay)."""
        self._lines.close()

    def clear(self) -> None:
        """Forget every record (the remote index holds them now)."""
        self._lines.clear()


def _ends_torn(path: Path) -> bool:
    """True if ``path`` is non-empty and does not end with a newline."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except OSError:
        return False
