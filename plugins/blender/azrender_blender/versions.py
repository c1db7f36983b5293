"""The Blender version that saved a .blend file, from its header alone.

The header is the file's first 12 bytes (``BLENDER-v279``: pointer size,
endianness, 3-digit version) or, from Blender 5.0 on, 17 bytes
(``BLENDER17-01v0500``: header size, format version, endianness, 4-digit
version); the version is ``BLENDER_FILE_VERSION``, major * 100 + minor, of the
Blender that wrote the file (``BLO_readfile_blender_header_decode``). A file
saved with *Compress* is gzip or zstd: only its first bytes (a frame or 1 MiB)
are decompressed. The header is decoded by the scanner's own .blend reader
(:func:`azrender_blender.blend.source.decode_header`).
"""

from __future__ import annotations

from pathlib import Path

from azrender.model import AssetKind, AssetSet
from azrender_blender.blend import BlendError
from azrender_blender.blend.source import Source, decode_header


def version_text(version: int) -> str:
    """``503`` -> ``5.3``, ``279`` -> ``2.79`` (how Blender shows the header's version).

    >>> version_text(503), version_text(279), version_text(1203)
    ('5.3', '2.79', '12.3')
    """
    major, minor = divmod(version, 100)
    return f"{major}.{minor:02d}" if major < 3 else f"{major}.{minor}"


def saved_by(path: Path) -> str | None:
    """``"5.3"`` for a file saved by Blender 5.3; None when it is missing or not a .blend file."""
    try:
        source = Source(path)
    except (OSError, BlendError):
        return None
    chunks = source.chunks()
    try:
        first = next(chunks, b"")
        return version_text(decode_header(bytes(first[:17]), path).version)
    except (OSError, EOFError, BlendError):
        return None
    finally:
        chunks.close()
        source.close()


def note_versions(assets: AssetSet) -> AssetSet:
    """Fill ``assets.app_versions`` for the scene and every linked library that can be read."""
    for asset in assets.assets:
        if asset.kind in (AssetKind.SCENE, AssetKind.LIBRARY) and asset.exists:
            version = saved_by(asset.path)
            if version is not None:
                assets.app_versions[asset.path] = version
    return assets
