"""3ds Max runs this at startup (the package's pre-start-up part): make ``azrender_max`` importable.

The package folder (the one holding ``PackageContents.xml``) has ``azrender_max/``
in it; it goes on ``sys.path``. In a source checkout (``plugins/3dsmax`` of the
azrender repository) the checkout's ``core/`` goes there too, so a developer
needs no install; otherwise ``azrender`` itself comes from 3ds Max's Python
(``3dsmaxpy -m pip install azrender``). Running it twice adds nothing twice.
"""

import os
import sys


def package_paths(script):
    """The folders to import from, for this script at ``<package>/Contents/scripts/``."""
    bundle = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(script))))
    paths = [bundle]
    core = os.path.join(os.path.dirname(os.path.dirname(bundle)), "core")
    if os.path.isfile(os.path.join(core, "azrender", "__init__.py")):
        paths.append(core)
    return paths


def install(script, path_list=None):
    """Prepend the package folders to ``path_list`` (``sys.path``) once; returns what was added."""
    target = sys.path if path_list is None else path_list
    added = [p for p in package_paths(script) if p not in target]
    target[:0] = added
    return added


def _this_file():
    """This script's path: ``__file__``, or what 3ds Max says it is running."""
    if globals().get("__file__"):
        return globals()["__file__"]
    from pymxs import runtime  # 3ds Max versions that run startup Python without __file__

    return str(runtime.getSourceFileName())


try:
    install(_this_file())
except Exception as exc:  # never break 3ds Max's startup over a path
    print(f"azrender: could not add azrender_max to sys.path: {exc}")
