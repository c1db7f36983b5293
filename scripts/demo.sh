#!/usr/bin/env bash
# The main job, end to end: make a real Blender scene, scan it, upload it to a
# private Azurite, render it with the local backend (an emulated Batch node) and
# download the frames. Prints where the frames landed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m azrender.local.azurite .venv/bin/python scripts/demo.py "$@"
