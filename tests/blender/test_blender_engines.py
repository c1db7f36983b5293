"""The engines the adapter calls Blender's own are the ones real Blender accepts (bpy 4.5, 5.0, 5.3)."""

from __future__ import annotations

import json
import subprocess

import pytest
from blender_helpers import BPY_PYTHONS, bpy_python

from azrender_blender.adapter import BlenderAdapter, blender_engine

PROBE = r"""
import json, sys, bpy
accepted = []
for engine in sys.argv[1:]:
    try:
        bpy.context.scene.render.engine = engine
        accepted.append(engine)
    except TypeError:  # bpy: enum "X" not found in (...)
        pass
print("AZR-ENGINES " + json.dumps(accepted))
"""


@pytest.fixture(scope="module")
def accepted() -> dict[str, set[str]]:
    """Per bpy version, which of the adapter's engine ids (and a made-up one) it takes."""
    ids = sorted({blender_engine(n) for n in BlenderAdapter.builtin_renderers} | {"BLENDER_FOO"})
    out = {}
    for version in BPY_PYTHONS:
        proc = subprocess.run([str(bpy_python(version)), "-c", PROBE, *ids], capture_output=True,
                              text=True, timeout=120, check=False)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-ENGINES ")), None)
        assert proc.returncode == 0 and line is not None, proc.stderr[-2000:]
        out[version] = set(json.loads(line[len("AZR-ENGINES "):]))
    return out


def test_every_builtin_engine_is_one_some_blender_has(accepted: dict[str, set[str]]) -> None:
    ids = {blender_engine(n) for n in BlenderAdapter.builtin_renderers}
    assert ids == set().union(*accepted.values())


def test_each_blender_has_cycles_workbench_and_its_eevee(accepted: dict[str, set[str]]) -> None:
    assert accepted["4.5"] == {"CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE_NEXT"}
    assert accepted["5.0"] == accepted["5.3"] == {"CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE"}
