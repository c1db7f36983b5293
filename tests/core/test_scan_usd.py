"""USD stages followed through their layers, checked against Pixar's usd-core (the ground truth).

Stages are written with usd-core itself (``Usd.Stage.CreateNew``, ``Sdf.Layer``), and what
azrender finds is compared with ``UsdUtils.ComputeAllDependencies`` (layers, assets, unresolved)
and ``UsdUtils.ExtractExternalReferences`` (per layer: sublayers, references, payloads).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan import usd
from azrender.scan.stages import follow_usd_layers
from azrender.scan.usd import layer_asset_paths, usda_asset_paths

MAYA_USD = "Autodesk__maya-usd/test"



def _text_layer(path: Path, body: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#usda 1.0\n" + body)
    return path


def _build_stage(pxr: Any, root: Path) -> Path:
    """A stage with every arc: text sublayer (cycling back), crate payload, references, textures."""
    Sdf, Usd, UsdShade = pxr.Sdf, pxr.Usd, pxr.UsdShade
    (root / "tex").mkdir(parents=True)
    for name in ("skin.1001.png", "skin.1002.png", "crate.png", "sub.exr"):
        (root / "tex" / name).write_bytes(b"x")

    sub = Usd.Stage.CreateNew(str(root / "layers" / "sub.usda"))
    sub.GetRootLayer().subLayerPaths.append("../root.usda")  # a cycle back to the root
    UsdShade.Shader.Define(sub, "/S").CreateInput("file", Sdf.ValueTypeNames.Asset).Set(
        "../tex/sub.exr"
    )
    sub.GetRootLayer().Save()

    crate = Usd.Stage.CreateNew(str(root / "payload.usdc"))
    crate.GetRootLayer().subLayerPaths.append("./missing_sub.usda")
    UsdShade.Shader.Define(crate, "/P").CreateInput("file", Sdf.ValueTypeNames.Asset).Set(
        "./tex/crate.png"
    )
    crate.GetRootLayer().Save()

    _text_layer(root / "ref.usda", 'def "R" {}\n')
    stage = Usd.Stage.CreateNew(str(root / "root.usda"))
    stage.GetRootLayer().subLayerPaths.append("./layers/sub.usda")
    stage.DefinePrim("/A").GetPayloads().AddPayload("./payload.usdc")
    stage.DefinePrim("/B").GetReferences().AddReference("./gone.usda")
    stage.DefinePrim("/C").GetReferences().AddReference("ref.usda")  # a search path
    shader = UsdShade.Shader.Define(stage, "/M/tex")
    shader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("./tex/skin.<UDIM>.png")
    shader.CreateInput("missing", Sdf.ValueTypeNames.Asset).Set("./tex/nope.png")
    stage.GetRootLayer().Save()
    return root / "root.usda"


def _scan(stage: Path, env: dict[str, str] | None = None) -> tuple[AssetSet, list[str]]:
    result = AssetSet(scene=stage.parent / "scene.ma", app="test")
    result.add(Asset.from_disk(stage, AssetKind.REFERENCE, "proxy.filePath"))
    return result, follow_usd_layers(result, env=env or {})


def test_stage_lists_what_usd_core_composes(pxr: Any, tmp_path: Path) -> None:
    stage = _build_stage(pxr, tmp_path / "shot")
    layers, assets, unresolved = pxr.UsdUtils.ComputeAllDependencies(str(stage))
    result, warnings = _scan(stage)
    assert warnings == []
    present = {a.path for a in result.present}
    truth = {Path(layer.realPath) for layer in layers} | {Path(a) for a in assets}
    assert present == truth  # sublayer, payload (crate), reference, UDIM tiles, crate's texture
    assert {a.path.name for a in result.missing} == {Path(u).name for u in unresolved}
    by_name = {a.path.name: a for a in result.assets}
    # Missing layers and files are named with the layer that refers to them.
    assert by_name["missing_sub.usda"].referrer == f"USD layer {stage.parent / 'payload.usdc'}: subLayers"
    assert by_name["gone.usda"].referrer == f"USD layer {stage}: references"
    assert by_name["nope.png"].referrer == f"USD layer {stage}: inputs:missing"
    assert by_name["nope.png"].path == stage.parent / "tex" / "nope.png"
    assert by_name["sub.exr"].kind is AssetKind.TEXTURE and by_name["sub.usda"].kind is AssetKind.REFERENCE
    assert by_name["skin.1002.png"].exists and by_name["crate.png"].exists


def test_text_reader_agrees_with_usd_core(pxr: Any, tmp_path: Path) -> None:
    stage = _build_stage(pxr, tmp_path / "shot")
    tricky = _text_layer(tmp_path / "tricky.usda", TRICKY)
    for layer in (stage, stage.parent / "layers" / "sub.usda", tricky):
        subs, refs, payloads = pxr.UsdUtils.ExtractExternalReferences(str(layer))
        ours = usda_asset_paths(layer.read_text())
        assert sorted(r.path for r in ours if r.field == "subLayers") == sorted(subs)
        assert sorted(r.path for r in ours if r.field == "payload") == sorted(payloads)
        assert sorted(r.path for r in ours if r.field not in ("subLayers", "payload")) == sorted(refs)


@pytest.mark.parametrize(
    "rel",
    [
        "testSamples/switchVariants/asset.usda",
        "lib/usd/translators/UsdExportImportUDIMTest/UsdImportUDIMTest.usda",
    ],
)
def test_real_layers_match_usd_core(pxr: Any, real_fixtures: Path, rel: str) -> None:
    stage = real_fixtures / MAYA_USD / rel
    layers, assets, unresolved = pxr.UsdUtils.ComputeAllDependencies(str(stage))
    result, warnings = _scan(stage)
    assert warnings == []
    truth = {Path(layer.realPath) for layer in layers} | {Path(a) for a in assets}
    assert {a.path for a in result.present} == truth
    assert sorted(a.path.name for a in result.missing) == sorted(Path(u).name for u in unresolved)


def test_search_path_from_environment(pxr: Any, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    _text_layer(lib / "chair.usda", 'def "C" (references = @./chair_geo.usda@) {}\n')
    _text_layer(lib / "chair_geo.usda")
    stage = _text_layer(tmp_path / "shot" / "set.usda", 'def "S" (references = @chair.usda@) {}\n')
    result, _ = _scan(stage, env={usd.SEARCH_PATH_VAR: str(lib)})
    assert {a.path for a in result.present} == {stage, lib / "chair.usda", lib / "chair_geo.usda"}
    # Pixar's resolver with the same search path finds the same layers.
    pxr.Ar.DefaultResolver.SetDefaultSearchPath([str(lib)])
    try:
        layers, _assets, unresolved = pxr.UsdUtils.ComputeAllDependencies(str(stage))
    finally:
        pxr.Ar.DefaultResolver.SetDefaultSearchPath([])
    assert {Path(layer.realPath) for layer in layers} == {a.path for a in result.present}
    assert not unresolved
    result, _ = _scan(stage)  # without it, the layer is missing where the stage anchors it
    assert [a.path for a in result.missing] == [stage.parent / "chair.usda"]


def test_crate_without_usd_core_is_listed_with_a_warning(
    pxr: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = _build_stage(pxr, tmp_path / "shot")

    def no_usd_core() -> Any:
        raise ImportError("No module named 'pxr'")

    monkeypatch.setattr(usd, "_usd_utils", no_usd_core)
    result, warnings = _scan(stage)
    assert result.warnings == warnings
    crate = stage.parent / "payload.usdc"
    assert crate in {a.path for a in result.present}
    assert "crate.png" not in {a.path.name for a in result.assets}
    assert len(warnings) == 1 and str(crate) in warnings[0] and "usd-core" in warnings[0]
    assert "\n" not in warnings[0]


def test_unreadable_layers_warn_and_do_not_stop_the_scan(tmp_path: Path) -> None:
    (tmp_path / "tex.png").write_bytes(b"x")
    (tmp_path / "not_usd.usd").write_bytes(b"PK\x03\x04 zip, not a layer")
    stage = _text_layer(
        tmp_path / "s.usda", 'def "A" (references = [@./not_usd.usd@, @./tex.png@]) {}\n'
    )
    result, warnings = _scan(stage)
    assert {a.path.name for a in result.present} == {"s.usda", "not_usd.usd", "tex.png"}
    assert warnings == [f"{tmp_path / 'not_usd.usd'} is not a USD layer (neither '#usda' text nor a 'PXR-USDC' crate)"]
    with pytest.raises(usd.UsdLayerError, match="cannot read"):
        layer_asset_paths(tmp_path / "absent.usda")


TRICKY = '''(
    doc = """a doc with @fake.usda@ and # not a comment"""
    subLayers = [
        @./s1.usda@ (offset = 10; scale = 2),
        @@@./s@2.usda@@@
    ]
    customLayerData = {
        asset[] extra = [@./cld.png@]
    }
)

# comment @commented.usda@
def "A" (
    assetInfo = {
        asset identifier = @./ident.usd@
        string name = "A"
    }
    prepend references = [@./r1.usda@</X>, </Internal>, @r2.usd@]
    append payload = @./p1.usdc@</P>
    clips = {
        dictionary default = {
            asset[] assetPaths = [@./clip1.usd@, @./clip2.usd@]
            asset manifestAsset = @./manifest.usda@
            string templateAssetPath = "./clip.#.usd"
        }
    }
    variants = {
        string v = "a"
    }
    prepend variantSets = "v"
)
{
    asset inputs:file = @./tex/a.<UDIM>.png@
    asset inputs:file2.timeSamples = {
        0: @./tex/t0.png@,
        1: @./tex/t1.png@,
    }
    asset[] arr = [@./tex/arr1.png@, @./tex/arr2.png@]
    string s = "has @at.png@ inside"
    string s2 = 'single @at2.png@ quote'
    variantSet "v" = {
        "a" {
            asset inputs:vfile = @./tex/variant.png@
            def "C" (references = @./vref.usda@) {}
        }
    }
}
'''


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    paths=st.lists(
        st.text(
            alphabet=st.sampled_from("ab/._-# '\"@<>UDIM=[](){}:;é\\"), min_size=1, max_size=24
        ).filter(lambda p: p.strip() == p),
        min_size=1,
        max_size=4,
    )
)
@example(paths=["a@@@b", "@@@", "x@@", "#c 'd' \"e\""])
def test_text_reader_reads_what_usd_core_writes(pxr: Any, tmp_path: Path, paths: list[str]) -> None:
    """Any asset path usd-core writes into a text layer (with @, #, quotes, brackets) reads back."""
    Sdf = pxr.Sdf  # layer specs only: no stage, so nothing is composed (or warned about)
    layer = Sdf.Layer.CreateAnonymous(".usda")
    layer.subLayerPaths.append("./" + paths[0])
    shader = Sdf.PrimSpec(layer, "S", Sdf.SpecifierDef, "Shader")
    for i, p in enumerate(paths):
        Sdf.AttributeSpec(shader, f"inputs:f{i}", Sdf.ValueTypeNames.Asset).default = Sdf.AssetPath(p)
    Sdf.PrimSpec(layer, "R", Sdf.SpecifierDef).referenceList.Prepend(Sdf.Reference("./" + paths[-1]))
    text = layer.ExportToString()
    ours = usda_asset_paths(text)
    assert [r.path for r in ours if r.field == "subLayers"] == ["./" + paths[0]]
    assert [r.path for r in ours if r.field == "references"] == ["./" + paths[-1]]
    assert [r.path for r in ours if r.field.startswith("inputs:f")] == paths
