"""The headless 3ds Max scanner on real .max files and on compound files written per the structure."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from asset_stream_writer import encode_asset_stream
from cfb_writer import compound_file, doc_summary
from max_oracles import external_dependencies

from azrender.errors import EXIT_USAGE, SceneError
from azrender.model import AssetKind, AssetSet
from azrender_max.assetmeta import (
    AssetRecord,
    AssetStreamError,
    parse_asset_stream,
)
from azrender_max.scan import read_max_scene, scan_max, scene_info

BABYLON_MAX = "BabylonJS__Exporters/3ds Max/Samples/sourceModels"
REAL_MAX = [
    "AnimatedMorphCube/AnimatedMorphCube.max",
    "BabylonMaterialAttributes/Default.max",
    "BabylonMaterialAttributes/TransparencyMode/Blend.max",
    "BabylonMaterialAttributes/TransparencyMode/Opaque.max",
    "CubesImageFormat/CubesImageFormat.max",
    "DoubleSidedMaterial/DoubleSidedMaterial.max",
    "Instances/Instances.max",
    "RGBMultiplyMap/RGBMultiplyMap.max",
    "SmilingFace/SmilingFace.max",
    "TransparencyMode/TransparencyMode.max",
    "WaterBottle/WaterBottle.max",
]


@pytest.mark.parametrize("rel", REAL_MAX)
def test_real_max_equals_3ds_max_dependency_list(real_fixtures: Path, rel: str) -> None:
    scene = real_fixtures / BABYLON_MAX / rel
    result = scan_max(scene)
    deps = external_dependencies(scene)
    assert result.assets[0].path == scene and result.assets[0].kind is AssetKind.SCENE
    found = result.assets[1:]
    # No misses, no extras: the same file names 3ds Max lists (it writes them lower-case).
    assert sorted(a.path.name.replace("\\", "/").split("/")[-1].casefold() for a in found) == sorted(
        d.casefold() for d in deps
    )
    on_disk = {p.name.casefold(): p for p in scene.parent.iterdir()}
    for asset in found:
        name = str(asset.path).replace("\\", "/").split("/")[-1].casefold()
        assert asset.kind is AssetKind.TEXTURE
        if name in on_disk:  # 3ds Max finds a moved scene's bitmaps by name in the scene folder
            assert asset.exists and asset.path == on_disk[name]
            assert asset.size == on_disk[name].stat().st_size
        else:  # kept as the scene wrote it, naming the asset
            assert not asset.exists and str(asset.path)[1:3] == ":\\"
            assert asset.referrer.startswith("Bitmap {")


def test_real_asset_stream_records(real_fixtures: Path) -> None:
    scene = read_max_scene(real_fixtures / BABYLON_MAX / "CubesImageFormat/CubesImageFormat.max")
    assert scene.version == 3 and len(scene.records) == 9
    first = scene.records[0]
    assert first.asset_id == uuid.UUID("a718edc8-0ff7-4b9e-9b0b-a948f4085c7f")
    assert (first.type, first.path) == ("Bitmap", "D:\\Bibilotheques\\Bureau\\N.gif")
    assert first.resolved.endswith("\\sourceModels\\CubesImageFormat\\N.gif")


def test_real_summary_render_settings(real_fixtures: Path) -> None:
    info = scene_info(real_fixtures / BABYLON_MAX / "BabylonMaterialAttributes/Default.max")
    assert (info.max_version, info.renderer, info.width, info.height) == (21.0, "Arnold", 640, 480)
    assert (info.frame_start, info.frame_end, info.compressed) == (0, 0, False)
    assert "maxtoa.dlr" in info.plugins


def test_the_adapters_scan_reads_the_scene_once_for_its_assets_and_its_render_size(
    real_fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import azrender_max.adapter as adapter_module
    import azrender_max.scan as scan_module
    from azrender_max.adapter import MaxAdapter, MaxSceneSettings

    scene = real_fixtures / BABYLON_MAX / "BabylonMaterialAttributes/Default.max"
    real, reads = scan_module.read_max_scene, []

    def counted(path: Path):  # type: ignore[no-untyped-def]
        reads.append(path)
        return real(path)

    for module in (scan_module, adapter_module):  # every name it is imported by
        monkeypatch.setattr(module, "read_max_scene", counted)
    result = MaxAdapter().scan(scene)
    assert reads == [scene.absolute()]
    assert result.settings == MaxSceneSettings(width=640, height=480)  # the summary's size, as scene_info reads it
    assert [a.path for a in result.assets] == [a.path for a in scan_max(scene).assets]


def test_real_map_paths_find_moved_bitmaps(real_fixtures: Path) -> None:
    base = real_fixtures / BABYLON_MAX
    result = scan_max(base / "SmilingFace/SmilingFace.max", map_paths=[base / "PBR_Textures"])
    assert not result.missing
    assert base / "PBR_Textures/AmbientOcclusion.jpg" in {a.path for a in result.assets}


# --- compound files written per the documented structure -------------------------------------


def rec(kind: str, path: str, resolved: str = "") -> AssetRecord:
    return AssetRecord(uuid.uuid4(), kind, path, resolved)


def write_max(
    path: Path,
    records: list[AssetRecord],
    *,
    version: int = 3,
    deps: list[str] | None = None,
    render: list[str] | None = None,
) -> Path:
    streams = {
        f"FileAssetMetaData{version}": encode_asset_stream(records, version),
        "Scene": b"\x00" * 5000,
        "ClassData": b"\x00" * 64,
    }
    if deps is not None or render is not None:
        groups: dict[str, list[str]] = {"General": ["3ds Max Version: 26,00", "Compressed"]}
        if deps is not None:
            groups["External Dependencies"] = deps
        groups["Render Data"] = render or []
        streams["\x05DocumentSummaryInformation"] = doc_summary(groups)
    path.write_bytes(compound_file(streams))
    return path


def by_name(result: AssetSet) -> dict[str, tuple[AssetKind, bool, str]]:
    return {
        str(a.path).replace("\\", "/").split("/")[-1]: (a.kind, a.exists, a.referrer)
        for a in result.assets
    }


def test_asset_stream_round_trip_and_truncation() -> None:
    records = [rec("Bitmap", "C:\\t\\ä.png", "C:\\t\\ä.png"), rec("XRef", "b.max")]
    for version in (2, 3):
        data = encode_asset_stream(records, version)
        parsed = parse_asset_stream(data, version)
        assert [(r.type, r.path) for r in parsed] == [(r.type, r.path) for r in records]
        for cut in (1, 17, len(data) - 1):
            with pytest.raises(AssetStreamError):
                parse_asset_stream(data[:cut], version)


def test_every_kind_resolution_and_skips(tmp_path: Path) -> None:
    shot = tmp_path / "shot"
    maps = tmp_path / "library"
    (shot / "tex").mkdir(parents=True)
    maps.mkdir()
    for name in ("tex/rel.png", "moved.jpg", "light.ies", "tree.vrmesh", "smoke.vdb", "music.wav"):
        (shot / name).write_bytes(b"x")
    (maps / "shared.tga").write_bytes(b"y")
    for tile in (1001, 1002):
        (shot / f"skin.{tile}.exr").write_bytes(b"z")
    (shot / "anim.ifl").write_text("; frames\nf_01.png\nf_02.png 3\n\n")
    (shot / "f_01.png").write_bytes(b"1")
    records = [
        rec("Bitmap", "tex\\rel.png"),
        rec("Bitmap", "D:\\old\\place\\moved.jpg"),
        rec("Bitmap", "E:\\lib\\shared.tga"),
        rec("Bitmap", "E:\\gone\\missing.png"),
        rec("Bitmap", str(shot / "skin.<UDIM>.exr")),
        rec("Bitmap", "anim.ifl"),
        rec("Photometric", "X:\\ies\\light.ies"),
        rec("Other", "X:\\proxies\\tree.vrmesh"),
        rec("Other", "X:\\fx\\smoke.vdb"),
        rec("Sound", "music.wav"),
        rec("RenderOutput", "Z:\\renders\\out.exr"),
        rec("Bitmap", "C:\\Program Files\\Autodesk\\3ds Max 2025\\maps\\uvwunwrap\\UV_Checker.png"),
    ]
    result = scan_max(write_max(shot / "shot.max", records), map_paths=[maps])
    got = by_name(result)
    assert got["rel.png"][:2] == (AssetKind.TEXTURE, True)
    assert got["moved.jpg"][:2] == (AssetKind.TEXTURE, True)
    assert got["shared.tga"][:2] == (AssetKind.TEXTURE, True)
    assert got["missing.png"] == (AssetKind.TEXTURE, False, f"Bitmap {{{records[3].asset_id}}}")
    assert got["skin.1001.exr"][1] and got["skin.1002.exr"][1]
    assert got["anim.ifl"][1] and got["f_01.png"][1] and not got["f_02.png"][1]
    assert got["f_02.png"][2].endswith("(IFL)")
    assert got["light.ies"][:2] == (AssetKind.OTHER, True)
    assert got["tree.vrmesh"][:2] == (AssetKind.CACHE, True)
    assert got["smoke.vdb"][:2] == (AssetKind.VOLUME, True)
    assert got["music.wav"][:2] == (AssetKind.AUDIO, True)
    assert "out.exr" not in got and "UV_Checker.png" not in got
    assert [str(a.path) for a in result.missing] == ["E:\\gone\\missing.png", str(shot / "f_02.png")]
    assert len(result.assets) == 14


def test_xrefs_recursive_with_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(b"b")
    write_max(tmp_path / "sub" / "b.max", [rec("Bitmap", "b.png"), rec("XRef", "..\\top.max")])
    top = write_max(tmp_path / "top.max", [rec("Bitmap", "a.png"), rec("XRef", "sub\\b.max"), rec("XRef", "gone.max")])
    result = scan_max(top)
    got = by_name(result)
    assert got["b.max"][:2] == (AssetKind.REFERENCE, True)
    assert got["b.png"][1] and got["b.png"][2].startswith("b.max: Bitmap {")
    assert got["gone.max"][:2] == (AssetKind.REFERENCE, False)
    assert sorted(got) == ["a.png", "b.max", "b.png", "gone.max", "top.max"]


def test_external_dependencies_leave_out_unused_assets(tmp_path: Path) -> None:
    (tmp_path / "used.png").write_bytes(b"u")
    records = [rec("Bitmap", "D:\\x\\used.png"), rec("Bitmap", "D:\\x\\editor_only.png"), rec("XRef", "D:\\x\\set.max")]
    result = scan_max(write_max(tmp_path / "s.max", records, deps=["used.png"]))
    assert sorted(by_name(result)) == ["s.max", "set.max", "used.png"]
    # Without the list, every record counts.
    result = scan_max(write_max(tmp_path / "t.max", records))
    assert sorted(by_name(result)) == ["editor_only.png", "set.max", "t.max", "used.png"]


def test_usd_stage_asset_is_followed_through_its_layers(tmp_path: Path) -> None:
    (tmp_path / "set_geo.usda").write_text("#usda 1.0\n")
    (tmp_path / "set.usda").write_text(
        '#usda 1.0\n(\n    subLayers = [@./set_geo.usda@, @./set_lights.usda@]\n)\n'
    )
    result = scan_max(write_max(tmp_path / "u.max", [rec("Other", "D:\\usd\\set.usda")]))
    got = by_name(result)
    assert got["set.usda"][:2] == (AssetKind.CACHE, True)
    assert got["set_geo.usda"][:2] == (AssetKind.REFERENCE, True)
    assert got["set_lights.usda"] == (
        AssetKind.REFERENCE, False, f"USD layer {tmp_path / 'set.usda'}: subLayers"
    )


def test_version_2_stream_and_render_settings(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    scene = write_max(
        tmp_path / "v2.max",
        [rec("Bitmap", "a.png")],
        version=2,
        deps=["a.png"],
        render=["Render Width=1920", "Render Height=1080", "Renderer Name=V-Ray 6", "Animation Start=10", "Animation End=250"],
    )
    assert read_max_scene(scene).version == 2
    assert [a.exists for a in scan_max(scene).assets] == [True, True]
    info = scene_info(scene)
    assert (info.renderer, info.width, info.height, info.frame_start, info.frame_end) == ("V-Ray 6", 1920, 1080, 10, 250)
    assert (info.max_version, info.compressed) == (26.0, True)


def bad_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = compound_file({"FileAssetMetaData3": encode_asset_stream([rec("Bitmap", "a.png")], 3), "Scene": b"\x00" * 9000})
    cases = {
        "empty": (b"", "empty"),
        "text": (b"//Maya ASCII 2024 scene\n", "not a 3ds Max scene"),
        "truncated": (good[:1500], "corrupt or truncated"),
        "future": (compound_file({"FileAssetMetaData4": b"\x00" * 40, "Scene": b"x"}), "newer 3ds Max"),
        "old": (compound_file({"Scene": b"x" * 10}), "2009 or older"),
        "other_ole": (compound_file({"WordDocument": b"x" * 10}), "not a 3ds Max scene"),
        "bad_stream": (compound_file({"FileAssetMetaData3": b"\x01" * 30, "Scene": b"x"}), "asset metadata"),
    }
    out = {}
    for name, (data, message) in cases.items():
        p = tmp_path / f"{name}.max"
        p.write_bytes(data)
        out[name] = (p, message)
    return out


def test_bad_inputs_one_clear_error(tmp_path: Path) -> None:
    for name, (path, message) in bad_cases(tmp_path).items():
        with pytest.raises(SceneError) as info:
            scan_max(path)
        text = str(info.value)
        assert message in text and str(path) in text and "\n" not in text, name
        assert info.value.exit_code == EXIT_USAGE
    with pytest.raises(SceneError, match="cannot read"):
        scan_max(tmp_path / "nope.max")
