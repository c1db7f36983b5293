"""The file's own catalogue of structs (the ``DNA1`` block), parsed once, each struct's fields laid out on first use.

The layout is Blender's (``init_structDNA`` in
``source/blender/makesdna/intern/dna_genfile.cc``): ``SDNA``, then ``NAME``
<count> NUL-terminated field names (``*next``, ``name[1024]``, ``(*func)()``),
``TYPE`` <count> type names, ``TLEN`` <count> shorts (each type's size),
``STRC`` <count> structs, each <type> <field count> then (<type>, <name>)
short pairs; every section starts 4-aligned. A field's offset is the sum of the
sizes before it: a pointer (``*`` in the name) is the file's pointer size, any
other field its type's size, both times the array dimensions. This is how
blender-asset-tracer reads it too (``BlendFile.decode_structs``,
``dna.Name``), so a field is found by *name*, whatever Blender wrote the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import BlendError, NoField


@dataclass(frozen=True, slots=True)
class Field:
    """One member of a struct, as the file lays it out."""

    name: bytes  # without pointer stars and array dimensions: b"name" for b"name[1024]"
    name_full: bytes
    type_name: bytes
    offset: int
    size: int
    is_pointer: bool
    array_size: int


@dataclass(frozen=True, slots=True)
class Struct:
    """One struct of the catalogue: its name, size and fields (by name; the last of a repeated name wins, as in BAT)."""

    index: int
    name: bytes
    size: int
    ordered: tuple[Field, ...]
    fields: dict[bytes, Field]

    def has(self, name: bytes) -> bool:
        return name in self.fields


def _name_only(full: bytes) -> bytes:
    stripped = full.strip(b"*()")
    bracket = stripped.find(b"[")
    return stripped if bracket < 0 else stripped[:bracket]


def _array_size(full: bytes) -> int:
    size, rest = 1, full
    while (start := rest.find(b"[")) >= 0:
        stop = rest.find(b"]", start)
        size *= int(rest[start + 1 : stop])
        rest = rest[stop + 1 :]
    return size


def _strings(data: bytes, at: int, count: int) -> tuple[list[bytes], int]:
    """``count`` NUL-terminated strings from ``at``, and where the next section starts."""
    parts = data[at:].split(b"\0", count)
    if len(parts) <= count:
        raise ValueError(f"the DNA1 block ends inside its list of {count} names")
    strings = parts[:count]
    return strings, at + sum(map(len, strings)) + count


class Sdna:
    """The catalogue of one file: struct names to indices at once, fields on first use."""

    def __init__(self, data: bytes, endian: str, pointer_size: int, path: Path) -> None:
        self._pointer_size = pointer_size
        self._path = path
        i32, u16 = struct.Struct(endian + "i"), struct.Struct(endian + "H")
        u16x2 = struct.Struct(endian + "HH")
        if data[:8] != b"SDNANAME":
            raise BlendError(path, "the DNA1 block does not start with SDNA NAME")
        (n_names,) = i32.unpack_from(data, 8)
        self._names, at = _strings(data, 12, n_names)
        at = (at + 3) & ~3
        self._expect(data, at, b"TYPE")
        (n_types,) = i32.unpack_from(data, at + 4)
        self.types, at = _strings(data, at + 8, n_types)
        at = (at + 3) & ~3
        self._expect(data, at, b"TLEN")
        self._lengths = [u16.unpack_from(data, at + 4 + 2 * i)[0] for i in range(n_types)]
        at = (at + 4 + 2 * n_types + 3) & ~3
        self._expect(data, at, b"STRC")
        (n_structs,) = i32.unpack_from(data, at + 4)
        at += 8
        # Only where each struct starts and what it is called, now; its fields when first asked.
        self._raw: list[tuple[int, list[tuple[int, int]]]] = []
        self.index_of: dict[bytes, int] = {}
        for index in range(n_structs):
            type_index, n_fields = u16x2.unpack_from(data, at)
            pairs = [u16x2.unpack_from(data, at + 4 + 4 * f) for f in range(n_fields)]
            self._raw.append((type_index, pairs))
            self.index_of[self.types[type_index]] = index
            at += 4 + 4 * n_fields
        self._structs: list[Struct | None] = [None] * n_structs
        self._paths: dict[tuple[int, tuple[bytes, ...]], Field | None] = {}

    def _expect(self, data: bytes, at: int, tag: bytes) -> None:
        if data[at : at + 4] != tag:
            raise BlendError(self._path, f"the DNA1 block has no {tag.decode()} section where expected")

    def __len__(self) -> int:
        return len(self._raw)

    def name_of(self, index: int) -> bytes:
        """The name of struct ``index``, without laying out its fields."""
        return self.types[self._raw[index][0]]

    def struct(self, index: int) -> Struct:
        """Struct ``index`` (a block's SDNAnr), its field offsets computed once."""
        done = self._structs[index]
        if done is not None:
            return done
        type_index, pairs = self._raw[index]
        ordered, offset = [], 0
        for field_type, field_name in pairs:
            full = self._names[field_name]
            pointer = b"*" in full
            count = _array_size(full)
            size = (self._pointer_size if pointer else self._lengths[field_type]) * count
            ordered.append(Field(_name_only(full), full, self.types[field_type], offset, size, pointer, count))
            offset += size
        made = Struct(index, self.types[type_index], self._lengths[type_index], tuple(ordered),
                      {f.name: f for f in ordered})  # fmt: skip
        self._structs[index] = made
        return made

    def field(self, index: int, path: tuple[bytes, ...]) -> Field:
        """The field at ``path`` (``(b"id", b"name")``) of struct ``index``, its offset from the struct's start.

        :raises NoField: naming the struct that lacks the next name of the path.
        """
        key = (index, path)
        found = self._paths.get(key, ...)
        if found is ...:
            found = self._walk(index, path)
            self._paths[key] = found
        if found is None:
            self._walk(index, path, raising=True)
        assert found is not None
        return found

    def _walk(self, index: int, path: tuple[bytes, ...], raising: bool = False) -> Field | None:
        struct_name, offset, field = self.types[self._raw[index][0]], 0, None
        current: int | None = index
        for name in path:
            field = self.struct(current).fields.get(name) if current is not None else None
            if field is None:
                if raising:
                    raise NoField(self._path, struct_name, name)
                return None
            offset += field.offset
            struct_name = field.type_name
            current = None if field.is_pointer else self.index_of.get(field.type_name)
        assert field is not None
        return Field(field.name, field.name_full, field.type_name, offset, field.size, field.is_pointer, field.array_size)
