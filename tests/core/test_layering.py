"""The packages' layers, read from their import statements with ``ast`` (no module is imported).

* ``core/azrender`` names no application: it imports no plugin (``azrender_blender``,
  ``azrender_maya``, ``azrender_max``) and no application module (``bpy``,
  ``maya``, ``pymxs``, ``qtmax``), anywhere in a file, and names no plugin
  module in its code either (a ``python -m azrender_blender.runner`` it would
  start): it reaches the apps only through the :class:`azrender.apps.AppAdapter`
  entry points.
* A plugin's headless code (every module outside ``ui/``) imports its
  application nowhere, with two named exceptions: the scripts that run inside
  the application on the render node (their app import sits inside a
  function, so the headless side can still import them and read their source)
  and modules only the ``ui/`` code uses.
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

# Scripts that run inside the application on the node: the app import is inside a function.
IN_APP_SCRIPTS = {
    "azrender_blender/remap.py",  # its source is the job's remap.py, run by blender --python
    "azrender_blender/runner.py",  # the node's Blender runner, run by blender --python
    "azrender_maya/remap.py",  # its source is the job's remap.py, run in Render's -preRender
}
# Modules only ui/ code imports (they read what the open application holds).
UI_ONLY = {
    "azrender_blender/collect.py": "azrender_blender.ui.operators",  # bpy.data of the open scene
}


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


def headless_modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "ui" not in p.relative_to(folder).parts)


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
    assert PLUGIN_MODULE.match("azrender_blender.runner") and not PLUGIN_MODULE.match("azrender_blender runs")
    bad = [
        f"{path.relative_to(ROOT)}:{node.lineno} names {node.value!r}"
        for path in sorted(CORE.rglob("*.py"))
        for node in code_strings(parse(path))
        if PLUGIN_MODULE.match(str(node.value))
    ]
    assert bad == []


@pytest.mark.parametrize("folder", list(PLUGINS), ids=[f.name for f in PLUGINS])
def test_a_plugins_headless_modules_do_not_import_its_application(folder: Path) -> None:
    app = PLUGINS[folder]
    files = headless_modules(folder)
    assert any(p.name == "adapter.py" for p in files)
    bad = []
    for path in files:
        key = f"{folder.name}/{path.relative_to(folder).as_posix()}"
        if key in UI_ONLY:
            continue
        tree = parse(path)
        loaded = module_level(tree)
        for name, stmt in imported(tree):
            if top(name) not in app:
                continue
            if key in IN_APP_SCRIPTS and id(stmt) not in loaded:
                continue  # runs inside the application only, when the script's function is called
            bad.append(f"{key}:{stmt.lineno} imports {name}")
    assert bad == []


@pytest.mark.parametrize(("key", "user"), sorted(UI_ONLY.items()))
def test_modules_that_read_the_open_application_are_used_by_its_ui_alone(key: str, user: str) -> None:
    package, _, filename = key.partition("/")
    folder = next(f for f in PLUGINS if f.name == package)
    module = f"{package}.{filename.removesuffix('.py')}"
    short = filename.removesuffix(".py")
    users = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(parse(path)):
            names = []
            if isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    names.append(node.module)
                elif node.level and node.module:
                    names.append(node.module)  # relative: compare the last part
                names += [f"{node.module or ''}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n == module or n.split(".")[-1] == short for n in names):
                rel = path.relative_to(folder).with_suffix("").as_posix().replace("/", ".")
                users.append(f"{package}.{rel}")
    assert users and all(".ui." in u for u in users), users
    assert user in users
