"""The scanner reads a .blend through the file's own SDNA: what it needs is checked there, not in the version.

The files here are BAT's real .blend files (Blender 2.78 to 3.2) with their
DNA1 catalogue edited the way a future Blender could change it: a field
renamed, a field retyped. The layout of DNA1 is Blender's
(``source/blender/makesdna/intern/dna_genfile.cc``, ``init_structDNA``):
``SDNA``, ``NAME`` <count> NUL-terminated names, ``TYPE`` <count> type
names, ``TLEN`` <count> shorts, ``STRC`` <count> structs, each
<type> <field count> then (<type>, <name>) pairs, every section 4-aligned.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from azrender.errors import SceneError
from azrender_blender.scan import scan_blend

BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _strings(data: bytes, at: int, count: int) -> tuple[list[bytes], int]:
    out = []
    for _ in range(count):
        end = data.index(b"\0", at)
        out.append(data[at:end])
        at = end + 1
    return out, at


def retype_field(blend: Path, struct_name: bytes, field_name: bytes, new_type: bytes) -> None:
    """Give ``struct_name.field_name`` the type ``new_type`` in the file's DNA1 (little-endian files)."""
    data = bytearray(blend.read_bytes())
    sdna = data.index(b"SDNANAME")
    at = sdna + 8
    (n_names,) = struct.unpack_from("<i", data, at)
    names, at = _strings(bytes(data), at + 4, n_names)
    at = sdna + _align4(at - sdna)
    assert data[at : at + 4] == b"TYPE"
    (n_types,) = struct.unpack_from("<i", data, at + 4)
    types, at = _strings(bytes(data), at + 8, n_types)
    at = sdna + _align4(at - sdna)
    assert data[at : at + 4] == b"TLEN"
    at = sdna + _align4(at + 4 + 2 * n_types - sdna)
    assert data[at : at + 4] == b"STRC"
    (n_structs,) = struct.unpack_from("<i", data, at + 4)
    at += 8
    for _ in range(n_structs):
        type_index, n_fields = struct.unpack_from("<hh", data, at)
        for f in range(n_fields):
            field_at = at + 4 + 4 * f
            _, name_index = struct.unpack_from("<hh", data, field_at)
            if types[type_index] == struct_name and names[name_index] == field_name:
                struct.pack_into("<h", data, field_at, types.index(new_type))
                blend.write_bytes(bytes(data))
                return
        at += 4 + 4 * n_fields
    raise AssertionError(f"{struct_name!r}.{field_name!r} not in {blend}")


@pytest.fixture
def copy(real_fixtures: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(*names: str) -> Path:
        for name in names:
            shutil.copy(real_fixtures / BLENDFILES / name, tmp_path / name)
        return tmp_path / names[0]

    return make


def test_a_retyped_field_is_refused_naming_it(copy) -> None:  # type: ignore[no-untyped-def]
    scene = copy("missing_textures.blend")
    assert scan_blend(scene).missing  # the control: it scans (two textures are missing)
    retype_field(scene, b"Image", b"source", b"float")
    with pytest.raises(SceneError) as info:
        scan_blend(scene)
    message = str(info.value)
    assert message.startswith(f"{scene}: its SDNA declares Image.source as 'float source', not an integer")
    assert "\n" not in message


@pytest.mark.bpy
def test_a_retyped_pointer_in_a_library_is_refused_naming_the_library(
    demo_scene_dir: Path, tmp_path: Path
) -> None:
    """A library image whose path field is no longer text."""
    shot = tmp_path / "shot"
    shutil.copytree(demo_scene_dir, shot)
    scene, library = shot / "shot010.blend", shot / "lib" / "prop.blend"
    assert any(a.path.name == "prop wood.png" for a in scan_blend(scene).assets)  # the control
    retype_field(library, b"Image", b"name[1024]", b"int")
    with pytest.raises(SceneError) as info:
        scan_blend(scene)
    message = str(info.value)
    assert message.startswith(f"library {library}: its SDNA declares Image.name as 'int name[1024]'"), message
    assert f"(linked from {scene})" in message


def test_every_real_blend_passes_the_check(real_fixtures: Path) -> None:
    """No false refusal: every real .blend we hold (Blender 2.78 to 3.2) scans."""
    files = sorted((real_fixtures / BLENDFILES).rglob("*.blend"))
    assert len(files) > 30
    refused = []
    for blend in files:
        try:
            scan_blend(blend)
        except SceneError as exc:
            refused.append(str(exc))
    assert len(refused) == 1, refused
    assert refused[0].startswith(f"{real_fixtures / BLENDFILES / 'corrupt_only_magic.blend'} is not a readable")
