"""blender-asset-tracer's trace as the scanner ran it before its own reader: the reference the reader must equal.

The walk is BAT's ``file2blocks.BlockIterator`` with the two changes the
scanner made to it (the scene's own blocks not expanded; node trees followed
through ``compositing_node_group`` *and* ``nodetree``), the paths are BAT's
``blocks2assets.iter_assets``, packed blocks are counted as the scanner did.
Each path comes back as the reader's :class:`~azrender_blender.blend.Usage`
plus BAT's own absolute path (``BlockUsage.abspath``), so the test compares
records field by field.

BAT is patched only inside :func:`bat_trace` and restored after, so nothing
else in the test session sees a changed BAT.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from blender_asset_tracer import blendfile, trace
from blender_asset_tracer.trace import blocks2assets, expanders, file2blocks

from azrender_blender.blend import Usage
from azrender_blender.blend.usages import PACKABLE


def _expand_nodetree_id(block: blendfile.BlendFileBlock) -> Iterator[blendfile.BlendFileBlock]:
    for field_name in (b"compositing_node_group", b"nodetree"):
        if block.dna_type.has_field(field_name):
            ntree = block.get_pointer(field_name, None)
            if ntree is not None:
                yield from expanders._expand_generic_nodetree(ntree)


class _TopNotExpanded(file2blocks.BlockIterator):
    def __init__(self, top: blendfile.BlendFile) -> None:
        super().__init__()
        self._top = top

    def _queue_dependencies(self, block: blendfile.BlendFileBlock) -> None:
        if block.bfile is not self._top:
            super()._queue_dependencies(block)


@contextlib.contextmanager
def _patched() -> Iterator[None]:
    saved = expanders._expand_generic_nodetree_id
    logger = logging.getLogger("blender_asset_tracer")
    propagate, quiet = logger.propagate, logging.NullHandler()  # BAT warns about every missing file
    expanders._expand_generic_nodetree_id = _expand_nodetree_id
    logger.propagate = False
    logger.addHandler(quiet)
    try:
        yield
    finally:
        expanders._expand_generic_nodetree_id = saved
        logger.propagate = propagate
        logger.removeHandler(quiet)
        blendfile.close_all_cached()


def bat_trace(scene: Path) -> tuple[list[tuple[Usage, Path]], set[tuple[Path, int]]]:
    """Every path BAT finds for ``scene`` (with BAT's absolute path), and the packed (file, address) pairs."""
    found: list[tuple[Usage, Path]] = []
    packed: set[tuple[Path, int]] = set()
    with _patched():
        top = blendfile.open_cached(scene)
        for block in trace.asset_holding_blocks(_TopNotExpanded(top).iter_blocks(top)):
            if block.code in PACKABLE and block.get(b"packedfile", default=0):
                packed.add((Path(block.bfile.filepath), block.addr_old))
                continue
            for usage in blocks2assets.iter_assets(block):
                record = Usage(
                    blend=Path(usage.block.bfile.filepath),
                    code=usage.block.code,
                    struct=usage.block.dna_type_name,
                    name=bytes(usage.block_name),
                    path=bytes(usage.asset_path),
                    is_sequence=usage.is_sequence,
                    strip=usage.path_dir_field is not None,
                )
                found.append((record, Path(usage.abspath)))
    return found, packed
