"""The scan cache and Maya's project: a kept result is not served once the project would change the answer.

``workspace.mel`` is not an asset of the scene, yet its file rules decide
where a relative texture path is found; a project file made nearer the scene
would become the project. Both are watched (azrender.scan.inputs).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from azrender.scan.cache import ScanCache
from azrender_maya.adapter import MayaAdapter

HEAD = '//Maya ASCII 2024 scene\n//Codeset: UTF-8\nrequires maya "2024";\n'
RULES = 'workspace -fr "scene" "scenes";\nworkspace -fr "sourceImages" "{images}";\n'


class Counting:
    """How many scans the cache did not answer."""

    scans = 0


def _age(root: Path, seconds: float) -> None:
    """Everything below ``root`` dated ``seconds`` back: out of the cache's racy window."""
    when = time.time() - seconds
    for p in [*root.rglob("*"), root]:
        os.utime(p, (when, when))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import azrender_maya.adapter as adapter_module

    monkeypatch.setenv("AZRENDER_CACHE_DIR", str(tmp_path / "cache"))
    real = adapter_module.scan_maya_paths

    def counted(scene: Path, **kwargs):  # type: ignore[no-untyped-def]
        Counting.scans += 1
        return real(scene, **kwargs)

    monkeypatch.setattr(adapter_module, "scan_maya_paths", counted)
    root = tmp_path / "Haunted"
    for folder in ("scenes/seq", "sourceimages", "textures2"):
        (root / folder).mkdir(parents=True)
    (root / "workspace.mel").write_text(RULES.format(images="sourceimages"))
    (root / "sourceimages" / "oak.png").write_bytes(b"png")
    (root / "textures2" / "oak.png").write_bytes(b"png, the other one")
    (root / "scenes" / "seq" / "shot.ma").write_text(
        HEAD + 'createNode file -n "f1";\n\tsetAttr ".ftn" -type "string" "oak.png";\n')
    _age(root, 120)
    Counting.scans = 0
    return root


def textures(root: Path) -> list[Path]:
    assets = ScanCache().scan(MayaAdapter(), root / "scenes" / "seq" / "shot.ma")
    return [a.path for a in assets.assets[1:]]


def keeping_folder_times(path: Path, write: str) -> None:
    """Write ``path`` in place, as an editor saving over it does, its folder's mtime as it was."""
    folder = os.stat(path.parent)
    existed = path.exists()
    path.write_text(write)
    if existed:
        os.utime(path.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))
    when = time.time() - 60
    os.utime(path, (when, when))


def test_an_unchanged_project_is_answered_from_the_cache(project: Path) -> None:
    assert textures(project) == [project / "sourceimages" / "oak.png"]
    assert textures(project) == [project / "sourceimages" / "oak.png"]
    assert Counting.scans == 1


def test_a_changed_file_rule_is_a_miss(project: Path) -> None:
    assert textures(project) == [project / "sourceimages" / "oak.png"]
    keeping_folder_times(project / "workspace.mel", RULES.format(images="textures2"))
    assert textures(project) == [project / "textures2" / "oak.png"]
    assert Counting.scans == 2


def test_a_project_made_nearer_the_scene_is_a_miss(project: Path) -> None:
    assert textures(project) == [project / "sourceimages" / "oak.png"]
    nearer = project / "scenes"
    (nearer / "maps").mkdir()
    (nearer / "maps" / "oak.png").write_bytes(b"png, nearer")
    _age(nearer / "maps", 60)
    folder = os.stat(nearer)
    keeping_folder_times(nearer / "workspace.mel", RULES.format(images="maps"))
    os.utime(nearer, ns=(folder.st_atime_ns, folder.st_mtime_ns))  # only the new file tells
    assert textures(project) == [nearer / "maps" / "oak.png"]
    assert Counting.scans == 2


def test_a_file_made_where_maya_looks_first_is_a_miss(project: Path) -> None:
    """``oak.png`` is looked for in the project's root before the sourceImages rule's folder."""
    assert textures(project) == [project / "sourceimages" / "oak.png"]
    (project / "oak.png").write_bytes(b"png, found first now")
    os.utime(project / "oak.png", (time.time() - 60, time.time() - 60))
    os.utime(project, (time.time() - 60, time.time() - 60))  # out of the racy window, but changed
    assert textures(project) == [project / "oak.png"]
    assert Counting.scans == 2
