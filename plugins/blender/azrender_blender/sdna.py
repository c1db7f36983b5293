"""Does a .blend describe, in its own SDNA, the fields the scanner reads? And is it newer than we test?

A .blend carries the DNA of the Blender that wrote it (the ``DNA1`` block:
every struct with its fields' names and types), and readers find a field by
*name* in that catalogue, not by a fixed offset. That is how Blender opens files
from other versions (``DNA_sdna_from_data`` in
``source/blender/makesdna/intern/dna_genfile.cc``), how blender-asset-tracer
reads them (``BlendFile.decode_structs`` and ``dna.Struct.field_from_path`` in
``blender_asset_tracer/blendfile``) and how the scanner's own reader does
(:mod:`azrender_blender.blend.dna`). So the Blender version in the header says
nothing on its own about whether the scanner can read a file: Blender itself
loads a file (or library) from a newer Blender and only *warns*, "File saved by
newer Blender (…), expect loss of data" (``Main::has_forward_compatibility_issues``,
set from the version numbers alone, ``source/blender/blenkernel/BKE_main.hh``;
shown by ``source/blender/editors/interface/templates/interface_template_status.cc``;
bpy 5.0.1 opening a 5.3 file prints "File written by newer Blender binary
(503.31), expect loss of data!"). It refuses only a header layout it cannot
decode: ``BLO_readfile_blender_header_decode``
(``source/blender/blenloader_core/intern/blo_core_blend_header.cc``) returns
``BlenderHeaderUnknown``, which ``read_blender_header`` in
``source/blender/blenloader/intern/readfile.cc`` turns into
``FD_FLAGS_FILE_FUTURE``.

What *can* break a scan of a newer file is a field renamed, removed or retyped.
The reader reads most fields without a default, so a missing one raises
:class:`~azrender_blender.blend.NoField` (see :func:`from_no_field`); a few it
reads *with* a default, as blender-asset-tracer did, and a rename there would
drop dependencies silently: a renamed ``packedfile`` would
list packed images as files, a renamed ``nodetree`` would hide every texture of
a linked material. :data:`REQUIRED` lists those fields (and the path fields
themselves), and :func:`check_fields` checks them against each file's own SDNA.

Field names are the ones *stored in files*, which are the names before
Blender's DNA renames (``source/blender/makesdna/intern/dna_rename_defs.h``):
``Image.name`` is what Blender's C++ code calls ``Image::filepath``,
``Library.name`` is ``Library::filepath``, ``Light`` is stored as ``Lamp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from azrender_blender.blend import BlendFile, NoField
from azrender_blender.blend.dna import Field
from azrender_blender.versions import version_text

# The newest Blender whose files the test suite builds and compares with that
# Blender's own ``bpy.utils.blend_paths`` (bpy 5.3.0). A newer file is scanned
# all the same, through its own SDNA, with a one-line warning.
NEWEST_TESTED_BLENDER_VERSION = 503


class FieldKind(Enum):
    """What a field must be for the scanner's reading of it to mean what it meant."""

    PATH = "a char array (a file path)"
    POINTER = "a pointer"
    NUMBER = "an integer"


_NUMBER_TYPES = {b"char", b"uchar", b"short", b"ushort", b"int", b"int8_t", b"int16_t", b"int32_t"}


@dataclass(frozen=True)
class Need:
    """One field of the datablocks with ID code ``code``: ``fields`` are alternatives (any one will do)."""

    code: bytes
    fields: tuple[bytes, ...]
    kind: FieldKind
    why: str


# Checked only when the file holds a datablock of that code: a 2.79 file has no
# Volume struct at all, and that is fine when it has no volumes.
REQUIRED: tuple[Need, ...] = (
    Need(b"IM", (b"name",), FieldKind.PATH, "image file paths"),
    Need(b"IM", (b"source",), FieldKind.NUMBER, "whether an image is a file, a sequence or UDIM tiles"),
    Need(b"IM", (b"packedfile",), FieldKind.POINTER, "which images are packed"),
    Need(b"LI", (b"name",), FieldKind.PATH, "linked library paths"),
    Need(b"LI", (b"packedfile",), FieldKind.POINTER, "which libraries are packed"),
    Need(b"SO", (b"name",), FieldKind.PATH, "sound file paths"),
    Need(b"SO", (b"packedfile",), FieldKind.POINTER, "which sounds are packed"),
    Need(b"VF", (b"name",), FieldKind.PATH, "font file paths"),
    Need(b"VF", (b"packedfile",), FieldKind.POINTER, "which fonts are packed"),
    Need(b"MC", (b"name",), FieldKind.PATH, "movie clip paths"),
    Need(b"CF", (b"filepath",), FieldKind.PATH, "cache file paths"),
    Need(b"VO", (b"filepath",), FieldKind.PATH, "volume file paths"),
    Need(b"VO", (b"packedfile",), FieldKind.POINTER, "which volumes are packed"),
    Need(b"MA", (b"nodetree",), FieldKind.POINTER, "material node trees (their image textures)"),
    Need(b"WO", (b"nodetree",), FieldKind.POINTER, "world node trees (their environment textures)"),
    Need(b"LA", (b"nodetree",), FieldKind.POINTER, "light node trees (their IES files)"),
    # Blender 5.0 moved the scene's compositor tree to ``compositing_node_group``.
    Need(b"SC", (b"compositing_node_group", b"nodetree"), FieldKind.POINTER, "the compositor's node tree"),
    Need(b"SC", (b"ed",), FieldKind.POINTER, "the sequencer's strips"),
)


@dataclass(frozen=True)
class MissingField:
    """A field the scanner reads that a file's SDNA does not have, or declares as something else."""

    path: Path
    struct: str
    field: str
    problem: str  # "has no field Image.name", "declares Image.source as 'float source', not an integer"
    why: str

    def message(self) -> str:
        """One line: the file, the ``Struct.field``, what is wrong and what the scanner needs it for."""
        return f"{self.path}: its SDNA {self.problem}; the scanner reads it for {self.why}"


def _kind_ok(field: Field, kind: FieldKind) -> bool:
    if kind is FieldKind.POINTER:
        return field.is_pointer
    if field.is_pointer:
        return False
    if kind is FieldKind.PATH:
        return field.type_name == b"char" and field.array_size > 1
    return field.type_name in _NUMBER_TYPES


def check_fields(bfile: BlendFile) -> MissingField | None:
    """The first :data:`REQUIRED` field ``bfile``'s SDNA lacks or types differently, or None.

    The struct is the one the file's own datablocks of that code are stored
    as, so a struct renamed in a future Blender is still found.
    """
    for need in REQUIRED:
        struct = bfile.struct_of(need.code)
        if struct is None:
            continue
        fields = [f for f in (next((f for f in struct.ordered if f.name == n), None) for n in need.fields)
                  if f is not None]  # fmt: skip
        struct_name = struct.name.decode()
        if not fields:
            label = need.fields[0].decode()
            problem = f"has no field {struct_name}.{label}"
            return MissingField(bfile.path, struct_name, label, problem, need.why)
        if not any(_kind_ok(f, need.kind) for f in fields):
            field = fields[0]
            label = field.name.decode()
            declared = f"{field.type_name.decode()} {field.name_full.decode()}"
            problem = f"declares {struct_name}.{label} as '{declared}', not {need.kind.value}"
            return MissingField(bfile.path, struct_name, label, problem, need.why)
    return None


def from_no_field(exc: NoField) -> MissingField:
    """The file and ``Struct.field`` of a field the reader needed and the file's SDNA lacks."""
    struct, field = exc.struct.decode(errors="replace"), exc.field.decode(errors="replace")
    return MissingField(exc.path, struct, field, f"has no field {struct}.{field}", "the scene's dependencies")


def newer_than_tested(bfile: BlendFile) -> str | None:
    """The Blender version text when ``bfile`` was saved by a Blender newer than we test, else None.

    The header's version is ``BLENDER_FILE_VERSION`` of the Blender that
    wrote the file (``BlenderHeader::file_version``, decoded from header bytes
    9-11 of the 12-byte legacy header or 13-16 of the 17-byte one in
    ``BLO_readfile_blender_header_decode``,
    ``source/blender/blenloader_core/intern/blo_core_blend_header.cc``), as
    :func:`azrender_blender.blend.source.decode_header` reads it.
    """
    version = bfile.header.version
    return version_text(version) if version > NEWEST_TESTED_BLENDER_VERSION else None
