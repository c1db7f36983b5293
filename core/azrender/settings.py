"""Where azrender keeps its own files on this machine.

``AZRENDER_DATA_DIR`` and ``AZRENDER_CACHE_DIR`` override the platform's user
folders (the tests and the demo use them to stay self-contained).

On Linux the folders are the XDG Base Directory specification's
(https://specifications.freedesktop.org/basedir-spec/latest/: ``$XDG_DATA_HOME``,
default ``$HOME/.local/share``; ``$XDG_CACHE_HOME``, default ``$HOME/.cache``;
"if ... either not set or empty, a default ... should be used", and a relative
path "should [be considered] invalid and ignore[d]", as platformdirs does), read here
because every scan asks for the cache folder and loading ``platformdirs``
(which loads ``tempfile``) would be a tenth of a small scan's start-up.
Elsewhere ``platformdirs`` answers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "azrender"


def data_dir() -> Path:
    """Persistent state: local-node folders and job records."""
    override = os.environ.get("AZRENDER_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "linux":
        return _xdg("XDG_DATA_HOME", ".local/share")
    import platformdirs

    return platformdirs.user_data_path(APP)


def cache_dir() -> Path:
    """Re-creatable state: the content-hash cache and the scan cache."""
    override = os.environ.get("AZRENDER_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "linux":
        return _xdg("XDG_CACHE_HOME", ".cache")
    import platformdirs

    return platformdirs.user_cache_path(APP)


def _xdg(variable: str, default: str) -> Path:
    """``$variable/azrender``, or ``~/<default>/azrender`` when it is unset, empty or relative."""
    base = os.environ.get(variable, "")
    return Path(base if os.path.isabs(base) else os.path.expanduser(f"~/{default}")) / APP
