"""A decompressed stream kept for reading back: in memory while small, past that in a temporary file.

A gzip .blend (Blender before 3.0) or a zstd one without a seek table can
only be read front to back, and the reader reads blocks back afterwards, so
what the stream gives is kept. Most such files are small (the real ones in
the tests are 0.1-1 MB decompressed): they stay in memory, which spares a
scan the import of :mod:`tempfile` (it brings :mod:`shutil` and
:mod:`random`: ~2.5 ms of a small scan's ~45 ms here) and a file. Past
:data:`SPILL` bytes everything goes to an anonymous temporary file, so a
330 MB scene never sits in memory::

    spool = Spool()
    spool.write(b"BLENDER-v279...")
    spool.read_at(0, 7)  # b"BLENDER"
"""

from __future__ import annotations

import os
from typing import IO

#: Bytes kept in memory at most; beyond them the spool is a temporary file.
SPILL = 32 << 20


class Spool:
    """Bytes written front to back, read back anywhere (:meth:`read_at`); :meth:`close` frees them."""

    def __init__(self, spill: int | None = None) -> None:
        self.spill = SPILL if spill is None else spill
        self._memory = bytearray()
        self._file: IO[bytes] | None = None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def write(self, chunk: bytes) -> None:
        if self._file is None and len(self._memory) + len(chunk) <= self.spill:
            self._memory += chunk
            return
        if self._file is None:
            import tempfile  # only for a large stream

            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            self._file.write(self._memory)
            self._memory = bytearray()
        self._file.write(chunk)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset`` (fewer at the end)."""
        if self._file is None:
            return bytes(self._memory[offset : offset + size])
        return read_file_at(self._file, offset, size)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._memory = bytearray()


def read_file_at(file: IO[bytes], offset: int, size: int) -> bytes:
    """``size`` bytes from ``offset`` of an open file (fewer at its end), with ``pread`` where there is one."""
    if hasattr(os, "pread"):
        return os.pread(file.fileno(), size, offset)
    file.seek(offset)  # Windows has no pread
    return file.read(size)
