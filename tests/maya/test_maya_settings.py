"""Maya scene settings (renderer, frames, cameras, layers...) from .ma and .mb, without Maya."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from mb_writer import iff_chunk, iff_form

from azrender_maya.adapter import MayaAdapter
from azrender_maya.mayabinary import fps, parse_mb
from azrender_maya.settings import MayaSceneSettings, RenderLayer, read_settings

BABYLON = "BabylonJS__Exporters/Maya/Samples/sourceModels"
MAYA_USD = "Autodesk__maya-usd/test"
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "real"
REAL_SCENES = sorted([*REAL.rglob("*.ma"), *REAL.rglob("*.mb")]) if REAL.is_dir() else []


# --- real files ---------------------------------------------------------------------


def _requires_oracle(scene: Path) -> list[tuple[str, str]]:
    """``requires`` lines (.ma) or PLUG chunks (.mb), read with a regex, not the parser."""
    data = scene.read_bytes()
    if scene.suffix == ".ma":
        text = data.decode("utf-8", errors="replace")
        found = re.findall(r'^requires (?:-\w+ "[^"]*" )*"([^"]+)" "([^"]*)";', text, re.M)
    else:
        size = rb".{12}" if data[:4] == b"FOR8" else rb".{4}"
        found = [
            (m.group(1).decode(), m.group(2).decode())
            for m in re.finditer(rb"PLUG" + size + rb"([^\x00]+)\x00([^\x00]*)\x00", data, re.S)
        ]
    out: dict[str, str] = {}
    for name, version in found:
        if name != "maya":
            out.setdefault(name, version)
    return list(out.items())


@pytest.mark.parametrize("scene", REAL_SCENES, ids=[p.name for p in REAL_SCENES])
def test_real_scenes_settings(scene: Path) -> None:
    settings = read_settings(scene)
    assert list(settings.plugins) == _requires_oracle(scene)
    # Every real scene keeps Maya's startup cameras: top/front/side written with .rnd no.
    assert settings.cameras == ("perspShape",)
    assert settings.layers == (RenderLayer("defaultRenderLayer", True),)
    # None of them sets a frame range or resolution: Maya's defaults.
    assert (settings.start, settings.end, settings.step) == (1.0, 10.0, 1.0)
    assert settings.resolution == (640, 480)
    data = scene.read_bytes()
    ren = re.search(rb'ren(?:\x00.|" -type "string" ")(\w+)', data)
    assert settings.renderer == (ren.group(1).decode() if ren else "mayaSoftware")


def test_real_ma_details() -> None:
    if not REAL.is_dir():
        pytest.skip("no real fixtures")
    uv = read_settings(
        REAL / MAYA_USD / "lib/usd/translators/UsdExportUVTransforms/UsdExportUVTransforms.ma"
    )
    assert (uv.maya_version, uv.renderer) == ("2018ff09", "arnold")
    assert uv.plugins == (("pxrUsdPreviewSurface", "1.0"),)
    houses = read_settings(REAL / BABYLON / "CartoonHouses/CartoonHouses.ma")
    assert (houses.time_unit, houses.fps) == ("ntsc", 30.0)  # currentUnit ... -t ntsc
    mb = read_settings(REAL / BABYLON / "BabylonMaterialAttributes/BackFaceCulling.mb")
    assert (mb.maya_version, mb.renderer, mb.time_unit) == ("2019", "arnold", "film")
    assert ("mtoa", "3.1.2") in mb.plugins


def test_real_mb_time_ticks_are_frames_like_the_ma() -> None:
    """``:time1.o`` is written ``1`` in every real .ma and 5880000 ticks (TDUR 141120000,
    film) in every real .mb: both must read as frame 1."""
    if not REAL.is_dir():
        pytest.skip("no real fixtures")
    for scene in REAL.rglob("*.mb"):
        data = scene.read_bytes()
        assert b"TDUR" in data and b"141120000" in data
        node = parse_mb(data).node("time1")
        assert node is not None and node.attrs["o"] == "1", scene
    for scene in REAL.rglob("*.ma"):
        text = scene.read_text(encoding="utf-8", errors="replace")
        written = re.search(r'select -ne :time1;\n\tsetAttr "\.o" (\S+);', text)
        assert written is not None
        from azrender_maya.scan import read_maya_scene

        node = read_maya_scene(scene).node("time1")
        assert node is not None and node.attrs["o"] == written.group(1)


# --- one scene written as .ma and as .mb -----------------------------------------------

MA_BODY = """\
requires -nodeType "renderSetupLayer" -nodeType "renderSetup" "renderSetup.py" "1.0";
requires -nodeType "aiOptions" "mtoa" "5.3.4.1";
currentUnit -l centimeter -a degree -t ntsc;
fileInfo "version" "2024";
createNode transform -s -n "persp";
createNode camera -s -n "perspShape" -p "persp";
\tsetAttr -k off ".v" no;
\tsetAttr ".rnd" no;
createNode transform -s -n "top";
createNode camera -s -n "topShape" -p "top";
\tsetAttr ".rnd" no;
createNode transform -n "shotCam";
createNode camera -n "shotCamShape" -p "shotCam";
createNode transform -n "witness";
createNode camera -n "witnessShape" -p "witness";
\tsetAttr ".rnd" yes;
createNode renderLayerManager -n "renderLayerManager";
createNode renderLayer -n "defaultRenderLayer";
\tsetAttr ".rndr" no;
createNode renderSetupLayer -n "beauty";
createNode renderLayer -n "rs_beauty";
createNode renderLayer -n "oldFx";
\tsetAttr ".rndr" no;
select -ne :time1;
\tsetAttr ".o" 1001;
select -ne :defaultRenderGlobals;
\tsetAttr ".ren" -type "string" "arnold";
\tsetAttr ".an" yes;
\tsetAttr ".fs" 1001;
\tsetAttr ".ef" 1100;
\tsetAttr ".bfs" 2;
\tsetAttr ".ifp" -type "string" "<Scene>/<RenderLayer>/<RenderLayer>";
select -ne :defaultResolution;
\tsetAttr ".w" 1920;
\tsetAttr ".h" 1080;
\tsetAttr ".pa" 1;
"""

EXPECTED = MayaSceneSettings(
    maya_version="2024",
    plugins=(("renderSetup.py", "1.0"), ("mtoa", "5.3.4.1")),
    renderer="arnold",
    time_unit="ntsc",
    fps=30.0,
    start=1001.0,
    end=1100.0,
    step=2.0,
    animation=True,
    image_prefix="<Scene>/<RenderLayer>/<RenderLayer>",
    cameras=("shotCamShape", "witnessShape"),
    layers=(
        RenderLayer("defaultRenderLayer", False),
        RenderLayer("rs_beauty", True, "beauty"),
        RenderLayer("oldFx", False),
    ),
    resolution=(1920, 1080),
)


def _dble(attr: str, value: float, align: int) -> bytes:
    return iff_chunk(b"DBLE", attr.encode() + b"\x00 " + struct.pack(">d", value), align)


def _ticks(attr: str, frames: float, per_second: int, rate: float, align: int) -> bytes:
    ticks = round(frames * per_second / rate)
    return iff_chunk(b"DBLE", attr.encode() + b"\x00 " + struct.pack(">q", ticks), align)


def _str(attr: str, value: str, align: int) -> bytes:
    return iff_chunk(b"STR ", attr.encode() + b"\x00 " + value.encode() + b"\x00", align)


def build_settings_mb(align: int, ticks_per_second: int | None) -> bytes:
    """The scene of MA_BODY as Maya writes it in binary: HEAD, node forms, SLCT forms."""
    form = b"FOR8" if align == 8 else b"FOR4"
    tps = ticks_per_second or 6000
    head = iff_chunk(b"VERS", b"2024", align)
    head += iff_chunk(b"LUNI", b"cm\x00", align) + iff_chunk(b"TUNI", b"ntsc\x00", align)
    head += iff_chunk(b"AUNI", b"deg\x00", align)
    if ticks_per_second is not None:
        head += iff_chunk(b"TDUR", str(ticks_per_second).encode() + b"\x00", align)
    head += iff_chunk(b"FINF", b"version\x002024\x00", align)
    head += iff_chunk(
        b"PLUG",
        b"renderSetup.py\x001.0\x00\x00renderSetupLayer\x00\x00\x00\x08\x42"
        b"renderSetup\x00\x00\x00\x08\x43",
        align,
    )
    head += iff_chunk(b"PLUG", b"mtoa\x005.3.4.1\x00\x00aiOptions\x00\x00\x11\x51\x00", align)
    body = iff_form(form, b"HEAD", head, align)

    def node(type_id: bytes, name: str, parent: str, *attrs: bytes) -> bytes:
        crea = iff_chunk(
            b"CREA", b"\x80" + name.encode() + b"\x00" + parent.encode() + b"\x00", align
        )
        return iff_form(form, type_id, crea + b"".join(attrs), align)

    body += node(b"XFRM", "persp", "")
    body += node(b"DCAM", "perspShape", "persp", _dble("v", 0, align), _dble("rnd", 0, align))
    body += node(b"XFRM", "top", "")
    body += node(b"DCAM", "topShape", "top", _dble("rnd", 0, align))
    body += node(b"XFRM", "shotCam", "")
    body += node(b"DCAM", "shotCamShape", "shotCam")
    body += node(b"XFRM", "witness", "")
    body += node(b"DCAM", "witnessShape", "witness", _dble("rnd", 1, align))
    body += node(b"RNLM", "renderLayerManager", "")
    body += node(b"RNDL", "defaultRenderLayer", "", _dble("rndr", 0, align))
    body += node(b"\x00\x00\x08\x42", "beauty", "")
    body += node(b"RNDL", "rs_beauty", "")
    body += node(b"RNDL", "oldFx", "", _dble("rndr", 0, align))

    def select(name: str, *attrs: bytes) -> bytes:
        return iff_form(
            form, b"SLCT", iff_chunk(b"SLCT", name.encode(), align) + b"".join(attrs), align
        )

    body += select(":time1", _ticks("o", 1001, tps, 30.0, align))
    body += select(
        ":defaultRenderGlobals",
        _str("ren", "arnold", align),
        _dble("an", 1, align),
        _ticks("fs", 1001, tps, 30.0, align),
        _ticks("ef", 1100, tps, 30.0, align),
        _ticks("bfs", 2, tps, 30.0, align),
        _str("ifp", "<Scene>/<RenderLayer>/<RenderLayer>", align),
    )
    body += select(
        ":defaultResolution",
        iff_chunk(b"INT ", b"w\x00 " + struct.pack(">i", 1920), align),
        _dble("h", 1080, align),
        iff_chunk(b"FLT ", b"pa\x00 " + struct.pack(">f", 1.0), align),
    )
    return iff_form(form, b"Maya", body, align)


def write_ma(path: Path, body: str) -> Path:
    path.write_text(
        f"//Maya ASCII 2024 scene\n//Name: {path.name}\n//Codeset: UTF-8\n"
        'requires maya "2024";\n' + body + f"// End of {path.name}\n",
        encoding="utf-8",
    )
    return path


def test_ma_settings(tmp_path: Path) -> None:
    settings = read_settings(write_ma(tmp_path / "shot.ma", MA_BODY))
    assert settings == EXPECTED
    assert settings.renderable_layers == ("rs_beauty",)
    assert settings.frame_spec == "1001-1100x2"


@pytest.mark.parametrize(("align", "tdur"), [(8, 141120000), (4, 141120000), (4, None)])
def test_mb_of_the_same_scene_agrees(tmp_path: Path, align: int, tdur: int | None) -> None:
    mb = tmp_path / "shot.mb"
    mb.write_bytes(build_settings_mb(align, tdur))
    ma = write_ma(tmp_path / "shot.ma", MA_BODY)
    assert read_settings(mb) == read_settings(ma) == EXPECTED
    time1 = parse_mb(mb.read_bytes()).node("time1")
    assert time1 is not None and time1.attrs["o"] == "1001"


def test_adapter_exposes_scene_settings(tmp_path: Path) -> None:
    scene = write_ma(tmp_path / "shot.ma", MA_BODY)
    assert MayaAdapter().scene_settings(scene) == EXPECTED


@pytest.mark.parametrize("suffix", [".ma", ".mb"])
def test_a_scan_reads_the_scene_once_for_its_paths_and_its_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    import azrender_maya.scan as scan_module

    scene = write_ma(tmp_path / "shot.ma", MA_BODY)
    if suffix == ".mb":
        scene = tmp_path / "shot.mb"
        scene.write_bytes(build_settings_mb(8, 141120000))
    real, reads = scan_module.read_maya_scene, []

    def counted(path: Path):  # type: ignore[no-untyped-def]
        reads.append(path)
        return real(path)

    import azrender_maya.adapter as adapter_module
    import azrender_maya.settings as settings_module

    for module in (scan_module, adapter_module, settings_module):  # every name it is imported by
        monkeypatch.setattr(module, "read_maya_scene", counted)
    result = MayaAdapter().scan(scene)
    assert reads == [scene.absolute()]
    assert result.settings == EXPECTED == read_settings(scene)


def test_defaults_when_the_file_sets_nothing(tmp_path: Path) -> None:
    settings = read_settings(write_ma(tmp_path / "empty.ma", ""))
    assert settings == MayaSceneSettings(
        maya_version="2024", plugins=(), renderer="mayaSoftware", time_unit="film", fps=24.0,
        start=1.0, end=10.0, step=1.0, animation=False, image_prefix="", cameras=(),
        layers=(), resolution=(640, 480),
    )  # fmt: skip
    assert settings.frame_spec == "1-10"


@pytest.mark.parametrize(
    ("unit", "rate"),
    [("game", 15.0), ("film", 24.0), ("pal", 25.0), ("ntsc", 30.0), ("show", 48.0),
     ("palf", 50.0), ("ntscf", 60.0), ("23.976fps", 23.976), ("120fps", 120.0),
     ("29.97df", 30000 / 1001)],
)  # fmt: skip
def test_time_units(unit: str, rate: float) -> None:
    assert fps(unit) == pytest.approx(rate)


def test_unknown_time_unit_falls_back_to_film(tmp_path: Path) -> None:
    settings = read_settings(write_ma(tmp_path / "odd.ma", "currentUnit -t parsecs;\n"))
    assert (settings.time_unit, settings.fps) == ("film", 24.0)
    with pytest.raises(ValueError):
        fps("parsecs")
