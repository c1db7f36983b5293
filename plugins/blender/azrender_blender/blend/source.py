"""The bytes of a .blend file and its header: read in 1 MiB chunks once, then read back where a block is asked for.

A .blend starts with ``BLENDER``; a file saved with *Compress* is a gzip
stream (Blender before 3.0) or zstd frames (3.0 on; Blender writes several
frames and a seek table, ``ZstdWriteWrap`` in
``source/blender/blenlib/intern/filereader_zstd.cc``) around those bytes. The
magic numbers are blender-asset-tracer's (``blendfile/magic_compression.py``:
gzip ``1f 8b``, zstd ``28 b5 2f fd`` or a skippable frame ``5? 2a 4d 18``).

The reader goes through the file once, front to back (block headers are read
as it passes), then reads back only the blocks it is asked for, and memory
never holds the whole decompressed file (a 10,000-material scene is 13 MB of
zstd and 330 MB decompressed):

* a plain file is read in 8 MiB chunks for the pass and with ``pread`` for each
  block: not ``mmap``-ed, because a mapped file that shrinks (another program
  truncating it in place) or a network share that fails turns the next read
  of the mapping into ``SIGBUS``, which kills the process, and a scan runs
  inside the artist's Blender; a short read is an error this reader names;
* a zstd file with the seek table Blender writes is held compressed in
  memory (the zstd *seekable format*,
  ``contrib/seekable_format/zstd_seekable_compression_format.md`` in
  facebook/zstd: a skippable frame ``5e 2a 4d 18`` holding each frame's
  compressed and decompressed size, ending in ``b1 ea 92 8f``) is read frame
  by frame, and a block is read back by decompressing the frame(s) it is in
  again (a few frames kept): no copy of the decompressed file anywhere;
* gzip, and zstd without a seek table, are decompressed once, in 1 MiB chunks,
  and kept for blocks to be read back from: in memory up to 32 MiB, past
  that in an anonymous temporary file (:mod:`.spool`).

The header (``BLO_readfile_blender_header_decode`` in
``source/blender/blenloader_core/intern/blo_core_blend_header.cc``, and
BAT's ``blendfile/header.py``) is either the legacy 12 bytes
``BLENDER-v279`` (byte 7 ``-``/``_``: 8/4-byte pointers, byte 8 ``v``/``V``:
little/big endian, bytes 9-11 the version) or, from Blender 5.0, the 17 bytes
``BLENDER17-01v0500`` (bytes 7-8 the header size, byte 9 ``-``, bytes 10-11
the file format version, ``01``, byte 12 ``v``, bytes 13-16 the version).
Block headers (``BLO_core_bhead.hh``) are ``BHead4`` (code, len, old, SDNAnr,
nr: 4s i I i i), ``SmallBHead8`` (4s i Q i i) for the legacy header and
``LargeBHead8`` (code, SDNAnr, old, len, nr: 4s i Q q q) for format version 1.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from .errors import BlendError, NewerHeader
from .seekable import Frames, open_frames
from .spool import Spool, read_file_at

MAGIC = b"BLENDER"
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE, _ZSTD_SKIPPABLE_MASK = 0x184D2A50, 0xFFFFFFF0  # little-endian magic, last nibble free
CHUNK = 1 << 20
PLAIN_CHUNK = 8 << 20  # a plain file's pass: fewer, larger reads (each is copied once at its edge)


@dataclass(frozen=True)
class Header:
    """What the first bytes say about the rest of the file."""

    version: int  # BLENDER_FILE_VERSION of the Blender that wrote it: 279, 405, 503
    pointer_size: int
    little_endian: bool
    size: int  # 12 or 17 bytes
    bhead: struct.Struct  # one block header
    large_bhead: bool  # LargeBHead8: SDNAnr before old, len and nr 64-bit

    @property
    def endian(self) -> str:
        return "<" if self.little_endian else ">"

    def fields(self, raw: tuple[bytes, int, int, int, int]) -> tuple[bytes, int, int, int, int]:
        """A block header's (code, SDNAnr, old address, length, count), whatever its layout."""
        code, a, old, b, count = raw
        return (code.split(b"\0", 1)[0], a, old, b, count) if self.large_bhead else \
            (code.split(b"\0", 1)[0], b, old, a, count)  # fmt: skip


def decode_header(data: bytes, path: Path) -> Header:
    """The header at the start of ``data`` (the decompressed file)."""
    if data[:7] != MAGIC:
        raise BlendError(path, f"invalid first bytes {data[:7]!r}")
    if data[7:8] in (b"_", b"-"):
        pointer_size = 4 if data[7:8] == b"_" else 8
        if data[8:9] not in (b"v", b"V"):
            raise BlendError(path, f"invalid endian indicator {data[8:9]!r}")
        little = data[8:9] == b"v"
        version = _digits(data[9:12], path)
        end = "<" if little else ">"
        bhead = struct.Struct(end + ("4siIii" if pointer_size == 4 else "4siQii"))
        return Header(version, pointer_size, little, 12, bhead, large_bhead=False)
    header_size = _digits(data[7:9], path)
    if header_size != 17:
        raise NewerHeader(path, f"unknown file header size {header_size}")
    if data[9:10] != b"-":
        raise BlendError(path, "invalid file header")
    format_version = _digits(data[10:12], path)
    if format_version != 1:
        raise NewerHeader(path, f"unsupported file format version {format_version}")
    if data[12:13] != b"v":
        raise BlendError(path, "invalid file header")
    version = _digits(data[13:17], path)
    return Header(version, 8, True, 17, struct.Struct("<4siQqq"), large_bhead=True)


def _digits(raw: bytes, path: Path) -> int:
    if not raw.isdigit():
        raise BlendError(path, f"invalid file header {raw!r}")
    return int(raw)


class Source:
    """One .blend's decompressed bytes: :meth:`chunks` once, front to back, then :meth:`read_at` anywhere."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stream: IO[bytes] | None = None
        self._spool: Spool | None = None
        self._frames: Frames | None = None
        self._plain: IO[bytes] | None = None
        self._packed = b""  # a zstd file's compressed bytes
        raw = path.open("rb")
        try:
            magic = raw.read(len(MAGIC))
            self.compressed = magic[:7] != MAGIC
            if not self.compressed:  # read where asked, from this file
                self._plain = raw
            elif magic[:4] == _ZSTD or _skippable(magic):
                # The compressed bytes (13 MB at 10,000 images), for their seek table and frames.
                raw.seek(0)
                self._packed = raw.read()
        finally:
            if self._plain is not raw:
                raw.close()
        try:
            self._open(magic)
        except BaseException:
            self.close()
            raise

    def _open(self, magic: bytes) -> None:
        path = self.path
        if magic[:2] == _GZIP:
            import gzip  # here: most scenes are plain or zstd, and a scan's start counts

            self._stream = cast("IO[bytes]", gzip.GzipFile(filename=path, mode="rb"))
        elif magic[:4] == _ZSTD or _skippable(magic):
            _zstandard(path)
            self._frames = open_frames(path, self._packed)
            if self._frames is None:
                self._packed = b""
                self._stream = _zstd_reader(path)
        elif self.compressed:
            raise BlendError(path, "File is not a blend file")
        if self._stream is not None:
            self._spool = Spool()  # what the stream gives, kept to read blocks back

    @property
    def size(self) -> int | None:
        """The decompressed file's size where it is known before reading it (a plain file, a seekable zstd one)."""
        if self._plain is not None:
            return os.fstat(self._plain.fileno()).st_size
        if self._frames is not None:
            return self._frames.size
        return None

    def chunks(self) -> Generator[bytes, None, None]:
        """The decompressed file, front to back: 8 MiB of a plain file, a frame or 1 MiB at a time."""
        if self._plain is not None:
            self._plain.seek(0)
            while chunk := self._plain.read(PLAIN_CHUNK):
                yield chunk
            return
        try:
            if self._frames is not None:
                for index, frame in enumerate(self._frames):
                    if index == 0 and frame[: len(MAGIC)] != MAGIC:
                        raise BlendError(self.path, "Compressed file is not a blend file")
                    yield frame
                return
            yield from self._streamed()
        except Exception as exc:
            if type(exc).__name__ == "ZstdError":  # zstandard's, a plain Exception: name the file
                raise BlendError(self.path, f"ZstdError: {exc}") from exc
            raise

    def _streamed(self) -> Iterator[bytes]:
        assert self._stream is not None and self._spool is not None
        first = True
        with self._stream as stream:
            while chunk := stream.read(CHUNK):
                if first and chunk[: len(MAGIC)] != MAGIC:
                    raise BlendError(self.path, "Compressed file is not a blend file")
                first = False
                self._spool.write(chunk)
                yield chunk
        self._spool.flush()

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset`` of the decompressed file (fewer at its end)."""
        return self.reader()(offset, size)

    def reader(self) -> Callable[[int, int], bytes]:
        """:meth:`read_at` without the dispatch, for a caller that reads thousands of blocks."""
        if self._frames is not None:
            return self._frames.read
        if self._spool is not None:
            return self._spool.read_at
        assert self._plain is not None
        return functools.partial(read_file_at, self._plain)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._spool is not None:
            self._spool.close()
        if self._plain is not None:
            self._plain.close()


def _skippable(magic: bytes) -> bool:
    return len(magic) >= 4 and int.from_bytes(magic[:4], "little") & _ZSTD_SKIPPABLE_MASK == _ZSTD_SKIPPABLE


def _zstandard(path: Path) -> None:
    """Refuse a zstd file when this Python has no ``zstandard`` module."""
    try:
        import zstandard  # noqa: F401
    except ImportError:
        # The wording BAT uses; the scanner's message turns it into an install hint.
        raise BlendError(
            path, "File is compressed with ZStandard, install the `zstandard` module to support this."
        ) from None


def _zstd_reader(path: Path) -> IO[bytes]:
    import zstandard

    raw = path.open("rb")
    # read_across_frames: Blender writes many frames, and reading must not stop after the first.
    reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
    return reader
