"""The block headers of a .blend in one pass, and their columns (length, old address, struct, data offset).

The pass is the one Python loop that runs once per block (a 10,000-image
scene has 931,000 blocks), so it does the least a loop can: copy a header's
bytes, read its length, jump to the next one (about 0.27 s for those 931,000
on this project's 2-CPU machine; the same loop that only jumps is 0.18 s).
Everything else is cut out of the copied headers afterwards at C speed
(codes by one regular expression over the code column, ``array.frombytes``,
slices, ``itertools.accumulate``), or, for a large file where numpy is at
hand, as one structured array (:mod:`.vector`). With numpy the loop also
hands runs of blocks that repeat the lengths just read to :mod:`.repeats`,
which follows them without a Python step per block (908,000 of those
931,000). A negative length is read as unsigned in
the loop (a jump past the end, which ends the pass) and refused afterwards
from the signed column, so the loop needs no test for it.

A header that does not fit in the file ends the list, as in blender-asset-tracer
(a truncated file then has no ``DNA1`` and is refused for that).
"""

from __future__ import annotations

import re
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import BlendError
from .repeats import Repeats
from .source import Header, decode_header
from .vector import Gather, header_gather, vector_columns

if TYPE_CHECKING:
    from .vector import Places

_DATA = b"DATA"
# Blocks from which the columns are cut with numpy: when it is loaded already / when importing it
# (~0.1-0.2 s here) is paid back by the ~0.3 us a block it saves.
_VECTOR_LOADED, _VECTOR_IMPORTED = 5_000, 500_000


@dataclass
class Heads:
    """Every block of one file, as columns; ``codes`` only for blocks that are not ``DATA``."""

    header: Header
    dna: tuple[int, int]  # where DNA1's data is, and its length
    codes: dict[int, bytes]
    lengths: array[int]
    addrs: array[int]
    sdnas: array[int]
    offsets: array[int]


def read_heads(chunks: Iterator[bytes], path: Path, vector_from: int | None = None, size: int | None = None) -> Heads:
    """The header and every block header of the file ``chunks`` give, front to back.

    Once the file is seen to have ``vector_from`` blocks (by default a few
    thousand when numpy is loaded already, as in Blender, and half a million
    when importing it would pay off; ``size``, the decompressed file's size
    when known, lets the first blocks tell), numpy copies the headers out and
    cuts the columns (:mod:`.vector`) where it is installed; the loop then
    only notes places, and runs of repeated blocks are followed at C speed
    (:mod:`.repeats`).
    """
    buf = b""
    for chunk in chunks:
        buf = chunk if not buf else bytes(buf) + chunk
        if len(buf) >= 17:
            break
    header = decode_header(bytes(buf[:17]), path)
    step = header.bhead.size
    # Only the length: the loop neither looks at codes nor stops at ENDB (cut off afterwards).
    unpack = struct.Struct(header.endian + ("16xQ" if header.large_bhead else "4xI")).unpack_from
    heads = bytearray()
    if vector_from is None:
        vector_from = _VECTOR_LOADED if "numpy" in sys.modules else _VECTOR_IMPORTED
    gather: Gather | None = None
    repeats: Repeats | None = None
    start, end, pos = 0, len(buf), header.size  # buf holds the file's bytes [start, end); pos is relative to start
    while True:
        limit = len(buf) - step
        if gather is None and _expect(len(heads) // step, start + pos, size) >= vector_from:
            gather, vector_from = header_gather(step), sys.maxsize  # asked once: None without numpy
            if gather is not None:
                repeats = Repeats(step, header.large_bhead, header.little_endian)
        if gather is not None and repeats is not None:  # the loop only notes where each header is; numpy copies them
            pieces: list[Places] = []
            while pos <= limit:
                if repeats.holding:
                    run, pos = repeats.follow(buf, pos, limit)
                    pieces.append(run)
                    continue
                at: list[int] = []
                note = at.append
                for _ in repeat(None, repeats.wait):
                    if pos > limit:
                        break
                    note(pos)
                    pos += step + unpack(buf, pos)[0]
                else:
                    if pos <= limit:
                        repeats.find(at, pos)
                pieces.append(at)
            heads += gather(buf, pieces)
        else:
            while pos <= limit:
                heads += buf[pos : pos + step]
                pos += step + unpack(buf, pos)[0]
    # The next header is at start + pos: keep what of it this buffer holds, skip what a long block covers.
        wanted = start + pos
        rest = bytes(buf[pos:]) if wanted < end else b""
        buf = b""
        for chunk in chunks:
            if rest:
                buf, start, pos = rest + chunk, wanted, 0
            elif wanted < end + len(chunk):
                buf, start, pos = chunk, end, wanted - end
            end += len(chunk)
            if len(buf) >= pos + step:
                break
            rest = bytes(buf[pos:]) if buf else b""
        if len(buf) < pos + step:
            break  # the file ends inside a block or its header: BAT reads that as the end, so do we
    for _ in chunks:  # a streamed file is read to its end: its blocks are read back from the copy
        pass
    cut = vector_columns(header, heads) if gather is not None else None
    if cut is None:
        codes, dna = _codes(heads, step)
        lengths, addrs, sdnas, offsets = _columns(header, heads)
        negative = next((i for i, length in enumerate(lengths) if length < 0), None) if lengths and min(lengths) < 0 else None
    else:
        codes, dna, negative, lengths, addrs, sdnas, offsets = cut
    if negative is not None:
        raise BlendError(path, f"block {codes.get(negative, _DATA)!r} at byte {offsets[negative] - step} "
                               "has a negative length")  # fmt: skip
    if dna is None:
        raise BlendError(path, "No DNA1 block in file, not a valid .blend file")
    return Heads(header, (offsets[dna], lengths[dna]), codes, lengths, addrs, sdnas, offsets)


_SAMPLE = 20_000  # blocks read before their average size says how many the file has


def _expect(blocks: int, read: int, size: int | None) -> int:
    """How many blocks the file has, as far as can be told after ``blocks`` in its first ``read`` bytes."""
    if size is None or blocks < _SAMPLE or read <= 0:
        return blocks
    return max(blocks, blocks * size // read)


_NOT_DATA = re.compile(rb"(?:DATA)*(.{4})", re.DOTALL)  # from an entry's start: the next code that is not DATA


def _codes(heads: bytearray, step: int) -> tuple[dict[int, bytes], int | None]:
    """The code of each block that is not ``DATA``, the list cut at ``ENDB``; which block is the (last) ``DNA1``.

    The codes are the first 4 bytes of each header: as one column, a regular
    expression steps over the runs of ``DATA`` at C speed (each repetition is
    one 4-byte entry, so every match is aligned to one; the column ends in a
    sentinel, so no match ever backtracks into a ``DATA`` entry).
    """
    with memoryview(heads) as raw, raw.cast("I") as words:
        column = words[0 :: step // 4].tobytes() + b"\0\0\0\0"
    codes: dict[int, bytes] = {}
    dna = None
    for match in _NOT_DATA.finditer(column):
        index = match.start(1) // 4
        code = match.group(1).split(b"\0", 1)[0]
        if index * step >= len(heads) or code == b"ENDB":
            del heads[index * step :]
            break
        if code == b"DNA1":
            dna = index
        codes[index] = code
    return codes, dna


def _columns(header: Header, heads: bytearray) -> tuple[array[int], array[int], array[int], array[int]]:
    """Lengths, old addresses, struct indices and data offsets of every block, from the raw headers."""
    swap = header.little_endian != (sys.byteorder == "little")

    def words(code: Literal["i", "I", "q", "Q"], first: int, every: int) -> array[int]:
        column = array(code)
        with memoryview(heads) as raw, raw.cast(code) as typed:
            column.frombytes(typed[first::every].tobytes())  # one column copied, not all of them
        if swap:
            column.byteswap()
        return column

    if header.large_bhead:  # 4s i Q q q: 4 eight-byte words, 8 four-byte ones
        lengths, addrs, sdnas = words("q", 2, 4), words("Q", 1, 4), words("i", 1, 8)
    elif header.pointer_size == 8:  # 4s i Q i i: 3 eight-byte words, 6 four-byte ones
        lengths, addrs, sdnas = words("i", 1, 6), words("Q", 1, 3), words("i", 4, 6)
    else:  # 4s i I i i: 5 four-byte words
        lengths, addrs, sdnas = words("i", 1, 5), words("I", 2, 5), words("i", 3, 5)
    step = header.bhead.size
    # Each block's data follows its header: the running sum of header + data sizes.
    offsets = array("q", accumulate(map(step.__add__, lengths), initial=header.size + step))
    offsets.pop()
    return lengths, addrs, sdnas, offsets
