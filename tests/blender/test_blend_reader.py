"""azrender's .blend reader against blender-asset-tracer (the scanner's reader before it) and against Blender.

Every .blend under shared/fixtures/real and every .blend the tests generate
with bpy (the version-matrix shots of bpy 5.3, 5.0 and 4.5, the demo shot of
bpy 5.0 and 5.3, a scene with a packed image) is read both ways: the paths
found (file, block, name, path as stored, sequence or not, absolute path) and
the packed blocks must be the same records, and the scan's assets the same
list. The generated scenes are also judged by the bpy that saved them
(``bpy.utils.blend_paths(absolute=True)``). Then damaged files: each must be
refused with the one-line SceneError and the hint the scanner always gave.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bat_trace import bat_trace
from blender_helpers import (
    DEMO_SCENE,
    REPO,
    Built,
    assert_same_as_blender,
    blender_dependency_paths,
    bpy_python,
)

from azrender.errors import SceneError
from azrender.model import Asset, AssetKind
from azrender_blender.blend import BlendFile, Usage, Walk, trace
from azrender_blender.blend.paths import make_absolute, resolve
from azrender_blender.blend.usages import READ_CODES, read_from_scene
from azrender_blender.scan import assets_from, scan_blend

REAL = REPO.parent / "shared" / "fixtures" / "real"
REAL_BLENDS = sorted(REAL.rglob("*.blend*")) if REAL.is_dir() else []


def reader_trace(scene: Path) -> tuple[list[tuple[Usage, Path]], set[tuple[Path, int]]]:
    """The reader's answer in bat_trace's shape: each path with its absolute path, and the packed blocks."""
    opened: dict[Path, BlendFile] = {}

    def open_file(path: Path) -> BlendFile:
        key = make_absolute(path)
        if key not in opened:
            opened[key] = BlendFile(path, read_from_scene if not opened else None)
        return opened[key]

    try:
        found = trace(Walk(open_file(scene), open_file, READ_CODES))
    finally:
        for bfile in opened.values():
            bfile.close()
    return [(u, resolve(u.path, u.blend)) for u in found.usages], found.packed


def assert_same_as_bat(scene: Path) -> list[tuple[Usage, Path]]:
    """The reader finds what BAT finds, record for record, and the scan lists the same assets."""
    try:
        expected = bat_trace(scene)
    except Exception as bat_error:  # any BAT failure: the scanner must refuse the file too
        with pytest.raises(SceneError):
            scan_blend(scene)
        pytest.skip(f"BAT cannot read {scene.name} either ({type(bat_error).__name__}); refused alike")
    found = reader_trace(scene)
    assert found[0] == expected[0]
    assert found[1] == expected[1]
    result = scan_blend(scene)
    bat_assets: list[Asset] = []
    seen = {scene}
    for asset in assets_from(expected[0], scene):
        if asset.path not in seen:
            seen.add(asset.path)
            bat_assets.append(asset)
    assert result.assets[1 : 1 + len(bat_assets)] == bat_assets
    assert result.packed_count == len(expected[1])
    return found[0]


@pytest.mark.parametrize("blend", REAL_BLENDS or [None], ids=lambda p: str(p.relative_to(REAL)) if p else "none")
def test_real_files_read_as_bat_reads_them(blend: Path | None) -> None:
    if blend is None:
        pytest.skip("shared/fixtures/real holds no .blend")
    assert_same_as_bat(blend)


def test_the_comparison_sees_paths_in_libraries(real_fixtures: Path) -> None:
    """The control: the real files give the comparison something to compare, libraries included."""
    found = assert_same_as_bat(real_fixtures / "helio__blender-asset-tracer/tests/blendfiles/doubly_linked.blend")
    assert any(u.code == b"LI" for u, _ in found)
    assert any(u.blend.name == "linked_cube.blend" for u, _ in found)


@pytest.mark.bpy
@pytest.mark.parametrize("version", ["5.3", "5.0", "4.5"])
def test_matrix_shots_read_as_bat_and_blender_read_them(matrix_shot: Callable[[str], Built], version: str) -> None:
    shot = matrix_shot(version)
    assert_same_as_bat(shot.scene)
    library = shot.scene.parent / "lib" / "bibliothèque_木.blend"
    assert_same_as_bat(library)
    found = {a.path for a in scan_blend(shot.scene).assets if a.kind is not AssetKind.SCENE}
    assert_same_as_blender(found, set(shot.blend_paths))


@pytest.mark.bpy
@pytest.mark.parametrize("version", ["5.0", "5.3"])
def test_demo_shots_read_as_bat_and_blender_read_them(demo_shot_by: Callable[[str], Path], version: str) -> None:
    folder = demo_shot_by(version)
    for blend in sorted(folder.rglob("*.blend")):
        assert_same_as_bat(blend)
        found = {a.path for a in scan_blend(blend).assets if a.kind is not AssetKind.SCENE}
        assert_same_as_blender(found, blender_dependency_paths(blend, bpy_python(version)))


_PACK = r"""
import sys, bpy
sys.path.insert(0, sys.argv[-2])
from demo_scene import _save_png
from pathlib import Path
bpy.ops.wm.read_factory_settings(use_empty=True)
out = Path(sys.argv[-1])
for name, seed in (("a.png", 1), ("b.png", 2)):
    _save_png(out / name, "paint", seed)
    bpy.data.images.load(str(out / name)).use_fake_user = True
bpy.data.images["a.png"].pack()
bpy.ops.wm.save_as_mainfile(filepath=str(out / "packed.blend"), compress=True)
"""


@pytest.mark.bpy
def test_a_compressed_scene_with_a_packed_image_reads_as_bat_and_blender_read_it(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-c", _PACK, str(DEMO_SCENE.parent), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    scene = tmp_path / "packed.blend"
    assert scene.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd, as Blender compresses
    assert_same_as_bat(scene)
    result = scan_blend(scene)
    assert result.packed_count == 1
    found = {a.path for a in result.assets if a.kind is not AssetKind.SCENE}
    assert found == {tmp_path / "b.png"}
    assert_same_as_blender(found, blender_dependency_paths(scene) - {tmp_path / "a.png"})


# --- damaged files --------------------------------------------------------------


def _refused(path: Path) -> str:
    with pytest.raises(SceneError) as info:
        scan_blend(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a readable .blend file: ") and "\n" not in message
    assert info.value.hint == "it is damaged or not a .blend: open it in Blender and save it again"
    return message


@pytest.fixture
def plain(real_fixtures: Path) -> bytes:
    return (real_fixtures / "helio__blender-asset-tracer/tests/blendfiles/basic_file.blend").read_bytes()


@pytest.mark.parametrize("keep", [7, 12, 13, 40, 5000, -200])
def test_a_truncated_file_is_refused(tmp_path: Path, plain: bytes, keep: int) -> None:
    """Cut anywhere: in the header, in a block header, in a block, in DNA1, before ENDB."""
    path = tmp_path / "cut.blend"
    path.write_bytes(plain[:keep])
    message = _refused(path)
    if keep >= 40:
        assert "No DNA1 block" in message or "DNA1" in message


_CUT_WHILE_READ = r"""
import os, sys
from pathlib import Path
import azrender_blender.scan as scan
from azrender.errors import SceneError
path = Path(sys.argv[1])
real_trace = scan.trace

def cut_then_trace(walk):  # after the header pass, before the blocks are read back
    os.truncate(path, 2048)
    return real_trace(walk)

scan.trace = cut_then_trace
try:
    scan.scan_blend(path)
    print("read")
except SceneError as exc:
    print("refused:", exc)
"""


def test_a_file_cut_short_while_it_is_read_is_refused_not_a_crash(tmp_path: Path, plain: bytes) -> None:
    """Another program truncating the file mid-scan: a mapped file would kill the process
    (SIGBUS, and the scan may run inside the artist's Blender); read, it is one error."""
    path = tmp_path / "cut-while-read.blend"
    path.write_bytes(plain)
    done = subprocess.run([sys.executable, "-c", _CUT_WHILE_READ, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, f"the scanning process died ({done.returncode}): {done.stderr[-1500:]}"
    assert done.stdout.startswith(f"refused: {path} is not a readable .blend file: the file ends inside"), done.stdout


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_a_truncated_compressed_file_is_refused(tmp_path: Path, plain: bytes, compress: str) -> None:
    import zstandard

    packed = gzip.compress(plain) if compress == "gzip" else zstandard.ZstdCompressor().compress(plain)
    path = tmp_path / "cut.blend"
    path.write_bytes(packed[: len(packed) // 2])
    _refused(path)
    path.write_bytes(packed)  # the control: whole, it reads
    assert scan_blend(path).assets[0].kind is AssetKind.SCENE


def test_a_compressed_file_that_is_no_blend_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.blend"
    path.write_bytes(gzip.compress(b"hello, not a blend file\n" * 10))
    assert "Compressed file is not a blend file" in _refused(path)


def test_a_block_with_a_negative_length_is_refused(tmp_path: Path, plain: bytes) -> None:
    data = bytearray(plain)
    data[12 + 4 : 12 + 8] = (-5).to_bytes(4, "little", signed=True)  # the first block header's length
    path = tmp_path / "bad.blend"
    path.write_bytes(bytes(data))
    assert "negative length" in _refused(path)


def test_a_header_from_a_future_file_format_is_refused_as_newer(tmp_path: Path, plain: bytes) -> None:
    path = tmp_path / "future.blend"
    path.write_bytes(b"BLENDER17-02v0600" + plain[12:])
    with pytest.raises(SceneError) as info:
        scan_blend(path)
    assert str(info.value).startswith(f"{path} has a .blend header layout this scanner cannot decode")


def test_a_field_renamed_in_the_sdna_is_named(real_fixtures: Path, tmp_path: Path) -> None:
    """A field the reader follows (``Object.modifiers``) under another name: the file and field are named."""
    scene = tmp_path / "ocean.blend"
    shutil.copy(real_fixtures / "helio__blender-asset-tracer/tests/blendfiles/ocean_modifier.blend", scene)
    assert scan_blend(scene).assets[1].kind is AssetKind.CACHE  # the control
    data = scene.read_bytes()
    names = data.index(b"SDNANAME")
    at = data.index(b"\0modifiers\0", names) + 1
    scene.write_bytes(data[:at] + b"modifierz" + data[at + len(b"modifiers") :])
    with pytest.raises(SceneError) as info:
        scan_blend(scene)
    assert str(info.value).startswith(f"{scene}: its SDNA has no field Object.modifiers; "
                                      "the scanner reads it for the scene's dependencies")  # fmt: skip
