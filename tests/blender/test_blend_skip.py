"""The blocks a walk of the scene's file leaves out (:func:`usages.holding_nothing`): they never held a path.

Objects without modifiers and meshes without external data are told apart
by their null pointers, read in bulk; the walk then skips them. Every real
.blend must trace to the same answer with and without the skip, and the
blocks that do hold a path (an ocean modifier's object, a multires mesh's
external ``.btx``) must never be among the skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from blender_helpers import REPO

from azrender_blender.blend import BlendError, BlendFile, NoField, Walk, trace
from azrender_blender.blend.usages import READ_CODES, holding_nothing

REAL = REPO.parent / "shared" / "fixtures" / "real"
BLENDFILES = REAL / "helio__blender-asset-tracer" / "tests" / "blendfiles"
REAL_BLENDS = sorted(REAL.rglob("*.blend")) if REAL.is_dir() else []


def opened(path: Path) -> BlendFile:
    try:
        return BlendFile(path)
    except BlendError:
        pytest.skip(f"{path.name} does not read (a damaged fixture)")


@pytest.mark.parametrize("blend", REAL_BLENDS or [None], ids=lambda p: str(p.relative_to(REAL)) if p else "none")
def test_skipping_the_blocks_that_hold_nothing_changes_no_answer(blend: Path | None) -> None:
    if blend is None:
        pytest.skip("../shared/fixtures/real is not beside this checkout")
    bfile = opened(blend)
    try:
        skipped = holding_nothing(bfile)
        try:
            whole = trace(Walk(bfile, BlendFile, READ_CODES))
        except (BlendError, NoField):
            return  # refused by the reader with or without the skip: tests/blender/test_blend_reader.py names why
        kept = trace(Walk(bfile, BlendFile, READ_CODES, skipped))
        assert kept.usages == whole.usages and kept.packed == whole.packed
        for index in skipped:  # each one, read the slow way, holds nothing
            block = bfile.block(index)
            assert block.code in (b"OB", b"ME")
            if block.code == b"OB":
                assert block.deref(b"modifiers", b"first") is None
            else:
                assert block.deref_or_none(b"ldata", b"external") is None
                assert block.deref_or_none(b"fdata", b"external") is None
    finally:
        bfile.close()


@pytest.mark.parametrize(("name", "code"), [("ocean_modifier.blend", b"OB"), ("multires_external.blend", b"ME")])
def test_a_block_that_holds_a_path_is_never_skipped(name: str, code: bytes) -> None:
    if not BLENDFILES.is_dir():
        pytest.skip("BAT's test .blend files are not in shared/fixtures/real")
    bfile = opened(BLENDFILES / name)
    try:
        holders = [i for i, c in bfile._codes.items() if c == code and
                   any(True for _ in trace(Walk(bfile, BlendFile, {code}, set(bfile._codes) - {i})).usages)]  # fmt: skip
        assert holders, f"{name} has no {code!r} block with a path"
        assert not set(holders) & holding_nothing(bfile)
    finally:
        bfile.close()
