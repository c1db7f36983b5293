"""The headless Maya scanner on real .ma/.mb files and on small files written as Maya writes them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from mb_writer import iff_chunk, iff_form

from azrender.errors import SceneError
from azrender.model import AssetKind, AssetSet
from azrender_maya.mayabinary import parse_mb
from azrender_maya.mel import MelSyntaxError, parse_ma, statements, tokenize
from azrender_maya.scan import read_maya_scene, scan_maya

MAYA_USD = "Autodesk__maya-usd/test"
BABYLON_MAYA = "BabylonJS__Exporters/Maya/Samples/sourceModels"

# Oracle for .ma, independent of the parser: one-line `setAttr ".ftn" -type "string" "..."`.
FTN_LINE = re.compile(r'^\s*setAttr "\.ftn" -type "string" "([^"]*)";', re.MULTILINE)


def paths_of(result: AssetSet, kind: AssetKind) -> set[str]:
    return {str(a.path) for a in result.assets if a.kind == kind}


def expected_from_ftn_lines(scene: Path) -> set[str]:
    out = set()
    for written in FTN_LINE.findall(scene.read_text(encoding="utf-8", errors="replace")):
        if re.match(r"^[A-Za-z]:[\\/]", written):
            # Another machine's path: Maya's last step looks for the file name in the scene's folder.
            beside = scene.parent / written.replace("\\", "/").rsplit("/", 1)[-1]
            out.add(str(beside) if beside.is_file() else written)
        else:
            # Normalised as text, not resolved: the scanner keeps symlinked folders as the user sees them.
            out.add(os.path.normpath(scene.parent / written))
    return out


REAL_MA = [
    f"{MAYA_USD}/lib/usd/pxrUsdPreviewSurface/PxrUsdPreviewSurfaceExportTest/PxrUsdPreviewSurfaceExportTest.ma",
    f"{MAYA_USD}/lib/usd/translators/UsdExportDisplacementTest/SimpleDisplacement.ma",
    f"{MAYA_USD}/lib/usd/translators/UsdExportMaterialXTest/StandardSurfaceTextured.ma",
    f"{MAYA_USD}/lib/usd/translators/UsdExportUVSetMappingsTest/UsdExportUVSetMappingsTest.ma",
    f"{MAYA_USD}/lib/usd/translators/UsdExportUVTransforms/UsdExportUVTransforms.ma",
    f"{MAYA_USD}/testSamples/MaterialX/OpenPBRShowcase.ma",
    f"{MAYA_USD}/testSamples/MaterialX/mtlxNodesShowcase.ma",
    f"{MAYA_USD}/testSamples/MaterialX/transparencyScene.ma",
    f"{BABYLON_MAYA}/Emissive/Emissive.ma",
    f"{BABYLON_MAYA}/PBR_Textures/PBR_Textures.ma",
    f"{BABYLON_MAYA}/Std_Textures/Std_Textures.ma",
    f"{BABYLON_MAYA}/CartoonHouses/CartoonHouses.ma",
]


@pytest.mark.parametrize("rel", REAL_MA)
def test_real_ma_textures_equal_the_ftn_lines(real_fixtures: Path, rel: str) -> None:
    scene = real_fixtures / rel
    result = scan_maya(scene)
    expected = expected_from_ftn_lines(scene)
    assert expected, "the oracle found no texture: wrong fixture?"
    assert paths_of(result, AssetKind.TEXTURE) == expected
    assert result.assets[0].kind == AssetKind.SCENE and result.assets[0].exists
    for asset in result.assets:
        if asset.kind == AssetKind.TEXTURE:
            assert asset.exists == Path(str(asset.path)).is_file()
            assert re.fullmatch(r"[\w]+\.ftn", asset.referrer), asset.referrer


def test_another_machines_paths_are_found_beside_the_scene(real_fixtures: Path) -> None:
    folder = real_fixtures / f"{MAYA_USD}/lib/usd/translators/UsdExportUVSetMappingsTest"
    result = scan_maya(folder / "UsdExportUVSetMappingsTest.ma")
    # written E:/Ws/UsdBuild/.../red.png; red.png, blue.png, green.png sit beside the scene
    assert {(a.path, a.referrer) for a in result.assets if a.kind == AssetKind.TEXTURE} == {
        (folder / "red.png", "file1.ftn"),
        (folder / "blue.png", "file2.ftn"),
        (folder / "green.png", "file3.ftn"),
    }
    assert result.missing == []


def test_windows_paths_not_found_are_kept_and_missing_with_the_node_name(tmp_path: Path) -> None:
    scene = tmp_path / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\ncreateNode file -n "file1";\n'
        '\tsetAttr ".ftn" -type "string" "E:/Ws/tex/red.png";\n'
    )
    assert [(str(a.path), a.referrer) for a in scan_maya(scene).missing] == [("E:/Ws/tex/red.png", "file1.ftn")]


def test_real_udim_file_node_expands_tiles(real_fixtures: Path) -> None:
    folder = real_fixtures / f"{MAYA_USD}/lib/usd/translators/UsdExportImportUDIMTest"
    result = scan_maya(folder / "UsdExportUDIMTest.ma")
    assert sorted(a.path.name for a in result.assets if a.kind == AssetKind.TEXTURE) == [
        "UdimTest_1001_color.png",
        "UdimTest_1002_color.png",
        "UdimTest_1003_color.png",
    ]
    assert all(a.exists and a.referrer == "file1.ftn" for a in result.assets[1:])


def test_real_usd_stage_missing_names_the_proxy_shape(real_fixtures: Path) -> None:
    folder = real_fixtures / f"{MAYA_USD}/testSamples/MaterialX"
    result = scan_maya(folder / "transparencyScene.ma")
    [usd] = [a for a in result.assets if a.kind == AssetKind.REFERENCE]
    assert usd.path == folder / "transparencyStage.usda"
    assert not usd.exists and usd.referrer == "transparencyStageShape.fp"
    assert [p for p, _ in read_maya_scene(folder / "transparencyScene.ma").requires] == [
        "maya",
        "mayaUsdPlugin",
        "stereoCamera",
    ]


REAL_MB = [
    f"{BABYLON_MAYA}/DoubleSidedMaterial/DoubleSidedMaterial.mb",
    f"{BABYLON_MAYA}/BabylonMaterialAttributes/BackFaceCulling.mb",
    f"{BABYLON_MAYA}/BabylonMaterialAttributes/Default_afterExport.mb",
    f"{BABYLON_MAYA}/BabylonMaterialAttributes/TransparencyMode/TransparencyMode_Opaque.mb",
    f"{BABYLON_MAYA}/BabylonMaterialAttributes/TransparencyMode/TransparencyMode_Blend.mb",
    f"{BABYLON_MAYA}/SimpleAnim/SimpleAnim.mb",
    f"{BABYLON_MAYA}/AnimatedMorphCube/AnimatedMorphCube.mb",
    f"{BABYLON_MAYA}/ColorVertex/TestVertexColor.mb",
    f"{MAYA_USD}/testSamples/switchVariants/rig.anim.mb",
]


@pytest.mark.parametrize("rel", REAL_MB)
def test_real_mb_textures_equal_the_ftn_strings(real_fixtures: Path, rel: str) -> None:
    scene = real_fixtures / rel
    data = scene.read_bytes()
    # Oracle: every `ftn\0<flag><value>\0` attribute string in the raw bytes.
    written = {m.decode() for m in re.findall(rb"ftn\x00.([^\x00]+)\x00", data)}
    # Another machine's path: Maya's last step looks for the file name in the scene's folder.
    beside = {w: scene.parent / w.replace("\\", "/").rsplit("/", 1)[-1] for w in written}
    expected = {str(beside[w]) if beside[w].is_file() else w for w in written}
    result = scan_maya(scene)
    assert paths_of(result, AssetKind.TEXTURE) == expected
    for a in result.assets:
        if a.kind == AssetKind.TEXTURE:
            assert a.exists == (str(a.path) not in written)


def test_real_mb_structure(real_fixtures: Path) -> None:
    scene = parse_mb(
        (real_fixtures / f"{BABYLON_MAYA}/DoubleSidedMaterial/DoubleSidedMaterial.mb").read_bytes()
    )
    files = {n.name: n.attrs["ftn"] for n in scene.nodes if n.type == "file"}
    assert files == {
        "File01": "F:/Developpement/ExporterBJS/Maya/Samples/sourceModels/DoubleSidedMaterial/TestImage.png",
        "File02": "F:/Developpement/ExporterBJS/Maya/Samples/sourceModels/DoubleSidedMaterial/Warhol.jpg",
    }
    assert ("mtoa", "3.1.2") in scene.requires
    assert scene.file_info["product"] == "Maya 2019"
    # plug-in node types come from the PLUG chunks' type ids
    assert "babylonStandardMaterialNode" in {n.type for n in scene.nodes}


# --- the MEL tokenizer ---------------------------------------------------------


def test_tokenizer_strings_escapes_comments_and_multiline() -> None:
    text = (
        "//Maya ASCII 2024 scene\n"
        "/* block ; comment */\n"
        'setAttr ".a" -type "string" "x;y \\"q\\" back\\\\slash\\nnl";\n'
        'addAttr -ci true -sn "n" -ln "name"\n\t\t-dt "string";\n'
    )
    stmts = [[t.text for t in s] for s in statements(text)]
    assert stmts == [
        ["setAttr", ".a", "-type", "string", 'x;y "q" back\\slash\nnl'],
        ["addAttr", "-ci", "true", "-sn", "n", "-ln", "name", "-dt", "string"],
    ]
    assert [t.quoted for t in tokenize('a "b"')] == [False, True]


@pytest.mark.parametrize(
    "text",
    [
        '//Maya ASCII 2024 scene\nsetAttr ".ftn" -type "string" "never closed;\n',
        "createNode file -n",
    ],
)
def test_tokenizer_rejects_truncated_text(text: str) -> None:
    with pytest.raises(MelSyntaxError):
        list(statements(text))


def test_parse_ma_nodes_select_and_plug_paths() -> None:
    scene = parse_ma(
        "//Maya ASCII 2024 scene\n"
        'requires -nodeType "aiImage" "mtoa" "5.3.0";\n'
        'createNode file -n "file1";\n'
        '\tsetAttr ".ftn" -type "string" "a.png";\n'
        '\tsetAttr ".uvt" 3;\n'
        'createNode transform -s -n "persp";\n'
        '\tsetAttr ".t" -type "double3" 1 2 3 ;\n'
        "select -ne :defaultRenderGlobals;\n"
        '\tsetAttr ".ren" -type "string" "arnold";\n'
        'setAttr "file1.ftn" -type "string" "b.png";\n'
    )
    assert scene.requires == [("mtoa", "5.3.0")]
    file1 = scene.node("file1")
    assert file1 is not None and file1.attrs == {"ftn": "b.png", "uvt": "3"}
    rg = scene.node("defaultRenderGlobals")
    assert rg is not None and rg.attrs["ren"] == "arnold"
    persp = scene.node("persp")
    assert persp is not None and "t" not in persp.attrs


# --- small scenes written as Maya writes them ----------------------------------


def write_ma(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"//Maya ASCII 2024 scene\n//Name: {path.name}\n//Codeset: UTF-8\n"
        'requires maya "2024";\n' + body + f"// End of {path.name}\n",
        encoding="utf-8",
    )
    return path


def touch(*paths: Path) -> None:
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"data")


def test_references_recursive_with_a_cycle(tmp_path: Path) -> None:
    touch(tmp_path / "tex" / "a.png", tmp_path / "assets" / "b.png")
    a = tmp_path / "a.ma"
    b = tmp_path / "assets" / "b.ma"
    write_ma(
        a,
        f'file -rdi 1 -ns "b" -rfn "bRN" -op "v=0;" -typ "mayaAscii" "{b}";\n'
        f'file -r -ns "b" -dr 1 -rfn "bRN" -op "v=0;" -typ "mayaAscii" "{b}";\n'
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "tex/a.png";\n',
    )
    write_ma(
        b,
        f'file -r -ns "a" -dr 1 -rfn "aRN" -typ "mayaAscii" "{a}";\n'
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "b.png";\n'
        'createNode file -n "file2";\n\tsetAttr ".ftn" -type "string" "gone.png";\n',
    )
    result = scan_maya(a)
    got = {(a_.path, a_.kind, a_.exists, a_.referrer) for a_ in result.assets}
    assert got == {
        (a, AssetKind.SCENE, True, ""),
        (tmp_path / "tex" / "a.png", AssetKind.TEXTURE, True, "file1.ftn"),
        (b, AssetKind.REFERENCE, True, "bRN"),
        (tmp_path / "assets" / "b.png", AssetKind.TEXTURE, True, "b.ma: file1.ftn"),
        (tmp_path / "assets" / "gone.png", AssetKind.TEXTURE, False, "b.ma: file2.ftn"),
    }


def test_missing_reference_and_copy_number(tmp_path: Path) -> None:
    scene = write_ma(
        tmp_path / "shot.ma",
        'file -r -ns "c" -rfn "cRN" -typ "mayaBinary" "chars/c.mb";\n'
        'file -r -ns "c1" -rfn "cRN1" -typ "mayaBinary" "chars/c.mb{1}";\n',
    )
    result = scan_maya(scene)
    [ref] = [a for a in result.assets if a.kind == AssetKind.REFERENCE]
    assert (ref.path, ref.exists, ref.referrer) == (tmp_path / "chars" / "c.mb", False, "cRN")


def test_node_table_every_kind(tmp_path: Path) -> None:
    files = [
        "img/plate.0001.exr", "img/plate.0002.exr", "img/plate.0003.exr",
        "img/bg.0010.jpg", "img/bg.0011.jpg",
        "tex/skin_u1_v1.tif", "tex/skin_u2_v1.tif",
        "tex/z_u0_v0.tif", "tex/z_u1_v0.tif",
        "tex/ai.png", "cache/a.abc", "cache/g.abc", "snd/a.wav", "vol/smoke.0001.vdb",
        "vol/smoke.0002.vdb", "ass/tree.ass", "rs/r.rs", "vr/v.vrmesh", "usd/s.usda",
        "nc/clothShape.xml", "nc/clothShapeFrame1.mc", "nc/clothShapeFrame2.mc",
        "mx/look.mtlx",
    ]  # fmt: skip
    touch(*(tmp_path / f for f in files))
    body = "".join(
        f'createNode {t} -n "{n}";\n' + "".join(f"\tsetAttr {a};\n" for a in attrs)
        for t, n, attrs in [
            ("file", "seqTex", ['".ftn" -type "string" "img/plate.0001.exr"', '".ufe" yes']),
            ("file", "mudbox", ['".ftn" -type "string" "tex/skin_u1_v1.tif"', '".uvt" 2']),
            ("file", "zbrush", ['".fileTextureName" -type "string" "tex/z_u0_v0.tif"', '".uvt" 1']),
            ("imagePlane", "ipShape", ['".imn" -type "string" "img/bg.0010.jpg"', '".ufe" yes']),
            ("aiImage", "aiImage1", ['".filename" -type "string" "tex/ai.png"']),
            ("AlembicNode", "abc1", ['".fn" -type "string" "cache/a.abc"']),
            ("gpuCache", "gpu1", ['".cfn" -type "string" "cache/g.abc"']),
            ("audio", "snd1", ['".f" -type "string" "snd/a.wav"']),
            ("aiVolume", "vol1", ['".filename" -type "string" "vol/smoke.####.vdb"']),
            ("aiStandIn", "tree", ['".dso" -type "string" "ass/tree.ass"']),
            ("RedshiftProxyMesh", "rs1", ['".fn" -type "string" "rs/r.rs"']),
            ("VRayMesh", "vr1", ['".fn" -type "string" "vr/v.vrmesh"']),
            ("mayaUsdProxyShape", "stage", ['".fp" -type "string" "usd/s.usda"']),
            (
                "cacheFile",
                "cloth",
                ['".cp" -type "string" "nc"', '".cn" -type "string" "clothShape"'],
            ),
            ("MaterialXStack", "mx1", ['".documentFilePath" -type "string" "mx/look.mtlx"']),
        ]
    )
    result = scan_maya(write_ma(tmp_path / "all.ma", body))
    got = {(str(a.path.relative_to(tmp_path)), a.kind.value, a.referrer) for a in result.assets[1:]}
    assert got == {
        ("img/plate.0001.exr", "texture", "seqTex.ftn"),
        ("img/plate.0002.exr", "texture", "seqTex.ftn"),
        ("img/plate.0003.exr", "texture", "seqTex.ftn"),
        ("tex/skin_u1_v1.tif", "texture", "mudbox.ftn"),
        ("tex/skin_u2_v1.tif", "texture", "mudbox.ftn"),
        ("tex/z_u0_v0.tif", "texture", "zbrush.fileTextureName"),
        ("tex/z_u1_v0.tif", "texture", "zbrush.fileTextureName"),
        ("img/bg.0010.jpg", "texture", "ipShape.imn"),
        ("img/bg.0011.jpg", "texture", "ipShape.imn"),
        ("tex/ai.png", "texture", "aiImage1.filename"),
        ("cache/a.abc", "cache", "abc1.fn"),
        ("cache/g.abc", "cache", "gpu1.cfn"),
        ("snd/a.wav", "audio", "snd1.f"),
        ("vol/smoke.0001.vdb", "volume", "vol1.filename"),
        ("vol/smoke.0002.vdb", "volume", "vol1.filename"),
        ("ass/tree.ass", "cache", "tree.dso"),
        ("rs/r.rs", "cache", "rs1.fn"),
        ("vr/v.vrmesh", "cache", "vr1.fn"),
        ("usd/s.usda", "reference", "stage.fp"),
        ("nc/clothShape.xml", "cache", "cloth.cachePath"),
        ("nc/clothShapeFrame1.mc", "cache", "cloth.cacheName"),
        ("nc/clothShapeFrame2.mc", "cache", "cloth.cacheName"),
        ("mx/look.mtlx", "other", "mx1.documentFilePath"),
    }
    assert all(a.exists for a in result.assets)


def test_maya_project_sourceimages(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "workspace.mel").parent.mkdir(parents=True)
    (project / "workspace.mel").write_text('workspace -fr "sourceImages" "sourceimages";\n')
    touch(project / "sourceimages" / "grid.png")
    scene = write_ma(
        project / "scenes" / "shot.ma",
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "sourceimages/grid.png";\n'
        'createNode file -n "file2";\n\tsetAttr ".ftn" -type "string" "sourceimages/nope.png";\n',
    )
    result = scan_maya(scene)
    assert [(a.path, a.exists) for a in result.assets[1:]] == [
        (project / "sourceimages" / "grid.png", True),
        (project / "sourceimages" / "nope.png", False),
    ]


def test_env_vars_in_paths(tmp_path: Path) -> None:
    touch(tmp_path / "lib" / "a.png")
    scene = write_ma(
        tmp_path / "s.ma",
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "$TEXLIB/a.png";\n'
        'createNode file -n "file2";\n\tsetAttr ".ftn" -type "string" "${UNSET_LIB}/b.png";\n',
    )
    result = scan_maya(scene, env={"TEXLIB": str(tmp_path / "lib")})
    assert [(a.exists, a.referrer) for a in result.assets[1:]] == [
        (True, "file1.ftn"),
        (False, "file2.ftn (unset variable $UNSET_LIB)"),
    ]


# --- .mb written from the documented IFF structure ------------------------------


def build_mb(
    align: int,
    nodes: list[tuple[bytes, str, dict[str, str]]],
    refs: list[list[str]],
    plug: bytes = b"",
) -> bytes:
    form = b"FOR8" if align == 8 else b"FOR4"
    head = iff_chunk(b"VERS", b"2024", align)
    head += iff_chunk(b"FINF", b"product\x00Maya 2024\x00", align)
    if plug:
        head += iff_chunk(b"PLUG", plug, align)
    for ref in refs:
        head += iff_chunk(b"FREF", b"".join(s.encode() + b"\x00" for s in ref), align)
    body = iff_form(form, b"HEAD", head, align)
    for type_id, name, attrs in nodes:
        children = iff_chunk(b"CREA", b"\x80" + name.encode() + b"\x00", align)
        for attr, value in attrs.items():
            children += iff_chunk(
                b"STR ", attr.encode() + b"\x00 " + value.encode() + b"\x00", align
            )
        body += iff_form(form, type_id, children, align)
    return iff_form(form, b"Maya", body, align)


@pytest.mark.parametrize("align", [4, 8])
def test_ma_and_mb_of_the_same_scene_agree(tmp_path: Path, align: int) -> None:
    touch(
        tmp_path / "tex" / "a.1001.png", tmp_path / "tex" / "a.1002.png", tmp_path / "c" / "x.abc"
    )
    touch(tmp_path / "refs" / "r.png")
    write_ma(
        tmp_path / "refs" / "r.ma",
        'createNode file -n "rf";\n\tsetAttr ".ftn" -type "string" "r.png";\n',
    )
    ma = write_ma(
        tmp_path / "s.ma",
        'file -r -ns "r" -rfn "rRN" -typ "mayaAscii" "refs/r.ma";\n'
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "tex/a.<UDIM>.png";\n'
        'createNode AlembicNode -n "abc";\n\tsetAttr ".fn" -type "string" "c/x.abc";\n'
        'createNode file -n "file2";\n\tsetAttr ".ftn" -type "string" "D:/tex/w.png";\n',
    )
    plug = b'AbcImport\x001.0\x00-nodeType "AlembicNode"\x00AlembicNode\x00\x00\x08\x15\x00'
    mb = tmp_path / "s.mb"
    mb.write_bytes(
        build_mb(
            align,
            [
                (b"RTFT", "file1", {"ftn": "tex/a.<UDIM>.png"}),
                (b"\x00\x08\x15\x00", "abc", {"fn": "c/x.abc"}),
                (b"RTFT", "file2", {"ftn": "D:/tex/w.png"}),
            ],
            [["refs/r.ma", "r", "rRN", "mayaAscii"]],
            plug,
        )
    )

    def summary(result: AssetSet) -> set[tuple[str, str, bool, str]]:
        return {(str(a.path), a.kind.value, a.exists, a.referrer) for a in result.assets[1:]}

    assert summary(scan_maya(mb)) == summary(scan_maya(ma))
    assert len(summary(scan_maya(mb))) == 6


# --- bad input ------------------------------------------------------------------


def one_line_scene_error(path: Path) -> str:
    with pytest.raises(SceneError) as info:
        scan_maya(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_bad_inputs(tmp_path: Path, real_fixtures: Path) -> None:
    empty = tmp_path / "empty.ma"
    empty.write_bytes(b"")
    assert "empty" in one_line_scene_error(empty)

    not_maya = tmp_path / "notes.ma"
    not_maya.write_text("hello, I am not a scene\n")
    assert "not a Maya scene" in one_line_scene_error(not_maya)

    real_ma = real_fixtures / f"{MAYA_USD}/testSamples/MaterialX/transparencyScene.ma"
    text = real_ma.read_text(encoding="utf-8")
    cut = tmp_path / "cut.ma"
    cut.write_text(text[: text.index('"transparencyStage.usda"') + 5], encoding="utf-8")
    assert "truncated" in one_line_scene_error(cut)

    real_mb = (
        real_fixtures / f"{BABYLON_MAYA}/DoubleSidedMaterial/DoubleSidedMaterial.mb"
    ).read_bytes()
    half = tmp_path / "half.mb"
    half.write_bytes(real_mb[: len(real_mb) // 2])
    assert "truncated" in one_line_scene_error(half)

    junk = tmp_path / "junk.mb"
    junk.write_bytes(b"FOR8" + b"\xff" * 40)
    one_line_scene_error(junk)

    wrong_ext = tmp_path / "image.mb"
    wrong_ext.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    assert "not a Maya scene" in one_line_scene_error(wrong_ext)

    with pytest.raises(SceneError, match="cannot read"):
        scan_maya(tmp_path / "absent.ma")
