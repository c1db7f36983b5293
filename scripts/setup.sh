#!/usr/bin/env bash
# Set up everything azrender needs in this checkout, idempotently:
#   .venv/                     Python virtual environment with azrender (editable), bpy and dev tools
#   .tools/azurite/            the Azurite blob emulator from npm, at a pinned version
#   .tools/azcopy/azcopy       Microsoft's azcopy from npm (x86_64 Linux), for node_sync = "azcopy"
#   .venv-blender53/           Python 3.13 with azrender and bpy 5.3 (the current Blender), when a
#                              Python 3.13 is found (AZRENDER_PYTHON313, python3.13, pyenv)
#   .venv-blender45/           Python 3.11 with bpy 4.5 LTS only: ground truth for LTS-saved scenes
# Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
AZURITE_VERSION=3.37.0
AZCOPY_VERSION=10.32.2

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

PY=$(pick_python)
if [ ! -x .venv/bin/python ]; then
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

pick_python313() {
    # Blender 5.1+ embeds CPython 3.13 and bpy 5.1+ is published for cp313 only. pyenv's shim
    # for python3.13 exists even when 3.13 is not the active version, so each candidate is run.
    local root candidate
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for candidate in "${AZRENDER_PYTHON313:-}" python3.13 "$root"/versions/3.13*/bin/python3.13; do
        [ -n "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' \
               >/dev/null 2>&1; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}

# blender_env DIR PYTHON STAMP PIP-ARGS...: a venv at DIR made by PYTHON, filled by pip once per STAMP.
blender_env() {
    local dir=$1 py=$2 want=$3; shift 3
    [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
    if [ ! -f "$dir/.azrender-installed" ] || [ "$(cat "$dir/.azrender-installed")" != "$want" ]; then
        say "installing $* into $dir (first time takes a few minutes)"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
        echo "$want" > "$dir/.azrender-installed"
    fi
}

BPY_LTS=4.5.15
if PY313=$(pick_python313); then
    blender_env .venv-blender53 "$PY313" "$want" -e ".[bpy]"
else
    if [ "${CI:-}" = "true" ]; then
        echo "setup: error: Python 3.13 is needed for bpy 5.3 (Blender 5.1+); set AZRENDER_PYTHON313" >&2
        exit 1
    fi
    say "warning: no Python 3.13 found; tests with bpy 5.3 (Blender 5.1+) will be skipped"
fi
blender_env .venv-blender45 "$PY" "bpy==$BPY_LTS" "bpy==$BPY_LTS"

if [ ! -x .tools/azurite/node_modules/.bin/azurite-blob ] ||
   [ "$(node -p 'require("./.tools/azurite/node_modules/azurite/package.json").version' 2>/dev/null)" != "$AZURITE_VERSION" ]; then
    command -v npm >/dev/null || { echo "setup: error: npm (Node.js 20) is needed for Azurite" >&2; exit 1; }
    say "installing Azurite $AZURITE_VERSION into .tools/azurite"
    mkdir -p .tools/azurite
    [ -f .tools/azurite/package.json ] || echo '{"name":"azrender-tools","private":true}' > .tools/azurite/package.json
    npm install --prefix .tools/azurite --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
fi
install_azcopy() {
    # The npm package ships the official Linux x86_64 binary; it links libsecret-1, which a
    # minimal machine lacks: then the Debian library is unpacked beside it (no system change).
    local dir=.tools/azcopy
    local bin=$dir/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64
    if [ ! -f "$bin" ] ||
       [ "$(node -p 'require("./.tools/azcopy/node_modules/@azure-tools/azcopy-linux/package.json").version' 2>/dev/null)" != "$AZCOPY_VERSION" ]; then
        say "installing azcopy $AZCOPY_VERSION into $dir"
        mkdir -p "$dir"
        [ -f "$dir/package.json" ] || echo '{"name":"azrender-tools","private":true}' > "$dir/package.json"
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@azure-tools/azcopy-linux@$AZCOPY_VERSION" >&2
    fi
    chmod +x "$bin"
    if ! ldconfig -p 2>/dev/null | grep -q 'libsecret-1\.so\.0' && [ ! -f "$dir/lib/libsecret-1.so.0" ]; then
        say "unpacking libsecret-1 (needed by azcopy) into $dir/lib"
        local tmp; tmp=$(mktemp -d)
        if (cd "$tmp" && { apt-get download libsecret-1-0 >/dev/null 2>&1 ||
                           { apt-get update -qq >/dev/null 2>&1 && apt-get download libsecret-1-0 >/dev/null 2>&1; }; }); then
            dpkg -x "$tmp"/libsecret-1-0_*.deb "$tmp/x"
            mkdir -p "$dir/lib"
            cp -P "$tmp"/x/usr/lib/*/libsecret-1.so.0* "$dir/lib/"
        else
            say "warning: could not fetch libsecret-1-0; install it (apt-get install libsecret-1-0) for azcopy"
        fi
        rm -rf "$tmp"
    fi
    cat > "$dir/azcopy" <<'WRAPPER'
#!/bin/sh
# azcopy with the libraries setup.sh unpacked beside it (see scripts/setup.sh).
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    exec "$here/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64" "$@"
WRAPPER
    chmod +x "$dir/azcopy"
}

if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    install_azcopy
else
    say "azcopy is only fetched for Linux x86_64; tests of node_sync = \"azcopy\" will be skipped"
fi
# An editable install leaves the checkout's modules without bytecode, and where
# PYTHONDONTWRITEBYTECODE is set (as on the CI machines) every process would compile
# them from source again: about half of a small `azrender scan`. pip compiles a wheel's
# modules when it installs them; this does the same for the checkout (a .pyc whose
# source changed since is not used: Python checks the source's mtime and size).
for venv in .venv .venv-blender53; do
    [ -x "$venv/bin/python" ] && "$venv/bin/python" -m compileall -q core plugins >/dev/null
done
say "ready: $ROOT/.venv/bin/azrender"
