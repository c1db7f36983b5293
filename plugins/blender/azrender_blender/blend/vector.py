"""The block header columns of a large .blend cut with numpy: one structured array instead of a loop per block.

:mod:`.heads` finds every block header of a file (each length gives the next
one's place: a Python loop) and, with numpy, copies them into one buffer as
rows of a strided view (``header_gather``); the columns the reader needs (each block's length, old address, struct index and
data offset, the codes that are not ``DATA``, where ``ENDB`` ends the list and
which block is ``DNA1``) are then fields of that buffer read as a structured
array (the block header layouts of ``BLO_core_bhead.hh``). The running sum
of the offsets is the one part the plain path cannot do at C speed
(``itertools.accumulate`` calls back into Python per block): at 931,000
headers the plain columns take ~0.3 s here, these ~0.03 s.

numpy comes with every Blender (``bpy`` imports it); elsewhere it is optional,
and importing it (~0.1-0.2 s) pays off only for large files: :mod:`.heads`
decides when to ask.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from .repeats import header_rows
from .source import Header

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_DATA = int.from_bytes(b"DATA", "little")

if TYPE_CHECKING:
    # Headers in a buffer: where each starts (noted one by one), or their bytes (a run :mod:`.repeats` followed).
    Places: TypeAlias = list[int] | npt.NDArray[np.uint8]
# A buffer and its headers, in pieces -> those headers' bytes, one after the other.
Gather = Callable[[bytes, "list[Places]"], bytes]


def header_gather(step: int) -> Gather | None:
    """Copies the ``step`` header bytes at each place out of a buffer; None when this Python has no numpy."""
    try:
        import numpy as np
    except ImportError:
        return None

    def gather(buf: bytes, pieces: list[Places]) -> bytes:
        rows = [header_rows(np, buf, step)[piece] if isinstance(piece, list) else piece for piece in pieces if len(piece)]
        # one row copied per header, not one byte at a time
        return b"" if not rows else np.concatenate(rows).tobytes() if len(rows) > 1 else rows[0].tobytes()

    return gather


def vector_columns(header: Header, heads: bytearray) -> tuple[dict[int, bytes], int | None, int | None,
                                                               array[int], array[int], array[int], array[int]] | None:  # fmt: skip
    """What :func:`.heads._codes` and :func:`.heads._columns` make, from the same headers; None without numpy.

    Returns (codes of the blocks that are not ``DATA``, the last ``DNA1``
    block, the first block with a negative length or None, lengths, old
    addresses, struct indices, data offsets); ``heads`` is cut at ``ENDB``.
    """
    try:
        import numpy as np
    except ImportError:
        return None
    step = header.bhead.size
    table = np.frombuffer(heads, dtype=_layout(header))  # a view: deleted before ``heads`` is cut
    others = np.flatnonzero(np.frombuffer(heads, dtype="<u4")[:: step // 4] != _DATA)
    named = table["code"][others]
    ends = np.flatnonzero(named == b"ENDB")
    cut = int(ends[0]) if len(ends) else len(others)
    count = int(others[cut]) if len(ends) else len(table)
    names: list[bytes] = named[:cut].tolist()  # numpy drops the trailing NULs of a code
    raw = named[:cut].view(np.uint8).reshape(-1, 4)
    for row in np.flatnonzero(((raw[:, :3] == 0) & (raw[:, 1:] != 0)).any(axis=1)).tolist():
        names[row] = names[row].split(b"\0", 1)[0]  # a NUL inside a code ends it, as everywhere else
    codes = dict(zip(others[:cut].tolist(), names, strict=True))
    dnas = np.flatnonzero(named[:cut] == b"DNA1")
    dna = int(others[dnas[-1]]) if len(dnas) else None
    lengths, addrs, sdnas = (table[name][:count] for name in ("len", "addr", "sdna"))
    negative = int(np.argmax(lengths < 0)) if count and lengths.min() < 0 else None
    offsets = np.empty(count, dtype=np.int64)
    if count:  # each block's data follows its header: the running sum of header + data sizes, in place
        offsets[0] = header.size + step
        offsets[1:] = lengths[:-1]
        offsets[1:] += step
        np.cumsum(offsets, out=offsets)
    found = (_column(lengths, "q" if header.large_bhead else "i"), _column(addrs, "Q" if header.pointer_size == 8 else "I"),
             _column(sdnas, "i"), _column(offsets, "q"))  # fmt: skip
    del table, lengths, addrs, sdnas  # the views of ``heads``: it can be cut now
    del heads[count * step :]
    return (codes, dna, negative, *found)


def _layout(header: Header) -> np.dtype[np.void]:
    """One block header as a numpy record: the fields of ``BHead4``, ``SmallBHead8`` or ``LargeBHead8``."""
    import numpy as np

    end = header.endian
    if header.large_bhead:  # 4s i Q q q, always little-endian
        fields = [("code", "S4"), ("sdna", "<i4"), ("addr", "<u8"), ("len", "<i8"), ("nr", "<i8")]
    else:  # 4s i Q i i or 4s i I i i
        addr = end + ("u8" if header.pointer_size == 8 else "u4")
        fields = [("code", "S4"), ("len", end + "i4"), ("addr", addr), ("sdna", end + "i4"), ("nr", end + "i4")]
    layout = np.dtype(fields)
    assert layout.itemsize == header.bhead.size
    return layout


def _column(values: npt.NDArray[np.generic], typecode: str) -> array[int]:
    """``values`` as an ``array`` of ``typecode`` (native order, as the plain path makes them)."""
    import numpy as np

    column = array(typecode)
    column.frombytes(np.ascontiguousarray(values, dtype=typecode).data.cast("B"))  # native order, and no bytes copy
    return column

