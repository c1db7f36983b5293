"""A large zstd .blend as Blender writes it (frames and a seek table), read with the frames decompressed ahead on a thread.

The file is saved by bpy with *Compress* on: a grid mesh big enough for
more frames than :mod:`azrender_blender.blend.seekable` decompresses in
line. What the reader gets is checked against zstandard's own streaming
decompression of the whole file, and the worker thread must be gone after a
whole pass, a pass the reader gave up, and a damaged frame.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_blend_heads import PLAIN, VECTOR, columns, heads_of

from azrender_blender.blend import BlendError, seekable

pytestmark = pytest.mark.bpy

_SAVE = r"""
import sys, bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.mesh.primitive_grid_add(x_subdivisions=300, y_subdivisions=300)
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1], compress=True)
"""


@pytest.fixture(scope="module")
def compressed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "grid.blend"
    subprocess.run([sys.executable, "-c", _SAVE, str(path)], check=True, capture_output=True, timeout=300)
    return path


def frames_of(path: Path) -> seekable.Frames:
    frames = seekable.open_frames(path, path.read_bytes())
    assert frames is not None, "bpy wrote no seek table"
    return frames


def workers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("azrender zstd")]


def whole(path: Path) -> bytes:
    import zstandard

    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True) as reader:
        return reader.read()


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n} workers")
def workers_of(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """As many decompressing threads as a machine with more CPUs would start."""
    monkeypatch.setattr(seekable, "_WORKERS", request.param)
    return int(request.param)


def test_the_frames_decompressed_ahead_are_the_file(compressed: Path, workers_of: int) -> None:
    frames = frames_of(compressed)
    assert len(frames._sizes) >= seekable._AHEAD_FROM  # the threaded pass, not the in-line one
    assert b"".join(frames) == whole(compressed)
    assert workers() == []


def test_the_block_headers_are_those_of_the_decompressed_file(compressed: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.blend"
    plain.write_bytes(whole(compressed))
    for vector_from in (PLAIN, VECTOR):
        assert columns(heads_of(compressed, vector_from)) == columns(heads_of(plain, vector_from))
    assert workers() == []


def test_a_pass_given_up_stops_the_worker(compressed: Path, workers_of: int) -> None:
    passing = iter(frames_of(compressed))
    first = next(passing)
    assert first.startswith(b"BLENDER")
    passing.close()  # type: ignore[attr-defined]
    assert workers() == []


def test_a_damaged_frame_is_named_where_it_is(compressed: Path, tmp_path: Path, workers_of: int) -> None:
    raw = bytearray(compressed.read_bytes())
    good = frames_of(compressed)
    middle = len(good._sizes) // 2
    at = good._starts[middle] + 20
    raw[at : at + 64] = bytes(64)  # inside the frame's compressed data
    damaged = tmp_path / "damaged.blend"
    damaged.write_bytes(bytes(raw))
    read: list[bytes] = []
    with pytest.raises(BlendError) as info:
        for frame in frames_of(damaged):
            read.append(frame)
    assert info.value.reason.startswith("ZstdError") or "seek table says" in info.value.reason
    assert len(read) == middle  # every frame before it, none after
    assert b"".join(read) == whole(compressed)[: good._offsets[middle]]
    assert workers() == []
