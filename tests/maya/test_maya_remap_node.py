"""The node-side remap end to end: wrapped paths from another machine's project, on the local node.

A shot saved on another machine (``C:/Users/bob/.../Haunted//...``, Maya's
project marker) names a texture, a reference and an Alembic cache in
parenthesised ``+`` strings. ``azrender submit`` scans them in this project,
uploads them to Azurite and runs the task on the emulated node, where a stand-in
for Maya's ``Render`` (tests/maya/maya_standin.py) runs the job's ``-preRender``
remap and saves the scene it left. The saved scene, downloaded from the job's
outputs, must point at the node copies of the files, and those must exist there.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from azrender.local.azurite import AzuriteServer
from test_end_to_end import _env_for, _preset, azrender

pytestmark = [pytest.mark.azurite]

STANDIN = Path(__file__).with_name("maya_standin.py")
THEIRS = "C:/Users/bob/Documents/maya/projects/Haunted"


def make_project(root: Path) -> Path:
    for folder in ("scenes", "assets", "sourceimages/wood", "cache/alembic"):
        (root / folder).mkdir(parents=True)
    (root / "workspace.mel").write_text('workspace -fr "scene" "scenes";\nworkspace -fr "sourceImages" "sourceimages";\n')
    (root / "sourceimages/wood/oak.png").write_bytes(b"\x89PNG oak")
    (root / "cache/alembic/ghost.abc").write_bytes(b"abc")
    (root / "assets/chair.ma").write_text('//Maya ASCII 2024 scene\nrequires maya "2024";\n')
    shot = root / "scenes/shot.ma"
    shot.write_text(
        '//Maya ASCII 2024 scene\n//Codeset: UTF-8\nrequires maya "2024";\n'
        'file -rdi 1 -ns "chair" -rfn "chairRN" -typ "mayaAscii"\n'
        f'\t\t"{THEIRS}//assets/chair.ma";\n'
        'file -r -ns "chair" -rfn "chairRN" -typ "mayaAscii" (\n'
        f'\t\t"{THEIRS}//assets/chair.ma");\n'
        'createNode file -n "oakTex";\n'
        f'\tsetAttr ".ftn" -type "string" ( "{THEIRS}//sourceimages/"\n\t\t+ "wood/oak.png");\n'
        'createNode AlembicNode -n "ghostAbc";\n'
        f'\tsetAttr ".fn" -type "string" (\n\t\t"{THEIRS}//cache/alembic/ghost.abc");\n'
    )
    return shot


def test_wrapped_project_paths_point_at_the_node_copies(azurite: AzuriteServer, tmp_path: Path) -> None:
    shot = make_project(tmp_path / "Haunted")
    standin_bin = tmp_path / "maya-bin"
    standin_bin.mkdir()
    render = standin_bin / "Render"
    render.write_text(f"#!/bin/bash\nexec {shlex.quote(sys.executable)} {shlex.quote(str(STANDIN))} \"$@\"\n")
    render.chmod(0o755)
    env, preset = _env_for(azurite, tmp_path), _preset(tmp_path, slots=1)
    env["PATH"] = f"{standin_bin}{os.pathsep}{env.get('PATH', '')}"

    scan = azrender(env, "scan", str(shot), "--json")
    assert scan["missing"] == []
    assert {a["path"] for a in scan["assets"]} == {  # type: ignore[union-attr,index]
        str(shot), str(shot.parents[1] / "assets/chair.ma"),
        str(shot.parents[1] / "sourceimages/wood/oak.png"), str(shot.parents[1] / "cache/alembic/ghost.abc"),
    }
    job = azrender(env, "submit", str(shot), "--preset", str(preset), "--frames", "1", "--wait", "--json")
    assert job["state"] == "completed", job
    dest = tmp_path / "back"
    azrender(env, "download", str(job["job_id"]), "--preset", str(preset), "--dest", str(dest), "--json")
    [saved] = [p for p in dest.rglob("*.ma")]
    text = saved.read_text(encoding="utf-8")

    node_assets = tmp_path / "data" / "local" / "node"
    values = dict(re.findall(r'setAttr "\.(\w+)" -type "string" "([^"]*)";', text))
    marks = re.findall(r'"; // (\w+)$', text, re.MULTILINE)
    [(ref_node, ref_path)] = re.findall(r'^file -r -rfn "(\w+)" "([^"]*)";', text, re.MULTILINE)
    assert ref_node == "chairRN"
    for value, local in (
        (values["ftn"], "sourceimages/wood/oak.png"),
        (values["fn"], "cache/alembic/ghost.abc"),
        (ref_path, "assets/chair.ma"),
    ):
        assert value.startswith(str(node_assets)), value  # a node path, not C:/Users/bob/...
        assert value.endswith(str(shot.parents[1] / local)), value  # the file the scan found
        assert Path(value).read_bytes() == (shot.parents[1] / local).read_bytes()
    assert marks == ["exists", "exists", "exists"]
