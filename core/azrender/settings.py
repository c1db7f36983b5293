"""Where azrender keeps its own files on this machine.

``AZRENDER_DATA_DIR`` and ``AZRENDER_CACHE_DIR`` override the platform's user
folders (the tests and the demo use them to stay self-contained).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Persistent state: local-node folders and job records."""
    override = os.environ.get("AZRENDER_DATA_DIR")
    return Path(override) if override else platformdirs.user_data_path("azrender")


def cache_dir() -> Path:
    """Re-creatable state: the content-hash cache."""
    override = os.environ.get("AZRENDER_CACHE_DIR")
    return Path(override) if override else platformdirs.user_cache_path("azrender")
