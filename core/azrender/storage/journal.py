"""A local, append-only record of uploads that finished but are not in the remote index yet.

The remote index is written once, at the end of an upload. If the process is
killed before that (SIGKILL, power cut), the journal still says which blobs
arrived, so the next run skips them instead of uploading everything again::

    journal = UploadJournal.for_target(client.url, ".azrender/index.json")
    journal.pending()                       # {blob: IndexEntry} from an earlier, killed run
    journal.append("P/show/a.png", entry)   # after each blob is committed
    journal.clear()                         # once the remote index holds them

One JSON line per blob, flushed as written; a torn last line (the kill hit
mid-write) is ignored. The file lives in the user cache folder and holds
blob names and hashes only, never credentials.
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


class UploadJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def for_target(cls, container_url: str, index_blob: str) -> UploadJournal:
        """The journal of one container + index, in ``<cache_dir>/journals/``."""
        key = hashlib.sha256(f"{public_url(container_url)}|{index_blob}".encode()).hexdigest()
        return cls(settings.cache_dir() / "journals" / f"{key[:32]}.jsonl")

    def pending(self) -> dict[str, IndexEntry]:
        """Blobs recorded as uploaded by a run that never updated the remote index."""
        out: dict[str, IndexEntry] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                doc = json.loads(line)
                out[str(doc["blob"])] = IndexEntry.from_json(doc["entry"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a killed writer
        return out

    def append(self, blob: str, entry: IndexEntry) -> None:
        line = json.dumps({"blob": blob, "entry": entry.to_json()}, separators=(",", ":"))
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()

    def clear(self) -> None:
        with self._lock, contextlib.suppress(FileNotFoundError):
            os.remove(self.path)
