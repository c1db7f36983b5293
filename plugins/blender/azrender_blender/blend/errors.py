"""What the .blend reader raises: a file it cannot read, a header it cannot decode, a field the SDNA lacks.

Each names the file. The scanner turns them into :class:`azrender.errors.SceneError`
(see :mod:`azrender_blender.scan`); the reader itself knows nothing of the CLI.
"""

from __future__ import annotations

from pathlib import Path


class BlendError(Exception):
    """``path`` is not a .blend this reader can parse; ``reason`` says what it tripped over."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


class NewerHeader(BlendError):
    """The header announces a layout this reader does not know (Blender refuses those too)."""


class NoField(BlendError):
    """A struct of ``path``'s SDNA lacks a field the reader needs (a renamed or removed field)."""

    def __init__(self, path: Path, struct: bytes, field: bytes) -> None:
        super().__init__(path, f"{struct.decode(errors='replace')} has no field {field.decode(errors='replace')}")
        self.struct = struct
        self.field = field
