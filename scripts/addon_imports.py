"""Which distributions the Blender add-on needs: what its code imports, not all of azrender's.

The walk starts at the add-on's ``__init__.py`` (what Blender runs to
``register()`` it) and at the application adapters that ``azrender.apps`` loads by
entry point when a scan picks one for the scene, and follows every import statement into ``azrender`` and
``azrender_blender`` (imports inside functions included, since they run when a
button is pressed; ``if TYPE_CHECKING:`` blocks excluded, since they never run).
Modules outside those packages that are neither the standard library nor
Blender's own (``bpy``...) are mapped to the installed distributions that
provide them, and those to the requirement strings of ``pyproject.toml``
(a distribution azrender does not declare is asked for by name).
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from collections.abc import Iterator
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Modules Blender itself provides to add-ons: never bundled.
BLENDER_MODULES = frozenset({"bpy", "bpy_extras", "bl_ui", "bl_operators", "addon_utils", "mathutils",
                             "gpu", "gpu_extras", "bmesh", "blf", "aud", "imbuf", "idprop", "freestyle"})


# Imported by azrender modules the add-on loads, but only inside code that the command line alone
# runs; the extension tests install the zip and submit through the panel with click absent. (rich
# is bundled all the same while the render node's code needs it: see node_requirements.)
CLI_ONLY = {
    "rich": "azrender.progress.RichProgress draws the command line's bars (imported when created)",
    "click": "azrender.cli",
}


class AddonImportError(Exception):
    """The add-on imports something no installed distribution provides."""


def _local_roots(repo: Path) -> dict[str, Path]:
    plugins = repo / "plugins"
    return {"azrender": repo / "core" / "azrender", "azrender_blender": plugins / "blender" / "azrender_blender",
            "azrender_maya": plugins / "maya" / "azrender_maya", "azrender_max": plugins / "3dsmax" / "azrender_max"}


def _module_file(roots: dict[str, Path], dotted: str) -> Path | None:
    head, *rest = dotted.split(".")
    base = roots.get(head)
    if base is None:
        return None
    path = base.joinpath(*rest)
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def _module_name(roots: dict[str, Path], path: Path) -> tuple[str, bool]:
    for head, base in roots.items():
        if path.is_relative_to(base):
            parts = [head, *path.relative_to(base).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            return ".".join(parts[:-1] if is_package else parts), is_package
    raise AssertionError(path)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_version_test(test: ast.expr) -> bool:
    """``if sys.version_info >= (3, 11):``: each branch runs on some Pythons only."""
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Attribute) and (
        test.left.attr == "version_info")


def _catches_import_error(node: ast.Try) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    for handler in node.handlers:
        caught = handler.type
        elts = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if any(isinstance(e, ast.Name) and e.id in names for e in elts):
            return True
    return False


def _block(statements: list[ast.stmt]) -> ast.Module:
    return ast.Module(body=statements, type_ignores=[])


def _imports(tree: ast.AST, package: str, optional: bool = False) -> Iterator[tuple[str, bool]]:
    """(dotted name, optional) for every import in ``tree``; relative ones resolved against ``package``.

    Optional: inside ``try: ... except ImportError`` (bundled when installed here; the
    handler's fallback import is not followed) or one branch of a Python-version test.
    """
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(_block(node.orelse), package, optional)
            continue
        if isinstance(node, ast.If) and _is_version_test(node.test):
            # Which branch needs what is the requirement markers' job (pyproject.toml).
            yield from _imports(_block([*node.body, *node.orelse]), package, True)
            continue
        if isinstance(node, ast.Try) and _catches_import_error(node):
            yield from _imports(_block(node.body), package, True)
            yield from _imports(_block([*node.orelse, *node.finalbody]), package, optional)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, optional) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield base, optional
            # `from pkg import mod` imports a submodule when pkg/mod.py exists.
            yield from ((f"{base}.{alias.name}", optional) for alias in node.names)
        yield from _imports(node, package, optional)


def _entry_point_modules(repo: Path) -> list[str]:
    """Every ``azrender.apps`` adapter: picking the one for a scene loads them all (azrender.apps)."""
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    targets: dict[str, str] = project["entry-points"]["azrender.apps"]
    return [target.partition(":")[0] for target in targets.values()]


def imported_modules(repo: Path) -> dict[str, bool]:
    """Third-party dotted module names the add-on's code can import -> whether it can do without."""
    return _walk(repo)[0]


def _walk(repo: Path) -> tuple[dict[str, bool], set[Path]]:
    """(:func:`imported_modules`, the azrender files the walk reached)."""
    roots = _local_roots(repo)
    todo = [roots["azrender_blender"] / "__init__.py"]
    todo += [f for m in _entry_point_modules(repo) if (f := _module_file(roots, m)) is not None]
    seen: set[Path] = set()
    outside: dict[str, bool] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        name, is_package = _module_name(roots, path)
        package = name if is_package else name.rpartition(".")[0]
        for dotted, optional in _imports(ast.parse(path.read_text(encoding="utf-8")), package):
            parts = dotted.split(".")
            if parts[0] in roots:
                for i in range(1, len(parts) + 1):  # a module imports its parent packages too
                    if (found := _module_file(roots, ".".join(parts[:i]))) is not None:
                        todo.append(found)
            elif parts[0] not in sys.stdlib_module_names and parts[0] not in BLENDER_MODULES | CLI_ONLY.keys():
                outside[dotted] = outside.get(dotted, True) and optional
    return outside, seen


def node_requirements(repo: Path) -> list[str]:
    """What a submit packs for the render node from this installation, when the add-on submits.

    The node bundle (``azrender.nodebundle.bundle``, ``azrender.nodebundle.wheels``) is built
    from the installed distributions of ``NODE_REQUIREMENTS``, so an add-on that
    reaches the module defining it needs them installed too. Read from the source,
    not imported; the extension tests fail if the add-on lacks one.
    """
    for path in sorted(_walk(repo)[1]):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
            if any(isinstance(t, ast.Name) and t.id == "NODE_REQUIREMENTS" for t in targets):
                value = ast.literal_eval(node.value)  # type: ignore[arg-type]
                return [str(v) for v in value]
    return []


def _provided_modules() -> dict[str, str]:
    """Dotted module name -> canonical distribution name, for every installed distribution."""
    provided: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        dist_name = canonicalize_name(dist.metadata["Name"])
        for file in dist.files or ():
            if file.suffix != ".py" and not file.name.endswith((".so", ".pyd")):
                continue
            parts = list(file.parts)
            if parts[0].endswith((".dist-info", ".data")) or ".." in parts:
                continue
            parts[-1] = parts[-1].split(".")[0]
            if parts[-1] == "__init__":
                parts.pop()
            provided.setdefault(".".join(parts), dist_name)
    return provided


def distributions_for(modules: dict[str, bool]) -> set[str]:
    """The distributions (canonical names) providing ``modules``: the longest provided prefix wins.

    An optional module that nothing here provides is left out; a required one is an error.
    """
    provided = _provided_modules()
    names: set[str] = set()
    for dotted, optional in sorted(modules.items()):
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            dist = provided.get(".".join(parts[:i]))
            if dist is not None:
                names.add(dist)
                break
        else:
            if parts[:-1] or optional:  # `from pkg import function`: the last part is not a module
                continue
            raise AddonImportError(f"the add-on imports {dotted!r} but no installed distribution provides it "
                                   "(install azrender's dependencies into this Python first)")
    return names


# The marker variables (PEP 508: ``sys_platform``, ``platform_machine``) of a Python on each of
# Blender's platforms, for requirements that only some platforms have wheels of.
PLATFORM_MARKERS: dict[str, dict[str, str]] = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "windows-x64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "macos-x64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64"},
}


def requirements_for_addon(repo: Path, python_version: str, platform_name: str | None = None) -> list[str]:
    """pip requirement strings for the add-on on one Python (``"3.13"``) and Blender platform
    (``"macos-x64"``; ``None``: this machine's), sorted."""
    needed = distributions_for(imported_modules(repo))
    needed |= {canonicalize_name(Requirement(r).name) for r in node_requirements(repo)}
    declared = {canonicalize_name(Requirement(r).name): Requirement(r) for r in
                tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]}
    environment = {"python_version": python_version, "python_full_version": f"{python_version}.0",
                   **(PLATFORM_MARKERS[platform_name] if platform_name else {})}
    out = []
    for name in sorted(needed):
        req = declared.get(name)
        if req is None:
            out.append(name)
        elif req.marker is None or req.marker.evaluate(environment):
            out.append(f"{req.name}{req.specifier}")
    return out
