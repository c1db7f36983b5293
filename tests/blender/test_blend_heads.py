"""The block header pass and its columns: the plain path and numpy's (:mod:`azrender_blender.blend.vector`).

Each file is read both ways and must give the same columns, value for value
and type for type. Synthetic block streams in every header layout a .blend
can have (``BHead4`` and ``SmallBHead8``, little- and big-endian, and
``LargeBHead8``) are checked against what the test itself wrote, since no
fixture has a 32-bit or big-endian file; the real files and the Blender 5.x
files bpy saves (``LargeBHead8``) are checked path against path.
"""

from __future__ import annotations

import random
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from blender_helpers import REPO, Built

from azrender_blender.blend import BlendError
from azrender_blender.blend.heads import Heads, read_heads
from azrender_blender.blend.source import Source

REAL = REPO.parent / "shared" / "fixtures" / "real"
REAL_BLENDS = sorted(REAL.rglob("*.blend*")) if REAL.is_dir() else []
PLAIN, VECTOR = sys.maxsize, 0  # vector_from: never numpy / always numpy

# file header, block header format (code, a, old, b, count as in Header.fields' raw order)
LAYOUTS = {
    "BHead4 little": (b"BLENDER_v279", "<4siIii"),
    "BHead4 big": (b"BLENDER_V279", ">4siIii"),
    "SmallBHead8 little": (b"BLENDER-v405", "<4siQii"),
    "SmallBHead8 big": (b"BLENDER-V405", ">4siQii"),
    "LargeBHead8": (b"BLENDER17-01v0503", "<4siQqq"),
}


def heads_of(path: Path, vector_from: int) -> Heads:
    source = Source(path)
    try:
        return read_heads(source.chunks(), path, vector_from=vector_from)
    finally:
        source.close()


def columns(heads: Heads) -> tuple[object, ...]:
    """Everything read_heads answers, with each column's type."""
    cols = (heads.lengths, heads.addrs, heads.sdnas, heads.offsets)
    header = heads.header
    layout = (header.version, header.pointer_size, header.little_endian, header.size, header.bhead.format)
    return (layout, heads.dna, heads.codes, *(c.typecode for c in cols), *(c.tolist() for c in cols))


def synthetic(layout: str, blocks: int, seed: int) -> tuple[bytes, list[tuple[bytes, int, int, int, int]]]:
    """A block stream in ``layout``: its bytes, and each block written (code, length, address, struct, offset).

    Mostly DATA of odd lengths (Blender does not pad), some ID blocks, a DNA1, then ENDB and bytes after
    it; the data holds ``DATA`` and ID-like words to trip a walk that would trust them.
    """
    magic, fmt = LAYOUTS[layout]
    bhead = struct.Struct(fmt)
    large = layout == "LargeBHead8"
    rng = random.Random(seed)
    out, written = bytearray(magic), []
    for index in range(blocks):
        code = b"DNA1" if index == blocks - 3 else rng.choice([b"DATA"] * 8 + [b"IM", b"MA", b"OB", b"REND"])
        length = rng.choice([0, 1, 3, 7, 24, 33, 130, rng.randrange(2000)])
        data = b"".join(rng.choice([b"DATA", b"IM\0\0", b"\0", b"x", b"\x07"]) for _ in range(length))[:length]
        addr, sdna, count = rng.randrange(1, 1 << 31), rng.randrange(900), rng.randint(1, 4)
        fields = (code, sdna, addr, length, count) if large else (code, length, addr, sdna, count)
        written.append((code, length, addr, sdna, len(out) + bhead.size))
        out += bhead.pack(*fields) + data
    out += bhead.pack(b"ENDB", 0, 0, 0, 0) + b"after the end: DATA DATA"
    return bytes(out), written


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("vector_from", [PLAIN, VECTOR], ids=["plain", "numpy"])
def test_every_header_layout_reads_as_written(tmp_path: Path, layout: str, vector_from: int) -> None:
    raw, written = synthetic(layout, 3000, seed=len(layout))
    path = tmp_path / "stream.blend"
    path.write_bytes(raw)
    heads = heads_of(path, vector_from)
    assert heads.lengths.tolist() == [w[1] for w in written]
    assert heads.addrs.tolist() == [w[2] for w in written]
    assert heads.sdnas.tolist() == [w[3] for w in written]
    assert heads.offsets.tolist() == [w[4] for w in written]
    assert heads.codes == {i: w[0] for i, w in enumerate(written) if w[0] != b"DATA"}
    dna = len(written) - 3
    assert heads.dna == (written[dna][4], written[dna][1])


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_both_paths_give_the_same_types(tmp_path: Path, layout: str) -> None:
    raw, _ = synthetic(layout, 200, seed=7)
    path = tmp_path / "stream.blend"
    path.write_bytes(raw)
    assert columns(heads_of(path, VECTOR)) == columns(heads_of(path, PLAIN))


@pytest.mark.parametrize("vector_from", [PLAIN, VECTOR], ids=["plain", "numpy"])
def test_a_negative_length_is_named_by_both_paths(tmp_path: Path, vector_from: int) -> None:
    raw, written = synthetic("LargeBHead8", 50, seed=3)
    data = bytearray(raw)
    at = written[20][4] - 32  # the 21st block's header
    data[at + 16 : at + 24] = (-9).to_bytes(8, "little", signed=True)
    path = tmp_path / "negative.blend"
    path.write_bytes(bytes(data))
    with pytest.raises(BlendError) as info:
        heads_of(path, vector_from)
    assert info.value.reason == f"block {written[20][0]!r} at byte {at} has a negative length"


@pytest.mark.parametrize("vector_from", [PLAIN, VECTOR], ids=["plain", "numpy"])
def test_a_stream_without_endb_keeps_every_block(tmp_path: Path, vector_from: int) -> None:
    raw, written = synthetic("SmallBHead8 little", 100, seed=5)
    path = tmp_path / "no-endb.blend"
    path.write_bytes(raw[: raw.rindex(b"ENDB")])
    assert heads_of(path, vector_from).offsets.tolist() == [w[4] for w in written]


def test_without_numpy_the_plain_path_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw, written = synthetic("LargeBHead8", 100, seed=11)
    path = tmp_path / "stream.blend"
    path.write_bytes(raw)
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` raises ImportError
    assert heads_of(path, VECTOR).lengths.tolist() == [w[1] for w in written]


@pytest.mark.parametrize("blend", REAL_BLENDS or [None], ids=lambda p: str(p.relative_to(REAL)) if p else "none")
def test_real_files_give_the_same_columns_both_ways(blend: Path | None) -> None:
    if blend is None:
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    try:
        plain = columns(heads_of(blend, PLAIN))
    except BlendError as exc:  # a damaged fixture: refused alike
        with pytest.raises(BlendError) as info:
            heads_of(blend, VECTOR)
        assert info.value.reason == exc.reason
        return
    assert columns(heads_of(blend, VECTOR)) == plain


@pytest.mark.bpy
@pytest.mark.parametrize("version", ["5.3", "5.0", "4.5"])
def test_files_blender_saves_give_the_same_columns_both_ways(matrix_shot: Callable[[str], Built], version: str) -> None:
    for blend in sorted(matrix_shot(version).scene.parent.rglob("*.blend")):
        assert columns(heads_of(blend, VECTOR)) == columns(heads_of(blend, PLAIN)), blend


@pytest.mark.parametrize("vector_from", [PLAIN, VECTOR, 500], ids=["plain", "numpy", "switching"])
def test_headers_across_chunk_edges_read_as_written(tmp_path: Path, vector_from: int) -> None:
    """The pass gets a file in pieces (frames of a zstd file, chunks of a plain one): headers cut at any byte."""
    raw, written = synthetic("LargeBHead8", 2000, seed=13)
    rng = random.Random(17)
    pieces, at = [], 0
    while at < len(raw):
        size = rng.choice([1, 5, 31, 33, 700, 4096, 65536])
        pieces.append(raw[at : at + size])
        at += size
    heads = read_heads(iter(pieces), tmp_path / "pieces.blend", vector_from=vector_from)
    assert heads.offsets.tolist() == [w[4] for w in written]
    assert heads.lengths.tolist() == [w[1] for w in written]
    assert heads.codes == {i: w[0] for i, w in enumerate(written) if w[0] != b"DATA"}


@pytest.mark.parametrize("vector_from", [PLAIN, VECTOR], ids=["plain", "numpy"])
def test_a_code_ends_at_its_first_nul_on_both_paths(tmp_path: Path, vector_from: int) -> None:
    """BAT reads a code up to its first NUL; a damaged or odd code (``A\\0B\\0``, ``\\0IM\\0``) reads the same here."""
    raw, written = synthetic("LargeBHead8", 60, seed=19)
    data = bytearray(raw)
    odd = {5: b"A\0B\0", 9: b"\0IM\0", 14: b"OB\0\0", 21: b"AB\0C"}
    for index, code in odd.items():
        at = written[index][4] - 32
        data[at : at + 4] = code
    path = tmp_path / "odd.blend"
    path.write_bytes(bytes(data))
    expected = {i: w[0] for i, w in enumerate(written) if w[0] != b"DATA"}
    expected.update({i: code.split(b"\0", 1)[0] for i, code in odd.items()})
    assert heads_of(path, vector_from).codes == expected
