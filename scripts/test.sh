#!/usr/bin/env bash
# Set up, lint, type-check and run the whole test suite. Exits non-zero on any
# failure, and when pytest ran no test at all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff" >&2
lint_dirs=(core plugins tests)
[ -d bench ] && lint_dirs+=(bench)
.venv/bin/ruff check "${lint_dirs[@]}"
echo "== mypy --strict core and the plugins' headless and node code" >&2
# The plugins' ui/ folders are left out: they subclass bpy's untyped classes and
# call maya.cmds/pymxs, which only the applications provide.
.venv/bin/mypy --strict --exclude '/ui/' core/azrender \
    plugins/blender/azrender_blender plugins/maya/azrender_maya plugins/3dsmax/azrender_max
echo "== pytest" >&2
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "test: error: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$rc"
