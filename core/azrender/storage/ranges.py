"""Download one blob in verified ranges into a part file that survives an interruption.

::

    size, etag = fetch_resumable(client.get_blob_client("J/frames/0001.exr"), part, progress)

``part`` is written at fixed 4 MiB range offsets; ``<part>.json`` records the
blob's ETag and which ranges are complete. A later call with the same part
file asks only for the missing ranges, under an ``If-Match`` on that ETag, so
a blob replaced in between is fetched again from scratch rather than
stitched. Each range is at most 4 MiB so the service can send its MD5
(``validate_content``) and the SDK checks every byte that arrives. Each range
is retried on transient failures.

The caller renames ``part`` into place once this returns (and removes it on a
verification failure); :func:`discard` removes a part and its state.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError
from azure.storage.blob import BlobClient, ContainerClient

from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.parallel import run_parallel
from azrender.storage.rest import BlobRest
from azrender.storage.retry import with_retries

#: The largest range for which the service returns a Content-MD5.
RANGE_SIZE = 4 << 20


@dataclass
class PartState:
    etag: str
    size: int
    range_size: int
    done: set[int] = field(default_factory=set)

    def to_json(self) -> dict[str, object]:
        return {
            "etag": self.etag,
            "size": self.size,
            "range_size": self.range_size,
            "done": sorted(self.done),
        }

    @property
    def ranges(self) -> int:
        return max(1, -(-self.size // self.range_size))

    def length(self, i: int) -> int:
        return max(0, min(self.range_size, self.size - i * self.range_size))


def state_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def load_state(part: Path, range_size: int) -> PartState | None:
    """The recorded progress of ``part``, or None when there is none to trust."""
    try:
        doc = json.loads(state_path(part).read_text(encoding="utf-8"))
        state = PartState(
            etag=str(doc["etag"]),
            size=int(doc["size"]),
            range_size=int(doc["range_size"]),
            done={int(i) for i in doc["done"]},
        )
        if state.range_size != range_size or part.stat().st_size > state.size:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state


def _save_state(part: Path, state: PartState) -> None:
    path = state_path(part)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state.to_json()), encoding="utf-8")
    os.replace(tmp, path)


def _total_size(content_range: str | None, fallback: int) -> int:
    """The blob's size from a ranged answer (``bytes 0-4194303/8388608``).

    >>> _total_size("bytes 0-3/10", 4), _total_size(None, 0)
    (10, 0)
    """
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        if tail.isdigit():
            return int(tail)
    return fallback


def discard(part: Path) -> None:
    for p in (part, state_path(part)):
        with contextlib.suppress(OSError):
            p.unlink()


def fetch_resumable(
    blob: BlobClient,
    part: Path,
    *,
    progress: Progress = NO_PROGRESS,
    range_size: int = RANGE_SIZE,
    max_workers: int = 4,
) -> tuple[int, str]:
    """Complete ``part`` with the blob's bytes; returns (size, etag without quotes).

    After a failure ``part`` is kept only if it has recorded ranges to resume from.
    """
    return fetch_blob(
        _Source(blob.blob_name, None, lambda: blob), part, progress=progress,
        range_size=range_size, max_workers=max_workers,
    )


@dataclass
class _Source:
    """Where a blob's ranges come from: the first range of a fresh download through the
    lean REST path when there is one (for most files, the whole file), the others
    through the SDK's ``BlobClient``, made only when needed."""

    name: str
    rest: BlobRest | None
    make: Callable[[], BlobClient]
    _blob: BlobClient | None = None

    @property
    def blob(self) -> BlobClient:
        if self._blob is None:
            self._blob = self.make()
        return self._blob


def fetch_from(
    client: ContainerClient, name: str, part: Path, *, progress: Progress = NO_PROGRESS, max_workers: int = 4
) -> tuple[int, str]:
    """:func:`fetch_resumable` of blob ``name`` in ``client``'s container."""
    source = _Source(name, BlobRest.of(client), lambda: client.get_blob_client(name))
    return fetch_blob(source, part, progress=progress, max_workers=max_workers)


def fetch_blob(
    source: _Source, part: Path, *, progress: Progress, max_workers: int, range_size: int = RANGE_SIZE
) -> tuple[int, str]:
    try:
        return _fetch(source, part, progress, range_size, max_workers)
    except BaseException:
        if not state_path(part).exists():
            discard(part)
        raise


def _fetch(
    source: _Source, part: Path, progress: Progress, range_size: int, max_workers: int
) -> tuple[int, str]:
    state = load_state(part, range_size)
    if state is None:
        discard(part)
    lock = threading.Lock()
    with open(part, "r+b" if part.exists() else "w+b", buffering=0) as f:

        def write(offset: int, data: bytes | bytearray) -> None:
            # Straight to the OS (no Python buffer) before the range is recorded
            # as done: a SIGKILL right after the record must not lose its bytes.
            # (os.pwrite would spare the lock, but Windows has none.)
            view = memoryview(data)
            with lock:
                f.seek(offset)
                while view:
                    view = view[f.write(view) or 0 :]

        def get(offset: int, length: int, etag: str | None) -> tuple[bytes | bytearray, int, str]:
            if source.rest is not None and offset == 0 and etag is None:
                got = source.rest.get_range(source.name, 0, length, None)
                return got.data, got.total, got.etag
            blob = source.blob
            try:
                if etag is None:
                    downloader = blob.download_blob(
                        offset, length, validate_content=True, max_concurrency=1
                    )
                else:
                    downloader = blob.download_blob(
                        offset,
                        length,
                        validate_content=True,
                        max_concurrency=1,
                        etag=f'"{etag}"',
                        match_condition=MatchConditions.IfNotModified,
                    )
            except HttpResponseError as exc:
                if exc.status_code != 416 or offset != 0:
                    raise
                downloader = blob.download_blob()  # an empty blob has no range 0
            data = downloader.readall()
            props = downloader.properties
            return (
                data,
                _total_size(props.content_range, len(data)),
                str(props.etag or "").strip('"'),
            )

        if state is not None:
            first = min((i for i in range(state.ranges) if i not in state.done), default=None)
            if first is not None:
                known = state
                try:
                    data, _, _ = with_retries(
                        lambda: get(first * range_size, known.length(first), known.etag)
                    )
                    write(first * range_size, data)
                    state.done.add(first)
                except ResourceModifiedError:
                    state = None  # the blob changed since: start over
                    f.truncate(0)
            if state is not None:
                progress.advance(sum(state.length(i) for i in state.done))
        if state is None:
            data, size, etag = with_retries(lambda: get(0, range_size, None))
            state = PartState(etag=etag, size=size, range_size=range_size, done={0})
            write(0, data)
            progress.advance(len(data))
        current = state
        todo = [i for i in range(current.ranges) if i not in current.done]
        if todo:
            _save_state(part, current)

        def fetch(i: int) -> None:
            data, _, _ = with_retries(lambda: get(i * range_size, current.length(i), current.etag))
            if len(data) != current.length(i):
                raise OSError(f"range {i} of {source.name} came back short")
            write(i * range_size, data)
            with lock:
                current.done.add(i)
                _save_state(part, current)
            progress.advance(len(data))

        run_parallel(fetch, todo, max_workers=max_workers)
        f.truncate(current.size)
        os.fsync(f.fileno())
    with contextlib.suppress(OSError):
        state_path(part).unlink()
    return current.size, current.etag
