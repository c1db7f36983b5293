"""XGen collections: the .xgen file an xgmPalette names, and the maps, guides and caches it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.errors import SceneError
from azrender.model import AssetKind
from azrender_maya.scan import scan_maya
from azrender_maya.xgen import parse_xgen, referenced_paths

# As XGen 2018+ writes it: tab-separated attributes, blocks closed by endAttrs/endPatch,
# ${DESC}/${PROJECT} tokens, SeExpr expressions with map('...') folders of .ptx files.
COLLECTION = """\
# XGen Collection File
#
# Version:  C:/Program Files/Autodesk/Maya2024/plug-ins/xgen/
# Author:   artist
# Date:     Mon Mar  4 10:00:00 2024

FileVersion 18

Palette
\tname\t\t\tcollection1
\tparent\t\t\t
\txgDataPath\t\t${PROJECT}xgen/collections/collection1
\txgProjectPath\t\t{project}/
\txgDogTag\t\t
endAttrs

Description
\tname\t\t\thair
\tflipNormals\t\t0
\tstrayPercentage\t\t$a=0.5/2;
endAttrs

Patch\tSubd
\tname\t\t\tscalpShape
\tcullFlag\t\tfalse
endPatch

Primitive\tSplinePrimitive
\tlength\t\t\t$a=map('${DESC}/paintmaps/length');#3dpaint,5.0\\n$a
\tiMethod\t\t\t1
\tcacheFileName\t\t${DESC}/guides.abc
endAttrs

Generator\tRandomGenerator
\tdensity\t\t\t1.0
\tmask\t\t\tmap('${DESC}/density/')
endAttrs

FXModule\tClumpingFXModule
\tname\t\t\tclumping1
\tmapDir\t\t\t${DESC}/${FXMODULE}/
\tcutExpr\t\t\t$a=map('${DESC}/paintmaps/cut');#3dpaint\\n$a
endAttrs

RendermanRenderer\tRendermanRenderer
\tcustom__arnold_rendermode\t1
endAttrs
"""


def make_project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "proj"
    (project / "workspace.mel").parent.mkdir(parents=True)
    (project / "workspace.mel").write_text('workspace -fr "scene" "scenes";\n')
    desc = project / "xgen/collections/collection1/hair"
    for rel in ("paintmaps/length/scalpShape.ptx", "density/scalpShape.ptx", "clumping1/scalpShape.ptx",
                "clumping1/notes.txt", "guides.abc"):  # fmt: skip
        (desc / rel).parent.mkdir(parents=True, exist_ok=True)
        (desc / rel).write_bytes(b"x")
    scene = project / "scenes" / "groom.ma"
    scene.parent.mkdir()
    (scene.parent / "groom__collection1.xgen").write_text(
        COLLECTION.replace("{project}", str(project))
    )
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\n'
        'requires "xgenToolkit" "1.0";\n'
        'createNode xgmPalette -n "collection1";\n'
        '\tsetAttr ".xfn" -type "string" "groom__collection1.xgen";\n'
    )
    return project, scene


def test_parse_blocks_and_expand_tokens(tmp_path: Path) -> None:
    collection = parse_xgen(COLLECTION.replace("{project}", "/show/proj"))
    assert [b.header for b in collection.blocks] == [
        ("Palette",), ("Description",), ("Patch", "Subd"), ("Primitive", "SplinePrimitive"),
        ("Generator", "RandomGenerator"), ("FXModule", "ClumpingFXModule"),
        ("RendermanRenderer", "RendermanRenderer"),
    ]  # fmt: skip
    desc = "/show/proj/xgen/collections/collection1/hair"
    assert [(p.path, p.referrer, p.folder) for p in referenced_paths(collection)] == [
        (f"{desc}/paintmaps/length", "hair SplinePrimitive.length", True),
        (f"{desc}/guides.abc", "hair SplinePrimitive.cacheFileName", False),
        (f"{desc}/density", "hair RandomGenerator.mask", True),
        (f"{desc}/clumping1", "hair ClumpingFXModule.mapDir", True),
        (f"{desc}/paintmaps/cut", "hair ClumpingFXModule.cutExpr", True),
    ]


def test_scene_with_xgen_lists_maps_guides_and_missing(tmp_path: Path) -> None:
    project, scene = make_project(tmp_path)
    result = scan_maya(scene)
    desc = project / "xgen/collections/collection1/hair"
    got = {(str(a.path.relative_to(project)), a.kind, a.exists) for a in result.assets[1:]}
    rel = str(desc.relative_to(project))
    assert got == {
        ("scenes/groom__collection1.xgen", AssetKind.OTHER, True),
        (f"{rel}/paintmaps/length/scalpShape.ptx", AssetKind.TEXTURE, True),
        (f"{rel}/guides.abc", AssetKind.CACHE, True),
        (f"{rel}/density/scalpShape.ptx", AssetKind.TEXTURE, True),
        (f"{rel}/clumping1/scalpShape.ptx", AssetKind.TEXTURE, True),
        (f"{rel}/paintmaps/cut", AssetKind.TEXTURE, False),  # painted once, folder since deleted
    }
    [missing] = result.missing
    assert missing.referrer == "groom__collection1.xgen: hair ClumpingFXModule.cutExpr"


def test_empty_project_path_uses_the_maya_project(tmp_path: Path) -> None:
    project, scene = make_project(tmp_path)
    xgen = scene.parent / "groom__collection1.xgen"
    xgen.write_text(xgen.read_text().replace(f"{project}/", ""))
    found = {a.path for a in scan_maya(scene).present}
    assert project / "xgen/collections/collection1/hair/guides.abc" in found


def test_not_a_collection_is_a_one_line_error(tmp_path: Path) -> None:
    _, scene = make_project(tmp_path)
    (scene.parent / "groom__collection1.xgen").write_text("hello\n")
    with pytest.raises(
        SceneError, match=r"groom__collection1\.xgen: cannot read the XGen collection"
    ):
        scan_maya(scene)
