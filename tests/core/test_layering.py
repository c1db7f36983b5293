"""The packages' layers, read from their import statements with ``ast`` (no module is imported).

* ``core/azrender`` names no application: it imports no plugin (``azrender_blender``,
  ``azrender_maya``, ``azrender_max``) and no application module (``bpy``,
  ``maya``, ``pymxs``, ``qtmax``), anywhere in a file, and names no plugin
  module in its code either (a ``python -m azrender_blender.runner`` it would
  start): it reaches the apps only through the :class:`azrender.apps.AppAdapter`
  entry points.
* A plugin's folders say where its code runs. ``ui/`` runs inside the open
  application and may import it anywhere. ``node/`` runs inside the application
  on the render node: its app import sits inside a function, so the headless side
  can still import the module and read its source. Everything else (the package's
  top level: scanning, command lines, the adapter) is headless: it imports its
  application nowhere, and nothing from ``ui/``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core" / "azrender"

# package folder -> the modules its application provides (the top-level names).
PLUGINS = {
    ROOT / "plugins" / "blender" / "azrender_blender": ("bpy", "bmesh", "mathutils"),
    ROOT / "plugins" / "maya" / "azrender_maya": ("maya", "pymel"),
    ROOT / "plugins" / "3dsmax" / "azrender_max": ("pymxs", "qtmax", "MaxPlus"),
}
APP_MODULES = tuple(name for names in PLUGINS.values() for name in names)
PLUGIN_PACKAGES = tuple(folder.name for folder in PLUGINS)



def imported(tree: ast.AST) -> Iterator[tuple[str, ast.stmt]]:
    """Every absolute module name an ``import``/``from ... import`` in ``tree`` names, with its statement."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node


def top(name: str) -> str:
    return name.split(".")[0]


def module_level(tree: ast.Module) -> set[int]:
    """Ids of the import statements that run when the module is imported (not inside a def)."""
    found: set[int] = set()

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                found.add(id(stmt))
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list):
                    visit([s for s in inner if isinstance(s, ast.stmt)] + [
                        s for h in inner if isinstance(h, ast.ExceptHandler) for s in h.body])

    visit(tree.body)
    return found


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def modules_in(folder: Path, where: str) -> list[Path]:
    """The plugin's modules that run ``where``: ``"ui"``, ``"node"`` or ``"headless"`` (the rest)."""
    def place(path: Path) -> str:
        first = path.relative_to(folder).parts[0]
        return first if first in ("ui", "node") else "headless"

    return sorted(p for p in folder.rglob("*.py") if place(p) == where)


def test_the_core_imports_no_plugin_and_no_application() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 50  # the walk found the core
    bad = [
        f"{path.relative_to(ROOT)}:{stmt.lineno} imports {name}"
        for path in files
        for name, stmt in imported(parse(path))
        if top(name) in (*PLUGIN_PACKAGES, *APP_MODULES)
    ]
    assert bad == []


# A plugin's module (or entry point) written as a whole string, as a command line would take it.
PLUGIN_MODULE = re.compile(rf"^({'|'.join(PLUGIN_PACKAGES)})(\.\w+)*(:\w+)?$")


def code_strings(tree: ast.Module) -> Iterator[ast.Constant]:
    """The string constants in ``tree`` that are not docstrings."""
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node


def test_the_core_names_no_plugin_module_in_its_code() -> None:
    assert PLUGIN_MODULE.match("azrender_blender.node.runner") and not PLUGIN_MODULE.match("azrender_blender runs")
    bad = [
        f"{path.relative_to(ROOT)}:{node.lineno} names {node.value!r}"
        for path in sorted(CORE.rglob("*.py"))
        for node in code_strings(parse(path))
        if PLUGIN_MODULE.match(str(node.value))
    ]
    assert bad == []


@pytest.mark.parametrize("folder", list(PLUGINS), ids=[f.name for f in PLUGINS])
def test_a_plugins_headless_modules_import_neither_its_application_nor_its_ui(folder: Path) -> None:
    app, ui = PLUGINS[folder], f"{folder.name}.ui"
    files = modules_in(folder, "headless")
    assert any(p.name == "adapter.py" for p in files)
    bad = [
        f"{path.relative_to(folder).as_posix()}:{stmt.lineno} imports {name}"
        for path in files
        for name, stmt in imported(parse(path))
        if top(name) in app or name == ui or name.startswith(ui + ".")
    ]
    assert bad == []


@pytest.mark.parametrize("folder", [f for f in PLUGINS if (f / "node").is_dir()], ids=lambda f: f.name)
def test_a_plugins_node_scripts_import_its_application_only_when_they_run(folder: Path) -> None:
    app = PLUGINS[folder]
    files = modules_in(folder, "node")
    assert files
    bad = []
    for path in files:
        tree = parse(path)
        loaded = module_level(tree)
        bad += [f"{path.relative_to(folder).as_posix()}:{stmt.lineno} imports {name} when imported"
                for name, stmt in imported(tree) if top(name) in app and id(stmt) in loaded]
    assert bad == []
