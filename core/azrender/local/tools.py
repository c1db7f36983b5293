"""Find the programs ``scripts/setup.sh`` installs into the project's ``.tools/`` folder.

    find_tool("AZRENDER_AZCOPY", "azcopy/azcopy", "azcopy")   # '/repo/.tools/azcopy/azcopy' or None
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def find_tool(env_var: str, bundled: str, name: str) -> str | None:
    """The first runnable file of ``$env_var``, ``.tools/<bundled>`` and ``name`` on ``PATH``; else None."""
    for candidate in (os.environ.get(env_var, ""), str(REPO_ROOT / ".tools" / bundled), shutil.which(name) or ""):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None
