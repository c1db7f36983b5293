"""Scenes saved by each Blender of the matrix, scanned by azrender and judged by that same Blender.

For bpy 5.3 (the current Blender, CPython 3.13), 5.0.1 and 4.5 LTS, each in its
own environment (scripts/setup.sh): the matrix shot (``matrix_scene.py``: a
linked library with its own texture, UDIM tiles, an image sequence and
non-ASCII file names) is built *by that bpy*, once per session, then scanned

* by this environment's scanner (CPython 3.11, as ``azrender`` runs on a
  workstation or in Blender 4.2-5.0), and
* by ``azrender scan --json`` in the bpy 5.3 environment (CPython 3.13, as the
  extension runs inside Blender 5.1+),

and each answer must be exactly the files the build wrote, and agree with that
Blender's own ``bpy.utils.blend_paths(absolute=True)``. Real .blend files
saved by Blender 5.x in shared/fixtures/real are judged by the matching bpy.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from blender_helpers import (
    REPO,
    Built,
    assert_same_as_blender,
    blender_dependency_paths,
    bpy_python,
)

from azrender.model import AssetKind
from azrender_blender.adapter import BlenderAdapter
from azrender_blender.scan import scan_blend
from azrender_blender.sdna import NEWEST_TESTED_BLENDER_VERSION
from azrender_blender.versions import version_text

pytestmark = pytest.mark.bpy

VERSIONS = ("5.3", "5.0", "4.5")

# What each Blender writes in the first bytes of a .blend (the version is
# BLENDER_FILE_VERSION; 5.0 introduced the 17-byte header), see
# BLO_readfile_blender_header_decode in Blender's
# source/blender/blenloader_core/intern/blo_core_blend_header.cc.
HEADERS = {"5.3": b"BLENDER17-01v0503", "5.0": b"BLENDER17-01v0500", "4.5": b"BLENDER-v405"}


def scan_with(scanner: str, scene: Path) -> dict[str, object]:
    """The ``scan --json`` document of ``scene`` by the CPython 3.11 scanner (here) or the 3.13 one."""
    if scanner == "cp311":
        return BlenderAdapter().scan(scene).to_json()  # what `azrender scan` runs
    azrender = bpy_python("5.3").parent / "azrender"
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_DEBUG"}
    proc = subprocess.run(
        [str(azrender), "scan", str(scene), "--json"], capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


@pytest.mark.parametrize("scanner", ["cp311", "cp313"])
@pytest.mark.parametrize("version", VERSIONS)
def test_shot_saved_by_each_blender_scans_complete(
    matrix_shot: Callable[[str], Built], version: str, scanner: str
) -> None:
    shot = matrix_shot(version)
    assert shot.blender.startswith(version), shot.blender
    assert shot.scene.read_bytes().startswith(HEADERS[version])  # really saved by that Blender

    doc = scan_with(scanner, shot.scene)
    assets = doc["assets"]
    assert isinstance(assets, list)
    found = {Path(a["path"]) for a in assets}
    assert assets[0] == {**assets[0], "path": str(shot.scene), "kind": AssetKind.SCENE.value}
    assert found - {shot.scene} == shot.written  # every file the build made, nothing else
    assert all(a["exists"] for a in assets) and doc["missing"] == [] and doc["packed"] == 0
    assert doc["warnings"] == []  # no Blender of the matrix is newer than the newest tested
    library = next(a for a in assets if a["kind"] == AssetKind.LIBRARY.value)
    assert library["path"].endswith("bibliothèque_木.blend")
    bark = next(a for a in assets if a["path"].endswith("écorce wood.png"))
    assert bark["referrer"] == f"Image 'écorce wood.png' in library {library['path']}"
    # Which Blender saved the scene and its library, as the local node picks its Blender by it.
    assert doc["app_versions"] == {str(shot.scene): version, library["path"]: version}
    # And that Blender agrees.
    assert_same_as_blender(found - {shot.scene}, set(shot.blend_paths))


def test_newest_tested_is_the_newest_blender_of_the_matrix(matrix_shot: Callable[[str], Built]) -> None:
    """Files from newer Blenders get a warning: "newer" must mean newer than the bpy really tested here."""
    newest = max(VERSIONS, key=lambda v: tuple(map(int, v.split("."))))
    assert matrix_shot(newest).scene.read_bytes()[:17] == b"BLENDER17-01v%04d" % NEWEST_TESTED_BLENDER_VERSION


def test_shot_from_the_next_blender_scans_the_same_with_one_warning_per_file(
    matrix_shot: Callable[[str], Built], tmp_path: Path
) -> None:
    """The bpy 5.3 shot, its scene and library headers saying the Blender after the newest tested."""
    shot = matrix_shot("5.3")
    copy = tmp_path / "next"
    shutil.copytree(shot.scene.parent, copy)
    scene, library = copy / shot.scene.name, copy / "lib" / "bibliothèque_木.blend"
    newer = b"BLENDER17-01v%04d" % (NEWEST_TESTED_BLENDER_VERSION + 1)
    for blend in (scene, library):
        data = blend.read_bytes()
        assert data.startswith(HEADERS["5.3"])
        blend.write_bytes(newer + data[len(newer) :])
    result = scan_blend(scene)
    moved = {copy / p.relative_to(shot.scene.parent) for p in shot.written}
    assert {a.path for a in result.assets} - {scene} == moved and result.missing == []
    assert len(result.warnings) == 2
    next_blender = version_text(NEWEST_TESTED_BLENDER_VERSION + 1)  # "5.4"
    assert result.warnings[0].startswith(f"{scene} was saved by Blender {next_blender}, newer than")
    assert result.warnings[1].startswith(f"library {library} (linked from {scene}) was saved by Blender {next_blender}")


def _blend_header(path: Path) -> bytes:
    with path.open("rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        with gzip.open(path) as g:
            return g.read(17)
    if head == b"\x28\xb5\x2f\xfd":
        with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as z:
            return z.read(17)
    with path.open("rb") as f:
        return f.read(17)


def _saved_by(header: bytes) -> int:
    """Header version (``503``) of a 17-byte or legacy 12-byte .blend header; 0 if not a .blend."""
    if header.startswith(b"BLENDER17-01v") and header[13:17].isdigit():
        return int(header[13:17])
    if header.startswith(b"BLENDER") and header[9:12].isdigit():
        return int(header[9:12])
    return 0


def _real_blender5_files() -> list[Path]:
    real = REPO.parent / "shared" / "fixtures" / "real"
    if not real.is_dir():
        return []
    return sorted(p for p in real.rglob("*.blend") if _saved_by(_blend_header(p)) >= 500)


@pytest.mark.parametrize("blend", _real_blender5_files() or [None], ids=lambda p: p.name if p else "none")
def test_real_files_saved_by_blender_5_match_that_blender(blend: Path | None) -> None:
    """Ground truth from bpy 5.3 for files from Blender 5.1+, bpy 5.0 for 5.0 files."""
    if blend is None:
        pytest.skip("shared/fixtures/real holds no .blend saved by Blender 5.x")
    python = bpy_python("5.3" if _saved_by(_blend_header(blend)) > 500 else "5.0")
    result = scan_blend(blend)
    found = {a.path for a in result.assets if a.kind is not AssetKind.SCENE}
    assert_same_as_blender(found, blender_dependency_paths(blend, python))

