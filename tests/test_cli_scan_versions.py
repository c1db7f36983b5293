"""`azrender scan` on scenes saved by a newer application than the scanner knows.

Blender: a .blend newer than :data:`NEWEST_BLENDER_VERSION` (or with a header
layout BAT does not know) is refused with exit 2 and "saved by a newer
Blender", whether it is the scene, a compressed scene or a linked library.
Maya: a newer .ma/.mb is read (see ``NEWEST_MAYA_VERSION`` for why); only when
it does not parse does the error name the newer Maya.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from azrender_blender.scan import NEWEST_BLENDER_VERSION
from azrender_maya.scan import NEWEST_MAYA_VERSION

AZRENDER = Path(sys.executable).parent / "azrender"
BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"


def run_scan(scene: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    return subprocess.run(
        [str(AZRENDER), "scan", str(scene), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def refused(scene: Path, *words: str) -> str:
    """Run the scan; it must exit 2 with one line naming ``scene`` and holding ``words``."""
    proc = run_scan(scene)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (scene.name, proc.returncode, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for word in (scene.name, *words):
        assert word in lines[0], (word, lines[0])
    return lines[0]


def patched(src: Path, dst: Path, old: bytes, new: bytes) -> Path:
    data = src.read_bytes()
    assert data.startswith(old), data[:17]
    dst.write_bytes(new + data[len(old) :])
    return dst


# --- Blender --------------------------------------------------------------------------


def test_legacy_header_from_the_future(real_fixtures: Path, tmp_path: Path) -> None:
    src = real_fixtures / BLENDFILES / "absolute_path.blend"
    assert run_scan(src).returncode == 0  # the control: same bytes, real version
    scene = patched(src, tmp_path / "future.blend", b"BLENDER-v280", b"BLENDER-v999")
    line = refused(scene, "saved by a newer Blender", "9.99")
    assert "5.0" in line  # says what it does read


def test_zstd_compressed_newer_blend(real_fixtures: Path, tmp_path: Path) -> None:
    raw = patched(
        real_fixtures / BLENDFILES / "absolute_path.blend",
        tmp_path / "raw.blend",
        b"BLENDER-v280",
        b"BLENDER-v601",
    )
    scene = tmp_path / "compressed_future.blend"
    scene.write_bytes(zstandard.ZstdCompressor().compress(raw.read_bytes()))
    refused(scene, "saved by a newer Blender", "6.1")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (b"BLENDER17-02v0500", ("saved by a newer Blender",)),  # a new file format version
        (b"BLENDER18-01v0500", ("saved by a newer Blender",)),  # a new header size
    ],
)
def test_unknown_header_layouts_are_newer_files(
    real_fixtures: Path, tmp_path: Path, header: bytes, words: tuple[str, ...]
) -> None:
    scene = patched(
        real_fixtures / BLENDFILES / "absolute_path.blend",
        tmp_path / "layout.blend",
        b"BLENDER-v280",
        header[:12],
    )
    # the rest of the 17-byte header replaces the first block header bytes: never read
    refused(scene, *words)


def test_newer_linked_library_is_refused(real_fixtures: Path, tmp_path: Path) -> None:
    for name in ("linked_cube.blend", "basic_file.blend"):
        shutil.copy(real_fixtures / BLENDFILES / name, tmp_path / name)
    scene = tmp_path / "linked_cube.blend"
    assert run_scan(scene).returncode == 0
    library = tmp_path / "basic_file.blend"
    patched(library, library, b"BLENDER-v279", b"BLENDER-v510")
    line = refused(scene, "saved by a newer Blender", "5.10")
    assert "basic_file.blend" in line  # names the library, not only the scene


@pytest.mark.bpy
def test_newest_supported_blender_is_read_and_one_more_is_not(tmp_path: Path) -> None:
    pytest.importorskip("bpy")
    scene = tmp_path / "now.blend"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bpy; bpy.ops.wm.read_factory_settings(use_empty=True);"
            "bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1], compress=False)",
            str(scene),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    header = scene.read_bytes()[:17]
    assert header == b"BLENDER17-01v%04d" % NEWEST_BLENDER_VERSION, header
    assert run_scan(scene).returncode == 0
    newer = b"BLENDER17-01v%04d" % (NEWEST_BLENDER_VERSION + 1)
    refused(patched(scene, tmp_path / "next.blend", header, newer), "saved by a newer Blender")


# --- Maya ------------------------------------------------------------------------------

FUTURE = NEWEST_MAYA_VERSION + 73


def test_newer_maya_ascii_is_read_anyway(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    (tmp_path / "tex" / "a.png").write_bytes(b"png")
    scene = tmp_path / "future.ma"
    scene.write_text(
        f"//Maya ASCII {FUTURE} scene\n//Codeset: UTF-8\n"
        f'requires maya "{FUTURE}";\n'
        "someStatementMayaWillInventOneDay -x 1;\n"
        'createNode file -n "file1";\n\tsetAttr ".ftn" -type "string" "tex/a.png";\n'
    )
    proc = run_scan(scene)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(a["path"], a["exists"]) for a in doc["assets"] if a["kind"] == "texture"] == [
        (str(tmp_path / "tex" / "a.png"), True)
    ]


def test_newer_maya_file_that_does_not_parse_names_the_version(tmp_path: Path) -> None:
    ma = tmp_path / "future_cut.ma"
    ma.write_text(f'//Maya ASCII {FUTURE} scene\nsetAttr ".ftn" -type "string" "never')
    refused(ma, f"saved by Maya {FUTURE}", f"up to {NEWEST_MAYA_VERSION}")
    mb = tmp_path / "future_layout.mb"
    # FOR8 header, a HEAD form whose VERS says FUTURE, then a chunk size past the end
    vers = b"VERS" + b"\x00" * 4 + (4).to_bytes(8, "big") + str(FUTURE).encode() + b"\x00" * 4
    head = b"FOR8" + b"\x00" * 4 + (4 + len(vers)).to_bytes(8, "big") + b"HEAD" + vers
    body = b"Maya" + head + b"XXXX" + b"\x00" * 4 + (10**6).to_bytes(8, "big")
    mb.write_bytes(b"FOR8" + b"\x00" * 4 + len(body).to_bytes(8, "big") + body)
    refused(mb, f"saved by Maya {FUTURE}")
    # the same broken bytes from a known Maya are simply corrupt
    known = tmp_path / "known_layout.mb"
    known.write_bytes(mb.read_bytes().replace(str(FUTURE).encode(), b"2024"))
    line = refused(known, "corrupt or truncated")
    assert "saved by Maya" not in line
