"""``python -m azrender.presets [--check]``: regenerate (or check) schema.json."""

from __future__ import annotations

from azrender.presets.schema import main

raise SystemExit(main())
