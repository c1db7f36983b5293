"""`azrender scan` on scenes saved by a newer application than the scanner knows.

Blender: a .blend is read through its own SDNA whatever Blender wrote it, as
Blender itself does (it only warns, "File saved by newer Blender, expect loss
of data"). A file newer than the newest Blender the suite tests
(:data:`NEWEST_TESTED_BLENDER_VERSION`) is scanned with one warning line
(``--json``: ``warnings``), scene or linked library alike. Refused, with exit 2,
are only what Blender refuses too: a header layout it cannot decode
(``BlenderHeaderUnknown``); and a file whose SDNA lacks a field the scanner
reads, the error naming ``Struct.field`` and the file.
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
from typing import Any

import pytest
import zstandard

from azrender_blender.sdna import NEWEST_TESTED_BLENDER_VERSION
from azrender_maya.scan import NEWEST_MAYA_VERSION

AZRENDER = Path(sys.executable).parent / "azrender"
BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"


def run_scan(scene: Path, *, as_json: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    return subprocess.run(
        [str(AZRENDER), "scan", str(scene), *(["--json"] if as_json else [])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def scanned(scene: Path) -> dict[str, Any]:
    """Run the scan; it must succeed and print its JSON document."""
    proc = run_scan(scene)
    assert proc.returncode == 0, (scene.name, proc.stderr)
    return dict(json.loads(proc.stdout))


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


def renamed_in_sdna(blend: Path, old: bytes, new: bytes) -> None:
    """Rename one field name in the file's own DNA1 catalogue (same length: nothing else moves).

    The DNA1 block starts ``SDNA`` ``NAME`` <count> and then the NUL-terminated
    field names (``source/blender/makesdna/intern/dna_genfile.cc``,
    ``init_structDNA``); every struct whose field uses that name loses it.
    """
    assert len(old) == len(new)
    data = blend.read_bytes()
    start = data.index(b"SDNANAME")
    at = data.index(b"\0" + old + b"\0", start) + 1
    blend.write_bytes(data[:at] + new + data[at + len(old) :])


def assets_of(doc: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(a["kind"], Path(a["path"]).name, a["exists"]) for a in doc["assets"]]


# --- Blender --------------------------------------------------------------------------


def test_newer_blender_is_scanned_with_one_warning(real_fixtures: Path, tmp_path: Path) -> None:
    src = real_fixtures / BLENDFILES / "missing_textures.blend"
    control = scanned(src)
    assert control["warnings"] == []
    scene = patched(src, tmp_path / "future.blend", b"BLENDER-v279", b"BLENDER-v999")
    doc = scanned(scene)
    assert assets_of(doc)[1:] == assets_of(control)[1:]  # the same dependencies, found
    assert len(doc["warnings"]) == 1
    warning = doc["warnings"][0]
    assert str(scene) in warning and "Blender 9.99" in warning and "5.3" in warning
    # Without --json: the table, then the same warning as one line on stderr.
    proc = run_scan(scene, as_json=False)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert lines == [f"warning: {warning}"], proc.stderr


def test_zstd_compressed_newer_blend(real_fixtures: Path, tmp_path: Path) -> None:
    raw = patched(
        real_fixtures / BLENDFILES / "absolute_path.blend",
        tmp_path / "raw.blend",
        b"BLENDER-v280",
        b"BLENDER-v601",
    )
    scene = tmp_path / "compressed_future.blend"
    scene.write_bytes(zstandard.ZstdCompressor().compress(raw.read_bytes()))
    doc = scanned(scene)
    assert [w for w in doc["warnings"] if "Blender 6.1" in w and str(scene) in w] == doc["warnings"] != []


@pytest.mark.parametrize(
    "header",
    [
        b"BLENDER17-02v0500",  # a new file format version
        b"BLENDER18-01v0500",  # a new header size
    ],
)
def test_header_layouts_blender_cannot_decode_are_refused(
    real_fixtures: Path, tmp_path: Path, header: bytes
) -> None:
    """Blender refuses these too: ``BLO_readfile_blender_header_decode`` gives ``BlenderHeaderUnknown``."""
    scene = patched(
        real_fixtures / BLENDFILES / "absolute_path.blend",
        tmp_path / "layout.blend",
        b"BLENDER-v280",
        header[:12],
    )
    # the rest of the 17-byte header replaces the first block header bytes: never read
    refused(scene, "header layout this scanner cannot decode")


def test_newer_linked_library_is_scanned_with_a_warning_naming_it(real_fixtures: Path, tmp_path: Path) -> None:
    for name in ("linked_cube.blend", "basic_file.blend"):
        shutil.copy(real_fixtures / BLENDFILES / name, tmp_path / name)
    scene = tmp_path / "linked_cube.blend"
    control = scanned(scene)
    library = tmp_path / "basic_file.blend"
    patched(library, library, b"BLENDER-v279", b"BLENDER-v510")
    doc = scanned(scene)
    assert assets_of(doc) == assets_of(control)
    assert len(doc["warnings"]) == 1
    assert f"library {library}" in doc["warnings"][0] and "Blender 5.10" in doc["warnings"][0]


def test_a_field_the_sdna_lacks_is_named_with_the_file(real_fixtures: Path, tmp_path: Path) -> None:
    scene = tmp_path / "missing_textures.blend"
    shutil.copy(real_fixtures / BLENDFILES / scene.name, scene)
    renamed_in_sdna(scene, b"*packedfile", b"*packedfilx")
    line = refused(scene, "Image.packedfile", "SDNA has no field")
    assert "is not a readable" not in line


def test_a_field_a_library_lacks_is_named_with_the_library(real_fixtures: Path, tmp_path: Path) -> None:
    """``ID.lib`` is read by BAT without a default: its KeyError becomes the same one-line error."""
    for name in ("doubly_linked.blend", "linked_cube.blend", "basic_file.blend"):
        shutil.copy(real_fixtures / BLENDFILES / name, tmp_path / name)
    library = tmp_path / "linked_cube.blend"
    renamed_in_sdna(library, b"*lib", b"*liX")
    line = refused(tmp_path / "doubly_linked.blend", "ID.lib", f"library {library}")
    assert "is not a readable" not in line


@pytest.mark.bpy
def test_newest_tested_blender_has_no_warning_and_one_more_has(tmp_path: Path) -> None:
    """bpy 5.0's own header, then the same bytes claiming the Blender after the newest tested."""
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
    assert header == b"BLENDER17-01v0500", header
    assert scanned(scene)["warnings"] == []
    tested = patched(scene, tmp_path / "tested.blend", header, b"BLENDER17-01v%04d" % NEWEST_TESTED_BLENDER_VERSION)
    assert scanned(tested)["warnings"] == []
    newer = b"BLENDER17-01v%04d" % (NEWEST_TESTED_BLENDER_VERSION + 1)
    doc = scanned(patched(scene, tmp_path / "next.blend", header, newer))
    assert len(doc["warnings"]) == 1 and "next.blend" in doc["warnings"][0]


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
