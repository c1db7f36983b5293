"""The 3ds Max package bundle: PackageContents.xml, the MacroScript and the startup Python."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

import azrender
from azrender_max.ui import macro

BUNDLE = Path(__file__).resolve().parents[2] / "plugins" / "3dsmax"
GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
# The Components kinds 3ds Max loads from a package (its packaging documentation).
KNOWN_PARTS = {"pre-start-up scripts parts", "post-start-up scripts parts", "macroscripts parts",
               "icons parts", "plug-ins parts"}


def package() -> ET.Element:
    return ET.parse(BUNDLE / "PackageContents.xml").getroot()


def test_package_xml_has_what_3ds_max_requires() -> None:
    root = package()
    assert root.tag == "ApplicationPackage"
    assert root.get("AutodeskProduct") == "3ds Max" and root.get("ProductType") == "Application"
    assert root.get("AppVersion") == azrender.__version__  # one version for wheel and bundle
    assert re.fullmatch(r"\d+\.\d+\.\d+", root.get("AppVersion", ""))
    assert GUID.match(root.get("UpgradeCode", "")) and GUID.match(root.get("ProductCode", ""))
    assert root.find("CompanyDetails") is not None
    components = root.findall("Components")
    assert {c.get("Description") for c in components} == {"pre-start-up scripts parts", "macroscripts parts"}
    for comp in components:
        assert comp.get("Description") in KNOWN_PARTS
        req = comp.find("RuntimeRequirements")
        assert req is not None and req.get("OS") == "Win64" and req.get("Platform") == "3ds Max"
        assert int(req.get("SeriesMin", "0")) <= int(req.get("SeriesMax", "0"))
        entries = comp.findall("ComponentEntry")
        assert entries
        for entry in entries:
            module = entry.get("ModuleName", "")
            assert module.startswith("./"), module
            assert (BUNDLE / module).is_file(), f"{module} is referenced but not in the bundle"
            assert entry.get("Version") == azrender.__version__


def test_every_file_in_contents_is_referenced() -> None:
    referenced = {(BUNDLE / e.get("ModuleName", "")).resolve() for e in package().iter("ComponentEntry")}
    shipped = {p.resolve() for p in (BUNDLE / "Contents").rglob("*") if p.is_file() and p.suffix != ".pyc"}
    assert shipped == referenced


def maxscript_strings(text: str) -> list[str]:
    """MAXScript string literals (``"..."`` with ``\\"`` escapes), comment lines left out."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', code)
    assert code.count('"') - sum(s.count('\\"') for s in strings) == 2 * len(strings), "unbalanced quotes"
    return [s.replace('\\"', '"').replace("\\\\", "\\") for s in strings]


def test_macroscript_opens_the_dialog() -> None:
    text = (BUNDLE / "Contents/macroscripts/azrender.mcr").read_text(encoding="utf-8")
    macros = re.findall(r'^macroScript\s+(\w+)\s+category:"([^"]+)"\s+buttonText:"([^"]+)"', text, re.M)
    assert ("RenderOnAzure", "azrender", "Render on Azure") in macros
    assert ("RenderOnAzureJobs", "azrender", "Azure Jobs") in macros
    assert text.count("(") == text.count(")")
    strings = maxscript_strings(text)
    # What python.Execute runs is the very command the module publishes, and it is valid Python.
    assert macro.OPEN_COMMAND in strings and macro.JOBS_COMMAND in strings
    for command in (macro.OPEN_COMMAND, macro.JOBS_COMMAND):
        compile(command, "<macroscript>", "exec")
    assert text.count("python.Execute") == 2


def test_the_2025_menu_runs_the_package_macroscripts() -> None:
    """Every menu action names a macroScript of the bundle, as the 2025 menu system looks it up."""
    menu = (BUNDLE / "Contents/scripts/azrender_menu.ms").read_text(encoding="utf-8")
    macros = (BUNDLE / "Contents/macroscripts/azrender.mcr").read_text(encoding="utf-8")
    defined = {f"{name}`{category}" for name, category in
               re.findall(r'^macroScript\s+(\w+)\s+category:"([^"]+)"', macros, re.M)}
    actions = re.findall(r'CreateAction\s+"([^"]+)"\s+647394\s+"([^"]+)"', menu)
    assert {action for _id, action in actions} == defined
    ids = [i for i, _a in actions] + re.findall(r'CreateSubMenu\s+"([^"]+)"', menu)
    assert len(set(ids)) == len(ids) == len(defined) + 1
    assert all(GUID.match("{" + i.upper() + "}") for i in ids)
    # Only 3ds Max 2025 (version 27000) and later have the callback; older ones skip it all.
    assert re.search(r"if \(maxVersion\(\)\)\[1\] >= 27000 then", menu)
    assert "#cuiRegisterMenus" in menu and "callbacks.removeScripts id:#azrenderMenus" in menu
    assert menu.count("(") == menu.count(")")
    maxscript_strings(menu)  # balanced string literals


def test_the_package_claims_only_versions_with_python_3_10() -> None:
    """azrender needs Python 3.10+ (pyproject): 3ds Max 2024 is the first with it."""
    for req in package().iter("RuntimeRequirements"):
        assert req.get("SeriesMin") == "2024"


def load_startup() -> ModuleType:
    path = BUNDLE / "Contents/scripts/azrender_startup.py"
    spec = importlib.util.spec_from_file_location("azrender_startup_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_startup_puts_the_bundle_on_sys_path_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p).resolve() != BUNDLE.resolve()])
    startup = load_startup()  # runs install(__file__), as 3ds Max does
    assert sys.path[0] == str(BUNDLE)
    assert str(BUNDLE.parents[1] / "core") in sys.path  # a checkout: its core/ as well
    assert startup.install(str(BUNDLE / "Contents/scripts/azrender_startup.py")) == []  # idempotent


def test_startup_makes_azrender_max_importable_in_a_clean_python(tmp_path: Path) -> None:
    """``python -S`` (no site-packages: neither package installed) imports both after the script ran."""
    script = BUNDLE / "Contents/scripts/azrender_startup.py"
    code = (
        "import runpy;"
        f"runpy.run_path({str(script)!r}, run_name='__main__');"
        "import azrender_max.ui.macro as m, azrender; print(m.__file__); print(azrender.__file__)"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    macro_file, core_file = out.stdout.split()
    assert Path(macro_file).is_relative_to(BUNDLE) and Path(core_file).is_relative_to(BUNDLE.parents[1] / "core")
