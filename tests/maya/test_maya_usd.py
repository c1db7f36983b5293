"""A Maya scene's USD stages (mayaUsdProxyShape, Arnold stand-in) are followed through their layers.

The stages are written with Pixar's usd-core and its ``UsdUtils.ComputeAllDependencies`` is the
list the scan must contain (layers, textures), missing ones included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from azrender.model import AssetKind
from azrender_maya.scan import scan_maya


def _stage(pxr: Any, folder: Path) -> Path:
    Sdf, Usd, UsdShade = pxr.Sdf, pxr.Usd, pxr.UsdShade
    (folder / "tex").mkdir(parents=True)
    for tile in (1001, 1002):
        (folder / "tex" / f"pot.{tile}.exr").write_bytes(b"x")
    geom = Usd.Stage.CreateNew(str(folder / "FlowerPot.geom.usd"))  # .usd: crate by default
    geom.DefinePrim("/Pot")
    geom.GetRootLayer().Save()
    payload = Usd.Stage.CreateNew(str(folder / "FlowerPot_payload.usda"))
    payload.GetRootLayer().subLayerPaths.append("./FlowerPot.geom.usd")
    payload.GetRootLayer().Save()
    stage = Usd.Stage.CreateNew(str(folder / "FlowerPot.usda"))
    stage.GetRootLayer().subLayerPaths.append("./looks_missing.usda")
    stage.DefinePrim("/Pot").GetPayloads().AddPayload("./FlowerPot_payload.usda")
    shader = UsdShade.Shader.Define(stage, "/Looks/tex")
    shader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set("./tex/pot.<UDIM>.exr")
    stage.GetRootLayer().Save()
    return folder / "FlowerPot.usda"


def test_proxy_shape_and_stand_in_stages_are_followed(pxr: Any, tmp_path: Path) -> None:
    stage = _stage(pxr, tmp_path / "assets")
    other = pxr.Usd.Stage.CreateNew(str(tmp_path / "assets" / "rock.usdc"))
    other.DefinePrim("/Rock")
    other.GetRootLayer().subLayerPaths.append("./rock_gone.usda")
    other.GetRootLayer().Save()
    scene = tmp_path / "shot.ma"
    scene.write_text(
        "//Maya ASCII 2025 scene\n"
        'requires -nodeType "mayaUsdProxyShape" "mayaUsdPlugin" "0.30.0";\n'
        'createNode mayaUsdProxyShape -n "FlowerPotShape";\n'
        '\tsetAttr ".fp" -type "string" "assets/FlowerPot.usda";\n'
        'createNode aiStandIn -n "rockShape";\n'
        '\tsetAttr ".dso" -type "string" "assets/rock.usdc";\n'
    )
    result = scan_maya(scene)
    truth: set[Path] = set()
    unresolved: set[str] = set()
    for root in (stage, tmp_path / "assets" / "rock.usdc"):
        layers, assets, missing = pxr.UsdUtils.ComputeAllDependencies(str(root))
        truth |= {Path(layer.realPath) for layer in layers} | {Path(a) for a in assets}
        unresolved |= {Path(m).name for m in missing}
    assert {a.path for a in result.present} == truth | {scene}
    assert {a.path.name for a in result.missing} == unresolved == {"looks_missing.usda", "rock_gone.usda"}
    by_name = {a.path.name: a for a in result.assets}
    assert by_name["FlowerPot.usda"].referrer == "FlowerPotShape.fp"
    assert by_name["looks_missing.usda"].referrer == f"USD layer {stage}: subLayers"
    assert by_name["pot.1002.exr"].kind is AssetKind.TEXTURE
    assert by_name["rock_gone.usda"].referrer.startswith(f"USD layer {tmp_path / 'assets' / 'rock.usdc'}")
    assert result.warnings == []
