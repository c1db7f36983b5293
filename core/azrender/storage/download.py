"""Download a blob prefix to a folder, again and again, moving only what changed.

::

    summary = download_prefix(outputs, "shot010-v3/", Path("renders/shot010"))
    summary.to_json()   # {"files": 240, "downloaded_files": 12, "downloaded_bytes": ..., ...}

``dest/.azrender-download.json`` remembers each blob's ETag and size; a file
that still has that size and whose blob still has that ETag is skipped. Every
file is written to a temporary file beside it and renamed into place, so an
interrupted download never leaves a half-written frame under the real name.
Blob names that would land outside ``dest`` (``..``, absolute) are refused.

Each file is also appended to ``dest/.azrender-download.jsonl`` the moment it
is in place (fsync'd every :data:`JOURNAL_SYNC_EVERY` files), so a download
killed with SIGKILL is followed by one that fetches only what was missing:
finished files from the journal, half-fetched ones from their part files (see
:mod:`azrender.storage.ranges`). A normal end folds the journal into the record.

A full, read-only or impossible ``dest`` is one line naming it (see
:mod:`azrender.storage.localdisk`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from azure.storage.blob import ContainerClient

from azrender.errors import JobError, StorageError
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import storage_errors
from azrender.storage.hashing import hash_file
from azrender.storage.journal import JsonLines
from azrender.storage.localdisk import check_folder, local_disk_errors
from azrender.storage.parallel import run_parallel
from azrender.storage.ranges import discard, fetch_from
from azrender.storage.rest import BlobRest, Listed
from azrender.storage.retry import with_retries

RECORD_NAME = ".azrender-download.json"
JOURNAL_NAME = ".azrender-download.jsonl"
#: Finished files between two fsyncs of the journal: SIGKILL loses none of them
#: (each line is written to the OS at once), a power cut at most this many.
JOURNAL_SYNC_EVERY = 32
#: How the disk-error hints of a download end (see azrender.storage.localdisk).
DEST_OTHER = "another --dest"
DEST_NOTE = "what finished is kept and not fetched again"
TEMP_SUFFIX = ".azrender-part"
# Ranges of one blob fetched in parallel.
_RANGE_THREADS = 4


@dataclass
class DownloadSummary:
    files: int
    downloaded_files: int
    downloaded_bytes: int
    skipped_files: int

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def normalize_etag(etag: str | None) -> str:
    """An ETag as compared here: the listing gives ``0x8D..``, headers give ``"0x8D.."``.

    >>> normalize_etag('"0x8D1"') == normalize_etag("0x8D1")
    True
    """
    return (etag or "").removeprefix("W/").strip('"')


def safe_relative(name: str) -> PurePosixPath:
    """``name`` as a relative path that cannot leave the folder it is joined to.

    >>> safe_relative("frames//0001.png")
    PurePosixPath('frames/0001.png')
    >>> safe_relative("../etc/passwd")
    Traceback (most recent call last):
    ...
    azrender.errors.StorageError: refusing blob name '../etc/passwd': it would be written outside the destination folder
    """
    # Backslashes are separators on Windows nodes: treat them as such everywhere.
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    bad = (
        not parts
        or name.startswith(("/", "\\"))
        or any(p == ".." for p in parts)
        or (len(parts[0]) == 2 and parts[0][1] == ":")  # C: drive
    )
    if bad:
        raise StorageError(
            f"refusing blob name {name!r}: it would be written outside the destination folder"
        )
    return PurePosixPath(*parts)


def safe_join(dest: Path, name: str) -> Path:
    return dest.joinpath(*safe_relative(name).parts)


def part_path(target: Path) -> Path:
    """Where ``target`` is assembled before it is renamed into place (hidden, same folder)."""
    return target.parent / f".{target.name}{TEMP_SUFFIX}"


@contextlib.contextmanager
def _claimed_part(target: Path) -> Iterator[Path]:
    """The resumable part file of ``target``, or a private one if another process holds it.

    Two preparation tasks on one node may fetch the same asset at once; only one
    may write the shared part file (POSIX advisory lock). Where no lock is
    available the other one downloads into a unique temp file instead.
    """
    part = part_path(target)
    lock_path = part.with_name(part.name + ".lock")
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; resumable for a single writer
        yield part
        return
    with open(lock_path, "a+b") as lock_file:
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fd, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX
            )
            os.close(fd)
            os.unlink(name)
            try:
                yield Path(name)
            finally:
                discard(Path(name))
            return
        try:
            yield part
        finally:
            with contextlib.suppress(OSError):
                lock_path.unlink()


def download_to(
    client: ContainerClient,
    blob: str,
    target: Path,
    *,
    expected_hash: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> tuple[int, str]:
    """Download ``blob`` to ``target`` atomically and resumably; returns (bytes, etag).

    The bytes go to a hidden part file in the target's folder (same file
    system, so the final ``os.replace`` is atomic), in MD5-checked ranges (see
    :mod:`azrender.storage.ranges`). If the download is interrupted the part
    file stays, and the next call fetches only the missing ranges. With
    ``expected_hash`` the part file is hashed first and a mismatch raises
    :class:`StorageError`, leaving nothing behind.
    """
    with local_disk_errors("downloading", target.parent, other=DEST_OTHER, note=DEST_NOTE):
        return _download_to(client, blob, target, expected_hash, progress)


def _download_to(
    client: ContainerClient,
    blob: str,
    target: Path,
    expected_hash: str | None,
    progress: Progress,
) -> tuple[int, str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _claimed_part(target) as part:
        with storage_errors("downloading", client=client, blob=blob):
            size, etag = fetch_from(client, blob, part, progress=progress, max_workers=_RANGE_THREADS)
        if expected_hash is not None:
            actual = hash_file(part)
            if actual != expected_hash:
                discard(part)
                raise StorageError(
                    f"blob {blob!r} does not match the job manifest "
                    f"(xxh3 {actual}, expected {expected_hash})",
                    hint="the blob was changed after the job was submitted; submit the job again",
                )
        os.replace(part, target)
    return size, normalize_etag(etag)


def journal_for(dest: Path) -> JsonLines:
    """The journal of finished files in ``dest``."""
    return JsonLines(dest / JOURNAL_NAME, sync_every=JOURNAL_SYNC_EVERY, other=DEST_OTHER, note=DEST_NOTE)


def load_progress(dest: Path) -> dict[str, dict[str, object]]:
    """The record of ``dest`` with the journal of a run that never finished laid over it."""
    record = load_record(dest / RECORD_NAME)
    for doc in journal_for(dest).read():
        name, etag, size = doc.get("blob"), doc.get("etag"), doc.get("size")
        if isinstance(name, str) and isinstance(etag, str) and isinstance(size, int):
            record[name] = {"etag": etag, "size": size}
    return record


def load_record(path: Path) -> dict[str, dict[str, object]]:
    """A JSON object of objects from ``path``; anything missing or unreadable is empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def save_record(path: Path, record: dict[str, dict[str, object]]) -> None:
    """Write ``record`` as JSON atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _listing(client: ContainerClient, prefix: str | None) -> list[Listed]:
    """The blobs under ``prefix``: through the lean REST path where it serves ``client``."""
    rest = BlobRest.of(client)
    if rest is not None:
        return rest.list_blobs(prefix)
    return [
        Listed(b.name, b.size, normalize_etag(b.etag))
        for b in client.list_blobs(name_starts_with=prefix)
    ]


def _is_current(target: Path, blob: Listed, known: dict[str, object] | None) -> bool:
    if known is None or known.get("size") != blob.size:
        return False
    if known.get("etag") != normalize_etag(blob.etag):
        return False
    try:
        return target.stat().st_size == blob.size
    except OSError:
        return False


def download_prefix(
    client: ContainerClient,
    prefix: str,
    dest: Path,
    *,
    progress: Progress = NO_PROGRESS,
    max_workers: int = 8,
    missing: str | None = None,
) -> DownloadSummary:
    """Mirror every blob under ``prefix`` into ``dest`` (``prefix`` is a folder: ``a`` means ``a/``).

    With ``missing`` (what the prefix stands for, e.g. ``"job 'shot010'"``) an
    empty prefix is an error rather than nothing to do; ``dest`` is then not created.
    """
    check_folder(dest, "--dest")
    folder = prefix.strip("/")
    start = f"{folder}/" if folder else ""
    with storage_errors("listing blobs", client=client, blob=start or None):
        # The whole listing again on a cut answer: its pages are not resumable here.
        blobs = [
            b
            for b in with_retries(lambda: _listing(client, start or None))
            if not b.name.endswith("/")  # folder markers from hierarchical tools
        ]
    if not blobs and missing is not None:
        raise JobError(
            f"{missing} has nothing to download in container {client.container_name!r}",
            hint="check the job id (`azrender jobs` lists them); outputs appear as its tasks finish",
        )
    plan: list[tuple[Listed, Path]] = []
    for b in blobs:
        rel = b.name[len(start) :]
        if safe_relative(rel).parts in ((RECORD_NAME,), (JOURNAL_NAME,)):
            raise StorageError(f"refusing blob name {b.name!r}: it collides with azrender's record")
        plan.append((b, safe_join(dest, rel)))

    record_path = dest / RECORD_NAME
    record = load_progress(dest)
    todo = [(b, t) for b, t in plan if not _is_current(t, b, record.get(b.name))]
    total = sum(b.size for b, _ in todo)
    lock = threading.Lock()
    journal = journal_for(dest)

    def fetch(job: tuple[Listed, Path]) -> int:
        blob, target = job
        size, etag = download_to(client, blob.name, target, progress=progress)
        journal.append({"blob": blob.name, "etag": etag, "size": size})
        with lock:
            record[blob.name] = {"etag": etag, "size": size}
        return size

    progress.begin("download", total=total, unit="B")
    with local_disk_errors("downloading", dest, other=DEST_OTHER, note=DEST_NOTE):
        try:
            sizes = run_parallel(fetch, todo, max_workers=max_workers)
        finally:
            progress.end()
            journal.close()
            # Saved after a failure too: finished files are not fetched again.
            if todo:
                with contextlib.suppress(OSError):
                    save_record(record_path, record)
                    journal.clear()
    return DownloadSummary(
        files=len(plan),
        downloaded_files=len(todo),
        downloaded_bytes=sum(sizes),
        skipped_files=len(plan) - len(todo),
    )
