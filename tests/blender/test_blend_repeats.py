"""Runs of repeated blocks followed by :mod:`azrender_blender.blend.repeats`: every header where it was written.

The streams here are what Blender writes for many copies of one setup (the
same sequence of block lengths again and again), with the ways a copy can
differ: a longer block, one block more or fewer, a foreign block between
copies, headers cut by a chunk's edge, data that holds copies of headers (a
packed .blend) and a negative length inside a run. Each is read with the
repeats on and checked against what the test wrote, and against the plain
loop; a spy counts the headers the repeats gave, so a test cannot pass by
the loop alone.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_blend_heads import LAYOUTS, PLAIN, VECTOR, columns, heads_of

from azrender_blender.blend import BlendError, repeats
from azrender_blender.blend.heads import read_heads

pytest.importorskip("numpy")

Written = list[tuple[bytes, int, int, int, int]]  # code, length, address, struct, data offset


def stream(layout: str, blocks: Iterator[tuple[bytes, bytes]]) -> tuple[bytes, Written]:
    """A .blend stream of ``blocks`` (code, data) in ``layout``, then DNA1 and ENDB."""
    magic, fmt = LAYOUTS[layout]
    bhead = struct.Struct(fmt)
    large = layout == "LargeBHead8"
    out, written = bytearray(magic), []
    for index, (code, data) in enumerate([*blocks, (b"DNA1", b"SDNA")]):
        addr, sdna = 0x1000 + 16 * index, index % 7
        fields = (code, sdna, addr, len(data), 1) if large else (code, len(data), addr, sdna, 1)
        written.append((code, len(data), addr, sdna, len(out) + bhead.size))
        out += bhead.pack(*fields) + data
    out += bhead.pack(b"ENDB", 0, 0, 0, 0)
    return bytes(out), written


def copies(count: int, unit: list[int], seed: int, change: float = 0.0) -> Iterator[tuple[bytes, bytes]]:
    """``count`` copies of a unit of blocks with ``unit``'s lengths (an ID block first); ``change`` of them differ."""
    rng = random.Random(seed)
    for _ in range(count):
        lengths = list(unit)
        if rng.random() < change:
            kind, at = rng.randrange(3), rng.randrange(len(lengths))
            if kind == 0:
                lengths[at] += rng.choice([1, 8, 300])
            elif kind == 1:
                lengths.insert(at, rng.randrange(200))
            elif len(lengths) > 1:
                del lengths[at]
        for i, length in enumerate(lengths):
            yield (b"MA" if i == 0 else b"DATA"), bytes(rng.randrange(256) for _ in range(min(length, 8))).ljust(length, b"\0")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many headers each :meth:`Repeats.follow` call gave."""
    given: list[int] = []
    follow = repeats.Repeats.follow

    def counted(self: repeats.Repeats, buf: bytes, pos: int, limit: int) -> tuple[object, int]:
        run, after = follow(self, buf, pos, limit)
        given.append(len(run))
        return run, after

    monkeypatch.setattr(repeats.Repeats, "follow", counted)
    return given


UNIT = [1760, 136, 8, 584, 736, 64, 384, 528, 16, 528, 16, 528, 32, 384, 1024, 528, 16, 56]


def check(path: Path, raw: bytes, written: Written) -> None:
    path.write_bytes(raw)
    heads = heads_of(path, VECTOR)
    assert heads.offsets.tolist() == [w[4] for w in written]
    assert heads.lengths.tolist() == [w[1] for w in written]
    assert heads.codes == {i: w[0] for i, w in enumerate(written) if w[0] != b"DATA"}
    assert columns(heads) == columns(heads_of(path, PLAIN))


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_copies_of_one_unit_are_followed_in_every_layout(tmp_path: Path, layout: str, spy: list[int]) -> None:
    raw, written = stream(layout, copies(2000, UNIT, seed=1))
    check(tmp_path / "copies.blend", raw, written)
    assert sum(spy) > 0.9 * len(written)  # the repeats gave most headers, not the loop


@pytest.mark.parametrize("change", [0.01, 0.2, 1.0])
def test_copies_that_differ_are_read_as_written(tmp_path: Path, change: float, spy: list[int]) -> None:
    raw, written = stream("LargeBHead8", copies(3000, UNIT, seed=2, change=change))
    check(tmp_path / "changed.blend", raw, written)
    if change < 0.1:
        assert sum(spy) > 0.5 * len(written)


def test_sections_of_different_units_and_noise_between(tmp_path: Path, spy: list[int]) -> None:
    rng = random.Random(3)

    def blocks() -> Iterator[tuple[bytes, bytes]]:
        for section in range(6):
            unit = [rng.randrange(1, 900) for _ in range(rng.choice([1, 2, 7, 85, 200]))]
            yield from copies(rng.randrange(50, 400), unit, seed=section, change=0.02)
            for _ in range(rng.randrange(1, 300)):  # blocks of no period
                yield b"DATA", bytes(rng.randrange(2000))

    raw, written = stream("LargeBHead8", blocks())
    check(tmp_path / "sections.blend", raw, written)
    assert sum(spy) > 0


def test_data_holding_copies_of_headers_does_not_mislead_it(tmp_path: Path, spy: list[int]) -> None:
    """A block whose data is a copy of the stream around it (a packed .blend) shifts every header after it."""
    inner, _ = stream("LargeBHead8", copies(40, UNIT, seed=4))

    def blocks() -> Iterator[tuple[bytes, bytes]]:
        yield from copies(500, UNIT, seed=5)
        yield b"DATA", inner[17 + 32 + UNIT[0] : 17 + 32 + UNIT[0] + 5 * sum(u + 32 for u in UNIT) + 7]
        yield from copies(500, UNIT, seed=6)

    raw, written = stream("LargeBHead8", blocks())
    check(tmp_path / "packed.blend", raw, written)
    assert sum(spy) > 0.8 * len(written)


def test_runs_cut_by_chunk_edges_read_as_written(tmp_path: Path, spy: list[int]) -> None:
    raw, written = stream("LargeBHead8", copies(3000, UNIT, seed=7, change=0.01))
    rng = random.Random(8)
    pieces, at = [], 0
    while at < len(raw):
        size = rng.choice([33, 4096, 65536, 300_000])
        pieces.append(raw[at : at + size])
        at += size
    heads = read_heads(iter(pieces), tmp_path / "pieces.blend", vector_from=VECTOR)
    assert heads.offsets.tolist() == [w[4] for w in written]
    assert sum(spy) > 0.5 * len(written)


def test_a_negative_length_inside_a_run_is_named(tmp_path: Path) -> None:
    raw, written = stream("LargeBHead8", copies(1000, UNIT, seed=9))
    bad = 700 * len(UNIT) + 5  # deep inside what the repeats follow
    data = bytearray(raw)
    at = written[bad][4] - 32
    data[at + 16 : at + 24] = (-9).to_bytes(8, "little", signed=True)
    path = tmp_path / "negative.blend"
    path.write_bytes(bytes(data))
    for vector_from in (VECTOR, PLAIN):
        with pytest.raises(BlendError) as info:
            heads_of(path, vector_from)
        assert info.value.reason == f"block b'DATA' at byte {at} has a negative length"


def test_a_miss_makes_the_next_try_wait_longer() -> None:
    found = repeats.Repeats(32, large_bhead=True, little_endian=True)
    noise = [0]
    for jump in random.Random(10).choices(range(32, 900), k=600):
        noise.append(noise[-1] + jump)
    waits = []
    for _ in range(8):
        assert not found.find(noise[:-1], noise[-1])
        waits.append(found.wait)
    assert waits == [256, 512, 1024, 2048, 4096, 8192, 16384, 16384]
    periodic = [32 * 3 * i for i in range(600)]  # every block 64 bytes of data
    assert found.find(periodic[:-1], periodic[-1]) and found.holding


def test_a_known_size_takes_numpy_up_once_the_first_blocks_say_the_file_is_large(tmp_path: Path, spy: list[int]) -> None:
    """``size`` (a plain file's, a seekable zstd file's) lets the first 20,000 blocks stand for the rest."""
    raw, written = stream("LargeBHead8", copies(3400, UNIT, seed=11))
    pieces = [raw[at : at + 65536] for at in range(0, len(raw), 65536)]
    large = int(len(written) * 0.9)  # the file has more blocks than that; the first 20,000 do not
    heads = read_heads(iter(pieces), tmp_path / "sized.blend", vector_from=large, size=len(raw))
    assert heads.offsets.tolist() == [w[4] for w in written]
    assert sum(spy) > 0.6 * len(written)  # from about block 20,000 on
    spy.clear()
    unsized = read_heads(iter(pieces), tmp_path / "sized.blend", vector_from=large)
    assert unsized.offsets.tolist() == [w[4] for w in written]
    assert sum(spy) < 0.15 * len(written)  # only past block `large`
