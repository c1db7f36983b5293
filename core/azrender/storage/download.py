"""Download a blob prefix to a folder, again and again, moving only what changed.

::

    summary = download_prefix(outputs, "shot010-v3/", Path("renders/shot010"))
    summary.to_json()   # {"files": 240, "downloaded_files": 12, "downloaded_bytes": ..., ...}

``dest/.azrender-download.json`` remembers each blob's ETag and size; a file
that still has that size and whose blob still has that ETag is skipped. Every
file is written to a temporary file beside it and renamed into place, so an
interrupted download never leaves a half-written frame under the real name.
Blob names that would land outside ``dest`` (``..``, absolute) are refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from azure.storage.blob import BlobProperties, ContainerClient

from azrender.errors import StorageError
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import storage_errors
from azrender.storage.hashing import hash_file
from azrender.storage.parallel import run_parallel
from azrender.storage.ranges import discard, fetch_resumable

RECORD_NAME = ".azrender-download.json"
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
        return {
            "files": self.files,
            "downloaded_files": self.downloaded_files,
            "downloaded_bytes": self.downloaded_bytes,
            "skipped_files": self.skipped_files,
        }


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
    target.parent.mkdir(parents=True, exist_ok=True)
    with _claimed_part(target) as part:
        with storage_errors("downloading", client=client, blob=blob):
            size, etag = fetch_resumable(
                client.get_blob_client(blob), part, progress=progress, max_workers=_RANGE_THREADS
            )
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


def _is_current(target: Path, blob: BlobProperties, known: dict[str, object] | None) -> bool:
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
) -> DownloadSummary:
    """Mirror every blob under ``prefix`` into ``dest`` (``prefix`` is a folder: ``a`` means ``a/``)."""
    folder = prefix.strip("/")
    start = f"{folder}/" if folder else ""
    with storage_errors("listing blobs", client=client, blob=start or None):
        blobs = [
            b
            for b in client.list_blobs(name_starts_with=start or None)
            if not b.name.endswith("/")  # folder markers from hierarchical tools
        ]
    plan: list[tuple[BlobProperties, Path]] = []
    for b in blobs:
        rel = b.name[len(start) :]
        if safe_relative(rel).parts == (RECORD_NAME,):
            raise StorageError(f"refusing blob name {b.name!r}: it collides with {RECORD_NAME}")
        plan.append((b, safe_join(dest, rel)))

    record_path = dest / RECORD_NAME
    record = load_record(record_path)
    todo = [(b, t) for b, t in plan if not _is_current(t, b, record.get(b.name))]
    total = sum(b.size for b, _ in todo)
    lock = threading.Lock()

    def fetch(job: tuple[BlobProperties, Path]) -> int:
        blob, target = job
        size, etag = download_to(client, blob.name, target, progress=progress)
        with lock:
            record[blob.name] = {"etag": etag, "size": size}
        return size

    progress.begin("download", total=total, unit="B")
    try:
        sizes = run_parallel(fetch, todo, max_workers=max_workers)
    finally:
        progress.end()
        # Saved after a failure too: finished files are not fetched again.
        if todo:
            save_record(record_path, record)
    return DownloadSummary(
        files=len(plan),
        downloaded_files=len(todo),
        downloaded_bytes=sum(sizes),
        skipped_files=len(plan) - len(todo),
    )
