"""A streamed .blend's bytes kept for reading back (azrender_blender.blend.spool): memory while small, then a file."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
from pathlib import Path

import pytest
from blender_helpers import REPO

from azrender_blender.blend import spool as spool_module
from azrender_blender.blend.file import BlendFile
from azrender_blender.blend.spool import Spool

REAL = REPO.parent / "shared" / "fixtures" / "real"
GZIP_BLEND = REAL / "helio__blender-asset-tracer" / "tests" / "blendfiles" / "basic_file_compressed.blend"


def written(spool: Spool, data: bytes, seed: int) -> None:
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        size = rng.choice([1, 7, 100, 4096])
        spool.write(data[at : at + size])
        at += size
    spool.flush()


@pytest.mark.parametrize("spill", [1 << 20, 5000, 0], ids=["memory", "spills midway", "disk from the start"])
def test_every_range_reads_back_as_written(spill: int) -> None:
    data = random.Random(1).randbytes(20_000)
    spool = Spool(spill=spill)
    written(spool, data, seed=spill)
    assert spool.on_disk is (spill < len(data))
    rng = random.Random(2)
    for _ in range(200):
        offset, size = rng.randrange(len(data) + 10), rng.randrange(3000)
        assert spool.read_at(offset, size) == data[offset : offset + size]
    spool.close()


def test_a_small_gzip_blend_is_read_without_a_temporary_file(tmp_path: Path) -> None:
    if not GZIP_BLEND.is_file():
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    assert GZIP_BLEND.read_bytes()[:2] == b"\x1f\x8b"
    code = ("import sys; from pathlib import Path; from azrender_blender.blend.file import BlendFile;"
            f" f = BlendFile(Path({str(GZIP_BLEND)!r})); print(len(f), 'tempfile' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    count, loaded = out.stdout.split()
    assert int(count) > 100 and loaded == "False"


def test_a_gzip_blend_past_the_limit_reads_the_same_from_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    if not GZIP_BLEND.is_file():
        pytest.skip("../shared/fixtures/real is not beside this checkout")

    def blocks() -> tuple[bool, list[tuple[bytes, int, bytes]]]:
        f = BlendFile(GZIP_BLEND)
        try:
            found = [(f.code_of(i), f.block(i).offset, f.block(i).data) for i in range(len(f))]
            return f._source._spool is not None and f._source._spool.on_disk, found
        finally:
            f.close()

    on_disk, in_memory = blocks()
    assert not on_disk
    monkeypatch.setattr(spool_module, "SPILL", 4096)
    assert blocks() == (True, in_memory)
    expected = gzip.decompress(GZIP_BLEND.read_bytes())
    assert all(expected[offset : offset + len(data)] == data for _, offset, data in in_memory)
