"""Content hashes (xxh3-128) and a cache that avoids reading unchanged files twice.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> _ = p.write_bytes(b"hello")
>>> hash_file(p) == hash_bytes(b"hello")
True

Hashing a 50 GB texture library on every upload would take longer than the
upload, so :class:`HashCache` remembers ``(path, size, mtime_ns) -> hash`` in
SQLite; a file whose size and mtime are unchanged is never read again::

    with HashCache() as cache:            # <cache_dir>/hashes.sqlite
        entry = cache.entry(path)         # IndexEntry(hash, size, mtime_ns)

An upload of thousands of new files would otherwise commit one SQLite
transaction per file; inside ``with cache.deferred():`` new hashes are kept in
memory and written in batches of :data:`DEFER_BATCH` rows, one transaction each.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import xxhash

from azrender import settings
from azrender.closing import Closes

BLOCK_SIZE = 1 << 20  # 1 MiB: large enough for throughput, small enough for memory
#: Rows a deferred cache holds before writing them in one transaction: a killed
#: run loses at most this many hashes (the cache is only an accelerator).
DEFER_BATCH = 512
#: Paths per query in :meth:`HashCache.lookup_many` (SQLite allows 32,766 parameters).
LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class IndexEntry:
    """What a file's content is: its xxh3-128 hash, size, and the mtime it had when hashed."""

    hash: str
    size: int
    mtime_ns: int

    def to_json(self) -> dict[str, object]:
        return {"hash": self.hash, "size": self.size, "mtime_ns": self.mtime_ns}

    @classmethod
    def from_json(cls, data: object) -> IndexEntry:
        """Parse one entry; raises ``ValueError`` on anything malformed."""
        if not isinstance(data, dict):
            raise ValueError(f"index entry is not an object: {data!r}")
        h, size, mtime = data.get("hash"), data.get("size"), data.get("mtime_ns", 0)
        if not isinstance(h, str) or not isinstance(size, int) or not isinstance(mtime, int):
            raise ValueError(f"malformed index entry: {data!r}")
        return cls(hash=h, size=size, mtime_ns=mtime)


def hash_bytes(data: bytes) -> str:
    """xxh3-128 hex digest of ``data``."""
    return xxhash.xxh3_128_hexdigest(data)


def hash_file(path: Path | str) -> str:
    """xxh3-128 hex digest of a file, read in 1 MiB blocks (constant memory)."""
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while block := f.read(BLOCK_SIZE):
            hasher.update(block)
    return hasher.hexdigest()


def read_and_hash(path: Path | str) -> tuple[bytes, str]:
    """The whole content of a (small) file and its xxh3-128 digest, from one read.

    An uploader that keeps these bytes sends exactly what was hashed, without
    reading the file a second time.
    """
    with open(path, "rb") as f:
        data = f.read()
    return data, hash_bytes(data)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL
)
"""


class HashCache(Closes):
    """``(absolute path, size, mtime_ns) -> hash`` in an SQLite file; safe to share between threads.

    The cache is only an accelerator: a corrupt or unreadable file is deleted
    and recreated, and if even that fails the cache degrades to hashing every
    time rather than failing an upload.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else settings.cache_dir() / "hashes.sqlite"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._conn = self._open()
        # key -> (size, mtime_ns, hash) not yet written; only used while deferred.
        self._pending: dict[str, tuple[int, int, str]] = {}
        self._defer_depth = 0

    def _open(self) -> sqlite3.Connection | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None  # an unusable cache folder: hash every time (the journal says why)
        for attempt in range(2):
            conn: sqlite3.Connection | None = None
            try:
                # One connection shared by the worker threads, serialised by self._lock.
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
                conn.execute("SELECT count(*) FROM hashes").fetchone()
                conn.commit()
                return conn
            except sqlite3.DatabaseError:
                if conn is not None:
                    conn.close()
                if attempt == 0:
                    self._delete_files()
        return None

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.remove(f"{self.path}{suffix}")

    def lookup(self, path: Path | str, size: int, mtime_ns: int) -> str | None:
        """The cached hash of ``path`` if it was hashed at exactly this size and mtime."""
        key = _key(path)
        with self._lock:
            if self._conn is None:
                return None
            held = self._pending.get(key)
            if held is not None:
                return held[2] if held[:2] == (size, mtime_ns) else None
            try:
                row = self._conn.execute(
                    "SELECT hash FROM hashes WHERE path=? AND size=? AND mtime_ns=?",
                    (key, size, mtime_ns),
                ).fetchone()
            except sqlite3.DatabaseError:
                return None
        return str(row[0]) if row else None

    def lookup_many(self, files: Sequence[tuple[Path | str, int, int]]) -> list[str | None]:
        """:meth:`lookup` for many ``(path, size, mtime_ns)`` at once, in a few queries.

        A no-change submit of tens of thousands of files asks for all of them;
        one ``IN (...)`` query per :data:`LOOKUP_CHUNK` paths instead of one
        query (and one lock round) per file.
        """
        keys = [_key(path) for path, _, _ in files]
        found: dict[str, tuple[int, int, str]] = {}
        with self._lock:
            if self._conn is None:
                return [None] * len(files)
            try:
                for i in range(0, len(keys), LOOKUP_CHUNK):
                    chunk = keys[i : i + LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self._conn.execute(
                        f"SELECT path, size, mtime_ns, hash FROM hashes WHERE path IN ({marks})",
                        chunk,
                    )
                    for path, size, mtime, digest in rows:
                        found[str(path)] = (int(size), int(mtime), str(digest))
            except sqlite3.DatabaseError:
                found.clear()
            found.update(self._pending)
        out: list[str | None] = []
        for key, (_, size, mtime) in zip(keys, files, strict=True):
            row = found.get(key)
            out.append(row[2] if row is not None and row[:2] == (size, mtime) else None)
        return out

    def store(self, path: Path | str, size: int, mtime_ns: int, digest: str) -> None:
        """Remember ``digest`` for ``path`` at this size and mtime (at once, or batched when deferred)."""
        key = _key(path)
        with self._lock:
            if self._conn is None:
                return
            self._pending[key] = (size, mtime_ns, digest)
            if self._defer_depth == 0 or len(self._pending) >= DEFER_BATCH:
                self._write_pending()

    def _write_pending(self) -> None:
        """Write the held rows in one transaction; the caller holds ``self._lock``."""
        if self._conn is None or not self._pending:
            return
        rows = [(k, size, mtime, h) for k, (size, mtime, h) in self._pending.items()]
        self._pending.clear()
        try:
            with self._conn:  # one transaction, committed (or rolled back) as a whole
                self._conn.executemany(
                    "INSERT OR REPLACE INTO hashes(path, size, mtime_ns, hash) VALUES (?,?,?,?)",
                    rows,
                )
        except sqlite3.DatabaseError:
            pass  # an accelerator that cannot write just stops accelerating

    @contextlib.contextmanager
    def deferred(self) -> Iterator[HashCache]:
        """Batch :meth:`store` calls made inside the block; everything is written on exit."""
        with self._lock:
            self._defer_depth += 1
        try:
            yield self
        finally:
            with self._lock:
                self._defer_depth -= 1
                if self._defer_depth == 0:
                    self._write_pending()

    def entry(self, path: Path | str) -> IndexEntry:
        """Hash ``path`` through the cache. Raises ``OSError`` if the file is gone."""
        return file_entry(path, self)

    def close(self) -> None:
        with self._lock:
            self._write_pending()
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _key(path: Path | str) -> str:
    if isinstance(path, Path) and path.is_absolute():
        return str(path)  # the common case, without building a new Path
    return str(Path(path).absolute())


def file_entry(path: Path | str, cache: HashCache | None = None) -> IndexEntry:
    """Size, mtime and hash of ``path``, reading the file only on a cache miss.

    The file is stat'ed before and after hashing; if it changed while being
    read the hash is still returned (for the content read) but not cached.
    Raises ``OSError`` (usually ``FileNotFoundError``) if the file is gone.
    """
    return read_entry(path, cache)[0]


def read_entry(
    path: Path | str,
    cache: HashCache | None = None,
    *,
    keep_below: int = 0,
    lookup: bool = True,
) -> tuple[IndexEntry, bytes | None]:
    """Like :func:`file_entry`; a file under ``keep_below`` bytes that had to be read
    comes back with its bytes, so an upload can send them without reading again.

    The bytes are ``None`` on a cache hit (nothing was read) and for larger
    files (hashed in 1 MiB blocks, never held whole in memory). ``lookup=False``
    skips asking ``cache`` (the caller just did, in bulk) but still stores the hash.
    """
    before = os.stat(path)
    if cache is not None and lookup:
        cached = cache.lookup(path, before.st_size, before.st_mtime_ns)
        if cached is not None:
            return IndexEntry(cached, before.st_size, before.st_mtime_ns), None
    data: bytes | None = None
    if before.st_size < keep_below:
        data, digest = read_and_hash(path)
    else:
        digest = hash_file(path)
    after = os.stat(path)
    stable = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    if cache is not None and stable:
        cache.store(path, before.st_size, before.st_mtime_ns, digest)
    if data is not None and len(data) != before.st_size:
        # It changed between the stat and the read: describe the bytes we hold.
        return IndexEntry(digest, len(data), after.st_mtime_ns), data
    return IndexEntry(digest, before.st_size, before.st_mtime_ns), data
