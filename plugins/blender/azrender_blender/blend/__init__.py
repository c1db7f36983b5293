"""A .blend reader made for dependency scanning: the paths a scene and the libraries it uses hold, fast.

* :mod:`.source` — the file's bytes (plain read in chunks, gzip and zstd streamed once) and its header;
* :mod:`.dna` — the file's own struct catalogue (``DNA1``), field offsets computed once per struct;
* :mod:`.file` — :class:`BlendFile`: block headers in one pass, fields by name, pointers by old address;
* :mod:`.walk` — the blocks the scene uses (libraries followed only for what is linked);
* :mod:`.usages` — the paths those blocks hold; :mod:`.paths` — how they are made absolute.

It reads what blender-asset-tracer read for the scanner, block for block
(``tests/blender/test_blend_reader.py`` holds the two side by side), without
a Python call per byte read: only block headers are read up front, and only
blocks that can hold a path, or lead to one, are decoded.
"""

from .errors import BlendError, NewerHeader, NoField
from .file import BlendFile, Block
from .usages import Trace, Usage, trace
from .walk import Walk

__all__ = ["BlendError", "BlendFile", "Block", "NewerHeader", "NoField", "Trace", "Usage", "Walk", "trace"]
