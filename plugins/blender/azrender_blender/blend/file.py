"""One .blend opened for reading: its header, its block headers in one pass, its DNA, fields by name.

A .blend is its header, then blocks until ``ENDB``: each a block header (code,
length, the address the data had in memory when saved, SDNA struct index,
count) and the data (``BLO_core_bhead.hh``; ``BlendFileBlock`` in
blender-asset-tracer's ``blendfile/__init__.py``). Pointers in the data are
those saved addresses, so following one is a look-up in the old-address map.
A block whose header does not fit in the file ends the list, as in BAT (a
truncated file then has no ``DNA1`` and is refused for that).

Only the block headers are read up front (one ``unpack_from`` each); a
block's fields are read when asked for, by name, through the file's own DNA.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Iterator
from itertools import compress
from pathlib import Path
from typing import cast

from .dna import Field, Sdna, Struct
from .errors import BlendError, NoField
from .heads import read_heads
from .source import Source

_DATA = b"DATA"
_SCANS = 16  # pointers followed by searching the address column before a map is built
_INT_FORMATS = {
    b"char": "B", b"uchar": "B", b"int8_t": "b", b"uint8_t": "B", b"short": "h", b"ushort": "H",
    b"int16_t": "h", b"uint16_t": "H", b"int": "i", b"uint": "I", b"int32_t": "i", b"uint32_t": "I",
    b"int64_t": "q", b"uint64_t": "Q",
}  # fmt: skip


class Block:
    """One block: where its data is, and its fields read through the file's DNA (the data read on first use)."""

    __slots__ = ("_data", "addr", "code", "file", "offset", "sdna", "size")

    def __init__(self, file: BlendFile, code: bytes, sdna: int, addr: int, size: int, offset: int) -> None:
        self.file, self.code, self.sdna, self.addr = file, code, sdna, addr
        self.size, self.offset = size, offset
        self._data: bytes | None = None

    def __repr__(self) -> str:
        return f"<Block {self.code.decode(errors='replace')} {self.struct.name.decode()} at {self.offset}>"

    @property
    def data(self) -> bytes:
        if self._data is None:
            data = self.file.read_at(self.offset, self.size)
            if len(data) != self.size:  # cut short (then BAT fails too), or it shrank since the pass
                raise BlendError(self.file.path, f"the file ends inside its {self.code.decode(errors='replace')} "
                                                 f"block at byte {self.offset} (cut short, or changed while it was read)")  # fmt: skip
            self._data = data
        return self._data

    def _bytes(self, at: int, size: int) -> bytes:
        """``size`` bytes at ``at`` from the block's start; past its end they are the file's (as BAT reads)."""
        if at + size <= self.size:
            return self.data[at : at + size]
        return self.file.read_at(self.offset + at, size)

    @property
    def struct(self) -> Struct:
        return self.file.sdna.struct(self.sdna)

    @property
    def type_name(self) -> str:
        return self.struct.name.decode("ascii", errors="replace")

    def has(self, name: bytes) -> bool:
        return self.struct.has(name)

    def field(self, *path: bytes) -> Field:
        """The field at ``path``; :class:`NoField` when the struct has no such member."""
        return self.file.sdna.field(self.sdna, path)

    def integer(self, *path: bytes, default: int | None = None) -> int:
        """An integer field (a pointer reads as its address); ``default`` when the struct lacks it."""
        reader = self.file.readers.get((self.sdna, path))
        if reader is None:
            reader = self.file.reader_of(self, path, missing_ok=default is not None)
            if reader is None:
                assert default is not None
                return default
        at, unpacker = reader
        value: int
        if at + unpacker.size <= self.size:
            (value,) = unpacker.unpack_from(self.data, at)
        else:  # past the block's end the bytes are the file's (as BAT reads)
            (value,) = unpacker.unpack(self.file.read_at(self.offset + at, unpacker.size))
        return value

    def pointer_at(self, at: int) -> int:
        """The pointer ``at`` bytes from the block's start."""
        reader = self.file.pointer_reader
        value: int = reader.unpack(self._bytes(at, reader.size))[0]
        return value

    def pointer(self, *path: bytes) -> int:
        return self.integer(*path)

    def deref(self, *path: bytes) -> Block | None:
        """The block the pointer at ``path`` points to; None for a null pointer."""
        return self.file.at(self.integer(*path))

    def deref_or_none(self, *path: bytes) -> Block | None:
        """As :meth:`deref`, and None when the struct has no such field (BAT's ``get_pointer(.., None)``)."""
        address = self.integer(*path, default=0)
        return self.file.at(address) if address else None

    def text(self, *path: bytes) -> bytes:
        """A char array field, up to its first NUL."""
        spec = self.file.texts.get((self.sdna, path))
        if spec is None:
            f = self.field(*path)
            if f.is_pointer or f.size <= 1:
                raise BlendError(self.file.path, f"{self.struct.name.decode()}.{f.name.decode()} is not a char array")
            spec = self.file.texts[self.sdna, path] = (f.offset, f.array_size)
        at, size = spec
        if at + size > self.size:
            return self._bytes(at, size).split(b"\0", 1)[0]
        data = self.data
        end = data.find(b"\0", at, at + size)
        return data[at : end if end >= 0 else at + size]

    def id_name(self) -> bytes | None:
        """``id.name`` (the code and name, ``b"IMbrick"``), None for blocks that are no ID."""
        try:
            return self.text(b"id", b"name")
        except (NoField, BlendError):
            return None

    def as_string(self) -> bytes:
        """The whole data of the block as a NUL-terminated byte string."""
        return self.data.split(b"\0", 1)[0]

    def pointers(self, count: int) -> Iterator[Block]:
        """The blocks of the first ``count`` non-null pointers stored in this (array) block."""
        for i in range(count):
            target = self.file.at(self.pointer_at(self.file.pointer_size * i))
            if target is not None:
                yield target

    def elements(self) -> Iterator[Block]:
        """Each struct of an array block (its header's count of structs), as a block of its own."""
        size = self.struct.size
        for i in range(self.file.count_of(self)):
            yield Block(self.file, self.code, self.sdna, self.addr, size, self.offset + i * size)

    def refined(self, struct_name: bytes) -> Block:
        """This block read as ``struct_name``, never as a smaller struct (BAT's ``refine_type``)."""
        index = self.file.sdna.index_of[struct_name]
        if self.struct.size > self.file.sdna.struct(index).size:
            raise BlendError(self.file.path, f"cannot read a {self.type_name} block as {struct_name.decode()}")
        return Block(self.file, self.code, index, self.addr, self.size, self.offset)


class BlendFile:
    """An open .blend: ``path`` as it was opened, the header, every block header, the DNA.

    Each block costs 28 bytes here (where its data is, its length, struct and
    old address); the code is kept only for blocks that are not ``DATA``.
    """

    read_at: Callable[[int, int], bytes]  # size bytes from an offset of the decompressed file (fewer at its end)

    def __init__(self, path: Path, lookups: Callable[[bytes], bool] | None = None) -> None:
        """Open ``path``; ``lookups`` (a struct name test) limits the first address map to those structs' blocks.

        The scene's own file is read for its paths only, and those pointers
        lead to few struct types: indexing just them (and every ID) keeps a
        10,000-material scene's 390,000 node sockets out of the map. A
        pointer to anything else builds the full map, so the limit never changes an answer.
        """
        self.path = path
        self._source = Source(path)
        self._lookups = lookups
        self._offsets: array[int] = array("q")
        self._lengths, self._addrs, self._sdnas = self._offsets, self._offsets, self._offsets
        self._codes: dict[int, bytes] = {}
        self._map: dict[int, int] | None = None
        self._full = False
        self._scans, self._addr_bytes = 0, cast("bytes | None", None)
        self._by_code: dict[bytes, list[Block]] | None = None
        self._first_of: dict[bytes, int] | None = None
        try:
            heads = read_heads(self._source.chunks(), path, size=self._source.size)
            self.header, dna_at, self._codes = heads.header, heads.dna, heads.codes
            self._lengths, self._addrs, self._sdnas = heads.lengths, heads.addrs, heads.sdnas
            self._offsets = heads.offsets
            self.read_at = self._source.reader()  # valid once the pass is done (a stream's spool is complete)
            self.pointer_size = self.header.pointer_size
            self.pointer_reader = struct.Struct(self.header.endian + ("I" if self.pointer_size == 4 else "Q"))
            self._ints: dict[bytes, struct.Struct] = {}
            # Per (struct, field path): an integer's offset and reader, a char array's offset and length.
            self.readers: dict[tuple[int, tuple[bytes, ...]], tuple[int, struct.Struct]] = {}
            self.texts: dict[tuple[int, tuple[bytes, ...]], tuple[int, int]] = {}
            self.sdna = Sdna(self.read_at(*dna_at), self.header.endian, self.pointer_size, path)
        except BaseException:
            self.close()
            raise

    @property
    def compressed(self) -> bool:
        return self._source.compressed

    def close(self) -> None:
        self._source.close()


    # --- blocks -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._offsets)

    def code_of(self, index: int) -> bytes:
        return self._codes.get(index, _DATA)

    def block(self, index: int) -> Block:
        """Block ``index`` in file order (its data read when a field is)."""
        sdna = self._sdnas[index]
        if not 0 <= sdna < len(self.sdna):
            raise BlendError(self.path, f"block {self.code_of(index)!r} at byte {self._offsets[index]} names "
                                        f"struct {sdna}, the DNA has {len(self.sdna)}")  # fmt: skip
        return Block(self, self.code_of(index), sdna, self._addrs[index], self._lengths[index], self._offsets[index])

    def ids(self, codes: set[bytes] | None = None, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[Block]:
        """Every block that is not ``DATA`` (only those with one of ``codes``, if given; none in ``skip``), in file order."""
        return (self.block(index) for index, code in self._codes.items()
                if (codes is None or code in codes) and index not in skip)  # fmt: skip

    def where_null(self, code: bytes, pointers: tuple[tuple[bytes, ...], ...],
                   optional: tuple[tuple[bytes, ...], ...] = ()) -> set[int]:
        """The ``code`` blocks whose pointers at ``pointers`` and ``optional`` are all null, without a Block made for each.

        A field in ``optional`` the struct lacks counts as null (as
        :meth:`Block.deref_or_none` reads it); a block whose struct lacks one of
        ``pointers``, has one of them as no pointer, or ends before one, is never
        in the answer: its reader decides (and names what is wrong).
        """
        size, zero, read = self.pointer_size, bytes(self.pointer_size), self.read_at
        places: dict[int, tuple[int, ...] | None] = {}  # struct index -> the fields' offsets
        found = set()
        for index, block_code in self._codes.items():
            if block_code != code:
                continue
            sdna = self._sdnas[index]
            ats = places.get(sdna, ())
            if ats == ():
                ats = places[sdna] = self._pointer_offsets(sdna, pointers, optional)
            if ats is None or (ats and ats[-1] + size > self._lengths[index]):
                continue
            offset = self._offsets[index]
            if all(read(offset + at, size) == zero for at in ats):
                found.add(index)
        return found

    def _pointer_offsets(self, sdna: int, pointers: tuple[tuple[bytes, ...], ...],
                         optional: tuple[tuple[bytes, ...], ...]) -> tuple[int, ...] | None:
        """Where those pointers are in struct ``sdna``, lowest first; None when one is missing or no pointer."""
        if not 0 <= sdna < len(self.sdna):
            return None
        ats = []
        for path in (*pointers, *optional):
            try:
                f = self.sdna.field(sdna, path)
            except NoField:
                if path in pointers:
                    return None
                continue
            if not f.is_pointer:
                return None
            ats.append(f.offset)
        return tuple(sorted(ats))

    def count_of(self, block: Block) -> int:
        """The struct count in ``block``'s header (read back: it is rarely needed)."""
        step = self.header.bhead.size
        return self.header.fields(self.header.bhead.unpack(self.read_at(block.offset - step, step)))[4]

    def at(self, address: int) -> Block | None:
        """The block saved at ``address``; None for 0. A dangling pointer means a damaged file."""
        if address == 0:
            return None
        if self._map is None and self._scans < _SCANS:
            self._scans += 1
            index = self._scan(address)
            if index is None:
                raise BlendError(self.path, f"a pointer to 0x{address:x}, where the file has no block")
            return self.block(index)
        if self._map is None:
            self._map = self._first_map()
        index = self._map.get(address)
        if index is None and not self._full:
            self._map, self._full = dict(zip(self._addrs, range(len(self._addrs)), strict=True)), True
            index = self._map.get(address)
        if index is None:
            raise BlendError(self.path, f"a pointer to 0x{address:x}, where the file has no block")
        return self.block(index)

    def _first_map(self) -> dict[int, int]:
        addrs = self._addrs
        if self._lookups is None:
            self._full = True
            return dict(zip(addrs, range(len(addrs)), strict=True))
        wanted = {i for i in range(len(self.sdna)) if self._lookups(self.sdna.name_of(i))}
        # compress() and map() walk the columns in C: the Python loop is over the kept blocks only.
        kept = compress(range(len(addrs)), map(wanted.__contains__, self._sdnas))
        # In file order, so a repeated address keeps its last block, as in the full map (and BAT's).
        return {addrs[i]: i for i in sorted({*kept, *self._codes})}

    def _scan(self, address: int) -> int | None:
        """The last block saved at ``address`` (as a map built in file order finds it), by searching the column.

        A byte search of the address column (``bytes.rfind``, C speed, a few
        milliseconds for a million blocks) answers the first look-ups; a scene
        whose paths need one or two pointers followed (its sequencer, say)
        never pays for a map of 100,000 blocks.
        """
        if self._addr_bytes is None:
            self._addr_bytes = self._addrs.tobytes()
        size = self._addrs.itemsize
        key, end = address.to_bytes(size, sys.byteorder), len(self._addr_bytes)
        while (found := self._addr_bytes.rfind(key, 0, end)) >= 0:
            if found % size == 0:
                return found // size
            end = found + size - 1  # a match across two addresses: look further left
        return None

    def struct_of(self, code: bytes) -> Struct | None:
        """The struct the file's first block with ``code`` is stored as; None when it has none."""
        index = self._first_index(code)
        return None if index is None else self.block(index).struct

    def has_code(self, code: bytes) -> bool:
        """Whether any block is a ``code`` block (not for ``DATA``)."""
        return self._first_index(code) is not None

    def _first_index(self, code: bytes) -> int | None:
        if self._first_of is None:  # asked once per field check: one pass, not one per code asked
            self._first_of = {c: i for i, c in reversed(self._codes.items())}  # the first index wins
        return self._first_of.get(code)

    def blocks_of(self, code: bytes) -> list[Block]:
        """Every block with ``code``, in file order."""
        if self._by_code is None:
            self._by_code = {}
            for block in self.ids():
                self._by_code.setdefault(block.code, []).append(block)
        return self._by_code.get(code, [])

    def reader_of(self, block: Block, path: tuple[bytes, ...], missing_ok: bool) -> tuple[int, struct.Struct] | None:
        """Where the integer (or pointer) at ``path`` of ``block``'s struct is and how it reads, kept per struct.

        None when the struct lacks it and ``missing_ok``; :class:`NoField` when it lacks it otherwise.
        """
        try:
            f = self.sdna.field(block.sdna, path)
        except NoField:
            if missing_ok:
                return None
            raise
        reader = self.readers[block.sdna, path] = (f.offset, self.pointer_reader if f.is_pointer else
                                                   self.int_reader(f, block))  # fmt: skip
        return reader

    def int_reader(self, field: Field, block: Block) -> struct.Struct:
        reader = self._ints.get(field.type_name)
        if reader is None:
            fmt = _INT_FORMATS.get(field.type_name)
            if fmt is None or field.array_size != 1:
                raise BlendError(self.path, f"{block.type_name}.{field.name.decode()} is "
                                            f"'{field.type_name.decode()} {field.name_full.decode()}', not an integer")  # fmt: skip
            reader = self._ints[field.type_name] = struct.Struct(self.header.endian + fmt)
        return reader


def listbase(first: Block | None, *next_path: bytes) -> Iterator[Block]:
    """The blocks of a ``ListBase`` linked list from ``first`` (``next`` unless ``next_path`` says otherwise)."""
    path = next_path or (b"next",)
    block = first
    while block is not None:
        yield block
        block = block.deref(*path)
