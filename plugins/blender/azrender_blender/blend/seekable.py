"""A zstd file with a seek table, read frame by frame: any byte range decompressed without the frames before it.

Blender 3.0 and later compress a .blend as independent zstd frames of about
2 MiB each and append a seek table (``ZstdWriteWrap`` in
``source/blender/blenloader/intern/writefile.cc``; a 10,000-image scene
saved by bpy 5.0 has 160 frames and the table), in the zstd *seekable format*
(``contrib/seekable_format/zstd_seekable_compression_format.md`` in
facebook/zstd): a skippable frame, magic ``0x184D2A5E`` and its size, then
one entry per frame (compressed size, decompressed size, each a 4-byte
little-endian integer, plus a 4-byte checksum when bit 7 of the descriptor is
set), then a 9-byte footer (number of frames, descriptor, magic
``0x8F92EAB1``). Blender's own reader seeks the same way (``ZstdReader`` in
``source/blender/blenlib/intern/filereader_zstd.cc``).

A table that does not add up to the file's size is ignored: the caller then
streams the file as one.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

from .errors import BlendError

_SEEK_TABLE_MAGIC = 0x184D2A5E
_SEEKABLE_MAGIC = 0x8F92EAB1
_FOOTER = struct.Struct("<IBI")  # number of frames, descriptor, magic
_KEPT = 4  # frames kept decompressed for read-back: blocks are mostly asked for in file order
_AHEAD_FROM = 8  # frames (~16 MiB decompressed) from which the pass decompresses on threads of its own
# Those threads: a frame is read about as fast as two decompress theirs, but on a 2-CPU machine a second
# worker only takes CPU from the pass (measured: no faster), so one CPU is always left to the pass.
_WORKERS = max(1, min(2, (os.cpu_count() or 1) - 1))


class Frames:
    """The frames of one seekable zstd file: :meth:`__iter__` decompresses them in order, :meth:`read` any range."""

    def __init__(self, path: Path, raw: bytes, compressed: list[int], sizes: list[int]) -> None:
        import zstandard

        self.path = path
        self._raw = raw
        self._starts = list(accumulate(compressed, initial=0))  # where each frame is in the file
        self._sizes = sizes
        self._offsets = list(accumulate(sizes, initial=0))  # where each frame is in the decompressed file
        self._decompressor: Any = zstandard.ZstdDecompressor()
        self._error: type[Exception] = zstandard.ZstdError
        self._kept: dict[int, bytes] = {}
        self._last: tuple[int, int, bytes] = (0, 0, b"")  # where the frame of the last read starts and ends, its bytes

    @property
    def size(self) -> int:
        """The decompressed file's size."""
        return self._offsets[-1]

    def frame(self, index: int) -> bytes:
        """Frame ``index`` decompressed (the last few kept)."""
        data = self._kept.get(index)
        if data is None:
            data = self._keep(index, self._decompress(self._decompressor, index))
        return data

    def _decompress(self, decompressor: Any, index: int) -> bytes:
        start, size = self._starts[index], self._sizes[index]
        try:
            data: bytes = decompressor.decompress(self._raw[start : self._starts[index + 1]], max_output_size=size)
        except self._error as exc:
            raise BlendError(self.path, f"ZstdError: {exc}") from exc
        if len(data) != size:
            raise BlendError(self.path, f"zstd frame {index} holds {len(data)} bytes, its seek table says {size}")
        return data

    def _keep(self, index: int, data: bytes) -> bytes:
        if len(self._kept) >= _KEPT:
            del self._kept[next(iter(self._kept))]  # the oldest
        self._kept[index] = data
        return data

    def __iter__(self) -> Iterator[bytes]:
        """Every frame in order; in a large file each is decompressed on a thread while the one before is read."""
        if len(self._sizes) < _AHEAD_FROM:
            return (self.frame(i) for i in range(len(self._sizes)))
        return self._ahead()

    def _ahead(self) -> Iterator[bytes]:
        """The frames decompressed by :data:`_WORKERS` threads (frame ``i`` by worker ``i % _WORKERS``), one ahead each.

        zstandard's C backend lets go of the GIL while it decompresses
        (``Py_BEGIN_ALLOW_THREADS`` around ``ZSTD_decompressDCtx`` in
        ``Decompressor_decompress``, python-zstandard's ``c-ext/decompressor.c``),
        so the header pass (Python, holding the GIL) and the next frames'
        decompression run at the same time. Each worker has a decompressor of
        its own (python-zstandard documents its objects as not thread-safe)
        and stops when the reader does, having read to the end or not.
        """
        import queue
        import threading

        import zstandard

        count = len(self._sizes)
        ready: list[queue.Queue[bytes | BaseException]] = [queue.Queue(maxsize=1) for _ in range(_WORKERS)]
        stop = threading.Event()

        def work(first: int) -> None:
            decompressor = zstandard.ZstdDecompressor()
            for index in range(first, count, _WORKERS):
                try:
                    item: bytes | BaseException = self._decompress(decompressor, index)
                except BaseException as exc:  # handed to the reader, raised there
                    item = exc
                while not stop.is_set():
                    try:
                        ready[first].put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set() or isinstance(item, BaseException):
                    return

        workers = [threading.Thread(target=work, args=(first,), name=f"azrender zstd {first} {self.path.name}",
                                    daemon=True) for first in range(_WORKERS)]  # fmt: skip
        for worker in workers:
            worker.start()
        try:
            for index in range(count):
                item = ready[index % _WORKERS].get()
                if isinstance(item, BaseException):
                    raise item
                yield self._keep(index, item)
        finally:
            stop.set()
            for worker in workers:
                worker.join()

    def read(self, offset: int, size: int) -> bytes:
        """``size`` decompressed bytes from ``offset`` (fewer at the end)."""
        start, end, data = self._last
        if start <= offset and offset + size <= end:  # in the frame the last read was in, as most reads are
            return data[offset - start : offset - start + size]
        index = bisect_right(self._offsets, offset) - 1
        if index >= len(self._sizes) or size <= 0:
            return b""
        data = self.frame(index)
        start = self._offsets[index]
        self._last = (start, start + len(data), data)
        at = offset - start
        if at + size <= len(data):
            return data[at : at + size]
        parts, want = [data[at:]], size - (len(data) - at)
        while want > 0 and (index := index + 1) < len(self._sizes):
            part = self.frame(index)[:want]
            parts.append(part)
            want -= len(part)
        return b"".join(parts)


def open_frames(path: Path, raw: bytes) -> Frames | None:
    """The frames of ``raw`` (the whole compressed file) by its seek table; None when it has none that fits."""
    if len(raw) < _FOOTER.size + 8:
        return None
    count, descriptor, magic = _FOOTER.unpack_from(raw, len(raw) - _FOOTER.size)
    entry = 12 if descriptor & 0x80 else 8
    table = 8 + count * entry + _FOOTER.size  # the skippable frame: magic, size, entries, footer
    if magic != _SEEKABLE_MAGIC or descriptor & 0x7C or count == 0 or table > len(raw):
        return None
    magic, frame_size = struct.unpack_from("<II", raw, len(raw) - table)
    if magic != _SEEK_TABLE_MAGIC or frame_size != table - 8:
        return None
    entries = struct.unpack_from(f"<{count * entry // 4}I", raw, len(raw) - table + 8)
    step = entry // 4
    compressed, sizes = list(entries[0::step]), list(entries[1::step])
    if sum(compressed) + table != len(raw):
        return None
    return Frames(path, raw, compressed, sizes)
