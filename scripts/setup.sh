#!/usr/bin/env bash
# Set up everything azrender needs in this checkout, idempotently:
#   .venv/                     Python virtual environment with azrender (editable), bpy and dev tools
#   .tools/azurite/            the Azurite blob emulator from npm, at a pinned version
# Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
AZURITE_VERSION=3.37.0

say() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

pick_python() {
    # bpy (real Blender) is published for Python 3.11, the version Blender, Maya and Max embed.
    for candidate in "${AZRENDER_PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "setup: error: Python 3.11 is needed (bpy, real Blender, is built for it); set AZRENDER_PYTHON" >&2
    return 1
}

if [ ! -x .venv/bin/python ]; then
    PY=$(pick_python)
    say "creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi

stamp=.venv/.azrender-installed
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing azrender with bpy and dev tools into .venv (first time takes a few minutes)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[bpy,dev]"
    echo "$want" > "$stamp"
fi

if [ ! -x .tools/azurite/node_modules/.bin/azurite-blob ] ||
   [ "$(node -p 'require("./.tools/azurite/node_modules/azurite/package.json").version' 2>/dev/null)" != "$AZURITE_VERSION" ]; then
    command -v npm >/dev/null || { echo "setup: error: npm (Node.js 20) is needed for Azurite" >&2; exit 1; }
    say "installing Azurite $AZURITE_VERSION into .tools/azurite"
    mkdir -p .tools/azurite
    [ -f .tools/azurite/package.json ] || echo '{"name":"azrender-tools","private":true}' > .tools/azurite/package.json
    npm install --prefix .tools/azurite --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
fi
say "ready: $ROOT/.venv/bin/azrender"
