"""In-3ds-Max discovery and settings (MaxSession over the pymxs protocol) on real .max files."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from asset_stream_writer import encode_asset_stream
from cfb_writer import compound_file, doc_summary
from fake_pymxs import FakeNode, SceneFileRuntime

from azrender.errors import AzrenderError, UsageError
from azrender.model import AssetSet
from azrender.qt.session import AppSession
from azrender_max.assetmeta import AssetRecord
from azrender_max.scan import scan_max
from azrender_max.ui.session import MaxSession

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
SCENES = sorted(REAL.rglob("*.max")) if REAL.is_dir() else []
BABYLON = "BabylonJS__Exporters/3ds Max/Samples/sourceModels"


def rows(assets: AssetSet) -> list[tuple[str, str, bool, str]]:
    return sorted((str(a.path), a.kind.value, a.exists, a.referrer) for a in assets.assets)


@pytest.mark.parametrize("scene", SCENES, ids=[p.name for p in SCENES])
def test_in_app_and_headless_discovery_agree(scene: Path) -> None:
    in_app = MaxSession(SceneFileRuntime(scene)).dependencies()
    headless = scan_max(scene)
    assert rows(in_app) == rows(headless)
    assert [str(a.path) for a in in_app.missing] == [str(a.path) for a in headless.missing]


def test_real_fixtures_are_there() -> None:
    assert len(SCENES) >= 11  # the parametrized test above must not pass by having nothing to check


def test_settings_from_a_real_scene(real_fixtures: Path) -> None:
    scene = real_fixtures / BABYLON / "BabylonMaterialAttributes/Default.max"
    session = MaxSession(SceneFileRuntime(scene))
    assert isinstance(session, AppSession)
    info = session.scene_info()
    assert info.scene == scene.absolute() and info.app == "max"
    assert (info.renderer, info.resolution) == ("Arnold", (640, 480))  # the file's Render Data
    assert (info.start, info.end, info.step, info.modified) == (0, 0, 1, False)
    assert info.cameras == ()


def test_every_time_output_type(real_fixtures: Path) -> None:
    rt = SceneFileRuntime(real_fixtures / BABYLON / "SmilingFace/SmilingFace.max")
    session = MaxSession(rt)
    rt.sliderTime = 7
    assert session.frame_range().frames == (7,)  # 1: single = the current frame
    rt.rendTimeType, rt.animationRange = 2, type(rt.animationRange)(10, 20)
    rt.rendNThFrame = 5
    assert session.frame_range().frames == (10, 15, 20)  # 2: active segment, every 5th
    assert session.scene_info().frame_spec == "10-20x5"
    rt.rendTimeType, rt.rendStart, rt.rendEnd, rt.rendNThFrame = 3, 101, 104, 1
    assert session.frame_range().frames == (101, 102, 103, 104)  # 3: range
    rt.rendTimeType, rt.rendNThFrame = 4, 3
    assert session.frame_range().frames == (1, 3, 5, 6, 7, 8, 9, 10, 11, 12)  # 4: 3ds Max's default pickup
    rt.rendPickupFrames = "1,3,5-7"
    assert session.frame_range().frames == (1, 3, 5, 6, 7)
    info = session.scene_info()
    assert (info.start, info.end, info.step) == (1, 7, 1)
    rt.rendTimeType = 9
    with pytest.raises(UsageError, match="rendTimeType=9"):
        session.frame_range()
    rt.rendTimeType, rt.rendStart, rt.rendEnd = 3, 10, 5
    with pytest.raises(UsageError, match="ends \\(5\\) before it starts \\(10\\)"):
        session.scene_info()


def test_camera_output_renderer(real_fixtures: Path) -> None:
    rt = SceneFileRuntime(real_fixtures / BABYLON / "CubesImageFormat/CubesImageFormat.max")
    rt.cameras = [FakeNode("Camera001"), FakeNode("Camera001.Target", "Targetobject"), FakeNode("Shot Cam")]
    rt.viewport.camera = FakeNode("Shot Cam")
    rt.rendOutputFilename = "C:\\renders\\cubes_.exr"
    rt.save_required = True
    session = MaxSession(rt)
    settings = session.render_settings()
    assert (settings.camera, settings.output, settings.renderer) == ("Shot Cam", "C:\\renders\\cubes_.exr",
                                                                     "Scanline Renderer")
    info = session.scene_info()
    assert info.cameras == ("Shot Cam", "Camera001") and info.modified


def test_unsaved_scene_is_a_one_line_error(real_fixtures: Path) -> None:
    rt = SceneFileRuntime(real_fixtures / BABYLON / "Instances/Instances.max")
    rt.maxFileName = ""
    with pytest.raises(AzrenderError, match="never been saved") as info:
        MaxSession(rt).scene_info()
    assert "\n" not in str(info.value)


def test_xref_scene_followed_and_unused_bitmap_left_out(tmp_path: Path) -> None:
    (tmp_path / "wood.png").write_bytes(b"w")  # saved elsewhere, found by name beside the scene
    prop = tmp_path / "prop.max"
    prop.write_bytes(compound_file({
        "FileAssetMetaData3": encode_asset_stream(
            [AssetRecord(uuid.uuid4(), "Bitmap", "D:\\lib\\bark.jpg")], 3),
        "Scene": b"x" * 5000,
    }))
    records = [
        AssetRecord(uuid.uuid4(), "Bitmap", "D:\\shot\\tex\\wood.png"),
        AssetRecord(uuid.uuid4(), "Bitmap", "D:\\shot\\unused.png"),
        AssetRecord(uuid.uuid4(), "XRef", "D:\\shot\\prop.max"),
    ]
    scene = tmp_path / "shot.max"
    scene.write_bytes(compound_file({
        "FileAssetMetaData3": encode_asset_stream(records, 3),
        "Scene": b"x" * 5000,
        "\x05DocumentSummaryInformation": doc_summary(
            {"General": ["3ds Max Version: 26,00"], "External Dependencies": ["wood.png", "prop.max"],
             "Render Data": []}),
    }))
    rt = SceneFileRuntime(scene)
    assert rt.xrefs.getXRefFileCount() == 1
    found = MaxSession(rt).dependencies()
    names = sorted(str(a.path).replace("\\", "/").rsplit("/", 1)[-1] for a in found.assets)
    assert names == ["bark.jpg", "prop.max", "shot.max", "wood.png"]  # unused.png is not used
    (missing,) = found.missing
    assert str(missing.path) == "D:\\lib\\bark.jpg" and missing.referrer.startswith("prop.max: Bitmap {")
    assert rows(found) == rows(scan_max(scene))
