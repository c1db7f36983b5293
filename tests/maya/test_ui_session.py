"""In-Maya discovery (MayaSession over the cmds protocol) agrees with headless discovery on real scenes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_cmds import SceneFileCmds

from azrender.errors import AzrenderError
from azrender.qt.session import AppSession
from azrender_maya.scan import scan_maya
from azrender_maya.ui.session import MayaSession

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
SCENES = sorted([*REAL.rglob("*.ma"), *REAL.rglob("*.mb")]) if REAL.is_dir() else []


@pytest.mark.parametrize("scene", SCENES, ids=[p.name for p in SCENES])
def test_in_app_and_headless_discovery_agree(scene: Path) -> None:
    headless = scan_maya(scene)
    in_app = MayaSession(SceneFileCmds(scene)).dependencies()
    as_rows = lambda s: sorted((str(a.path), a.kind.value, a.exists) for a in s.assets)  # noqa: E731
    assert as_rows(in_app) == as_rows(headless)
    assert sorted(str(a.path) for a in in_app.missing) == sorted(str(a.path) for a in headless.missing)


def test_scene_settings_come_from_render_globals(real_fixtures: Path) -> None:
    scene = real_fixtures / "BabylonJS__Exporters/Maya/Samples/sourceModels/PBR_Textures/PBR_Textures.ma"
    session = MayaSession(SceneFileCmds(scene))
    assert isinstance(session, AppSession)
    info = session.scene_info()
    assert info.scene == scene.absolute() and info.app == "maya"
    assert info.renderer == "arnold"  # setAttr ".ren" -type "string" "arnold"
    assert (info.start, info.end, info.step) == (1, 10, 1)  # Maya's defaults: the file sets none
    assert info.cameras == ("perspShape",)  # top/front/side are written with .rnd no
    assert info.layers == ("defaultRenderLayer",)


def _scene(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "shot.ma"
    path.write_text('//Maya ASCII 2024 scene\n//Codeset: UTF-8\nrequires maya "2024";\n' + body)
    return path


def test_settings_set_in_the_file_override_defaults(tmp_path: Path) -> None:
    scene = _scene(tmp_path, """\
createNode camera -n "shotCamShape" -p "shotCam";
createNode camera -n "witnessShape" -p "witness";
\tsetAttr ".rnd" no;
createNode renderLayer -n "fg";
createNode renderLayer -n "bg";
\tsetAttr ".rndr" no;
select -ne :defaultRenderGlobals;
\tsetAttr ".ren" -type "string" "vray";
\tsetAttr ".fs" 101;
\tsetAttr ".ef" 148;
\tsetAttr ".bfs" 2;
select -ne :defaultResolution;
\tsetAttr ".w" 1920;
\tsetAttr ".h" 1080;
""")
    info = MayaSession(SceneFileCmds(scene)).scene_info()
    assert (info.start, info.end, info.step, info.renderer) == (101, 148, 2, "vray")
    assert info.cameras == ("shotCamShape",)
    assert info.layers == ("fg",)
    assert info.resolution == (1920, 1080)
    assert info.frame_spec == "101-148x2"


def test_udim_sequence_and_reference_found_through_cmds(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    for tile in (1001, 1002):
        (tmp_path / "tex" / f"skin.{tile}.png").write_bytes(b"p")
    (tmp_path / "seq").mkdir()
    for f in (1, 2, 3):
        (tmp_path / "seq" / f"flicker.{f:04d}.png").write_bytes(b"p")
    prop = tmp_path / "prop.ma"
    prop.write_text('//Maya ASCII 2024 scene\ncreateNode file -n "wood";\n'
                    '\tsetAttr ".ftn" -type "string" "tex/wood.png";\n')
    scene = _scene(tmp_path, """\
file -r -ns "prop" -rfn "propRN" "prop.ma";
createNode file -n "skin";
\tsetAttr ".ftn" -type "string" "tex/skin.<UDIM>.png";
\tsetAttr ".uvt" 3;
createNode file -n "flicker";
\tsetAttr ".ftn" -type "string" "seq/flicker.0001.png";
\tsetAttr ".ufe" yes;
""")
    cmds = SceneFileCmds(scene)
    assert "prop:wood" in cmds.ls(type="file")
    found = MayaSession(cmds).dependencies()
    names = sorted(a.path.name for a in found.assets)
    assert names == ["flicker.0001.png", "flicker.0002.png", "flicker.0003.png", "prop.ma",
                     "shot.ma", "skin.1001.png", "skin.1002.png", "wood.png"]
    missing = found.missing
    assert [a.path.name for a in missing] == ["wood.png"]
    assert missing[0].referrer.startswith("prop.ma: ")  # traced to the referenced file
    assert [a.path.name for a in scan_maya(scene).missing] == ["wood.png"]


def test_unsaved_scene_is_a_one_line_error(tmp_path: Path) -> None:
    cmds = SceneFileCmds(_scene(tmp_path, ""))
    cmds.scene = Path("")
    cmds.file = lambda *a, **k: ""  # type: ignore[method-assign]
    with pytest.raises(AzrenderError, match="never been saved"):
        MayaSession(cmds).scene_info()


def test_missing_reference_warns_in_app_as_headless(tmp_path: Path) -> None:
    scene = _scene(tmp_path, 'file -r -ns "gone" -rfn "goneRN" "gone.ma";\n')
    in_app = MayaSession(SceneFileCmds(scene)).dependencies()
    headless = scan_maya(scene)
    for found in (in_app, headless):
        [warning] = found.warnings
        assert warning.startswith(f"reference {tmp_path / 'gone.ma'} (") and warning.endswith("are unknown")
        assert [a.path for a in found.missing] == [tmp_path / "gone.ma"]
