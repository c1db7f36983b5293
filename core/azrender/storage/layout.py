"""Where an asset lives in the assets container: by path ("mirror") or by content hash ("content").

>>> cas_blob("ab12cd")
'cas/ab/ab12cd'

``mirror`` keeps the tree browsable and mountable (blobfuse sees the files);
``content`` stores identical files once across shots and renames, and a job
manifest maps each path to its hash for the node to materialize.
"""

from __future__ import annotations

from azrender.errors import UsageError

#: Blob name = the asset's mirror path (``P/show/tex/a.png``).
LAYOUT_MIRROR = "mirror"
#: Blob name = the content hash (``cas/ab/ab12…``); the manifest maps paths to hashes.
LAYOUT_CONTENT = "content"
LAYOUTS = (LAYOUT_MIRROR, LAYOUT_CONTENT)
CAS_PREFIX = "cas/"


def cas_blob(content_hash: str) -> str:
    """The content-addressed blob name of a hash (two-character fan-out, like git)."""
    return f"{CAS_PREFIX}{content_hash[:2]}/{content_hash}"


def check_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise UsageError(
            f"unknown storage layout {layout!r}", hint=f"use one of {', '.join(LAYOUTS)}"
        )
    return layout
