"""Runs of block headers that repeat the lengths just read: predicted all at once with numpy, then checked one by one.

Blender writes like data alike: 10,000 materials made from one node setup
are 10,000 copies of one sequence of blocks (the material, its node tree,
each node, socket and socket value), every block as long as its twin in the
copy before. The header pass (:mod:`.heads`) finds each header from the one
before it (a block's length says where the next header is): one Python step
per block. When the lengths of the blocks just read repeat with a period,
:class:`Repeats` predicts where the next headers are by repeating those
lengths, reads the length field at every predicted place in one numpy
gather, and keeps the places up to the first whose length is not the one
predicted.

That is proof, not a guess: the first place is a true header (where the
loop stood), and each kept place is the one before it plus that header's
length *as read from the file*, which is exactly the step the loop would
take; the first place whose length differs is a true header too (its
predecessor's length was checked), and the loop goes on from it. Nothing is
taken from the data blocks' contents, so bytes that look like headers inside
them (a packed file, say) cannot mislead it.

A file without repeats pays only for the tries, which come further apart
after every miss (at most one per 16,384 blocks: well under 1 % of the loop).
"""

from __future__ import annotations

from array import array
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_WINDOW = 512  # the most recent blocks a period is looked for in (a period repeats at least twice there)
_SPAN = 128  # the fewest recent blocks a period must repeat over
FIRST_TRY, LAST_TRY = 128, 16_384  # plain steps before a try; doubled after each miss, up to the last
_AHEAD = 1 << 16  # the most places predicted at once


class Repeats:
    """The period the last block lengths repeat with, and the run of headers that follow it.

    ``wait`` is how many headers the loop reads one by one before it asks
    :meth:`find` again; ``holding`` says a period held up to where the loop
    stands, so :meth:`follow` can go on at once (as at a buffer's edge).
    """

    def __init__(self, step: int, large_bhead: bool, little_endian: bool) -> None:
        import numpy as np

        self._np = np
        self._step = step
        # The length field of each header layout (see .source): LargeBHead8 4s i Q q q, the others 4s i ...
        at, width = (16, 8) if large_bhead else (4, 4)
        self._field = slice(at, at + width)
        self._length = np.dtype(("<" if little_endian else ">") + ("u8" if large_bhead else "u4"))
        self._jumps: npt.NDArray[np.int64] | None = None  # header + data size of each block of one period
        self.wait = FIRST_TRY

    @property
    def holding(self) -> bool:
        return self._jumps is not None

    def find(self, places: list[int], pos: int) -> bool:
        """Whether the headers at ``places`` (then ``pos``, the next one) repeat a period; it is kept for :meth:`follow`.

        The period is the shortest that the last ``max(2 * period, 128)``
        blocks repeat (so a material's 85 blocks, not the 2 of a socket and
        its value; and one changed copy a few copies back does not hide it).
        A miss doubles :attr:`wait`.
        """
        recent = [*places[-_WINDOW:], pos]
        jumps = [b - a for a, b in pairwise(recent)]
        count = len(jumps)
        raw = array("q", jumps).tobytes()
        for period in range(1, count // 2 + 1):
            if jumps[count - 1 - period] != jumps[-1]:
                continue
            first = 8 * (count - min(count, max(2 * period, _SPAN)))  # the span that must repeat, in bytes
            if raw[first + 8 * period :] == raw[first : len(raw) - 8 * period]:
                self._jumps = self._np.array(jumps[count - period :], dtype=self._np.int64)
                return True
        self.wait = min(self.wait * 2, LAST_TRY)
        return False

    def follow(self, buf: bytes, pos: int, limit: int) -> tuple[npt.NDArray[np.uint8], int]:
        """The true headers from ``pos`` on that repeat the period (their bytes, a row each), and the next one's place.

        ``limit`` is the last place a whole header fits in ``buf``. When every
        predicted header checked out the period is kept (:attr:`holding`),
        turned to start where the next header is; else it is dropped and
        :attr:`wait` starts again from :data:`FIRST_TRY`.
        """
        np = self._np
        jumps = self._jumps
        assert jumps is not None
        period, span = len(jumps), int(jumps.sum())
        rounds = max(1, min((limit - pos) // span + 1, _AHEAD // period))
        predicted = np.tile(jumps, rounds)
        places = np.empty(len(predicted), dtype=np.intp)
        places[0] = pos
        np.cumsum(predicted[:-1], out=places[1:])
        places[1:] += pos
        count = int(np.searchsorted(places, limit, side="right"))  # headers that fit in the buffer
        places, predicted = places[:count], predicted[:count]
        rows = header_rows(np, buf, self._step)[places]  # each predicted header's bytes
        # Each one's length field, as the file's integer type (a negative length wraps: it never matches).
        lengths = np.ascontiguousarray(rows[:, self._field]).view(self._length).ravel().astype(np.int64)
        same = lengths + self._step == predicted
        kept = count if bool(same.all()) else int(np.argmin(same))
        if kept == count:
            self._jumps = np.roll(jumps, -(count % period))
            return rows, int(places[-1] + predicted[-1])
        self._jumps, self.wait = None, FIRST_TRY
        return rows[:kept], int(places[kept])


def header_rows(np: Any, buf: bytes, step: int) -> npt.NDArray[np.uint8]:
    """``buf`` as rows of ``step`` bytes, one starting at every byte (a view: row ``i`` is the header at ``i``)."""
    rows: npt.NDArray[np.uint8] = np.ndarray((len(buf) - step + 1, step), np.uint8, buf, 0, (1, 1))
    return rows
