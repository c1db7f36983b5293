"""``azrender.scan``'s public names, imported from their modules on first use, are those modules' objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import azrender.scan as scan


@pytest.mark.parametrize("name", scan.__all__)
def test_each_public_name_is_its_modules_object(name: str) -> None:
    home = importlib.import_module(scan._HOMES[name])
    assert getattr(scan, name) is getattr(home, name)
    assert name in dir(scan)


def test_the_table_of_homes_and_all_agree() -> None:
    modules = {"assets", "envvars", "resolve", "tokens"}  # the package's own modules, not in __all__
    assert sorted(scan.__all__) == sorted(set(scan._HOMES) - modules)
    assert all(scan._HOMES[m] == f"azrender.scan.{m}" for m in modules)


def test_the_modules_behind_the_names_are_attributes_of_the_package() -> None:
    code = ("import sys, azrender.scan as s; print(s.resolve.__name__, s.tokens.has_tokens('a.<UDIM>.png'),"
            " s.assets.asset_at is s.asset_at)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["azrender.scan.resolve", "True", "True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'expand_everything'"):
        _ = scan.expand_everything  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from azrender.scan import expand_everything", {})


def test_importing_the_package_loads_none_of_its_modules_until_a_name_is_used() -> None:
    code = ("import sys, azrender.scan as s; before = sorted(m for m in sys.modules if m.startswith('azrender.scan.'));"
            " s.expand_vars; print(before, 'azrender.scan.envvars' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[] True"
