"""Every real .ma/.mb in ../shared/fixtures/real scans to the truth list written down by reading the files.

The list (``real_scenes_truth.tsv``) names each file-bearing attribute with its
scene line (``.ma``) or byte offset (``.mb``); the test first checks that the
file still says that there, so the list cannot drift from the files.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from azrender.model import AssetKind
from azrender_maya.scan import scan_maya

TRUTH = Path(__file__).with_name("real_scenes_truth.tsv")


def truth_rows() -> list[list[str]]:
    with TRUTH.open(encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]


ROWS = truth_rows()
SCENES = sorted({row[0] for row in ROWS})


def test_the_list_covers_every_real_maya_scene(real_fixtures: Path) -> None:
    on_disk = sorted(
        p.relative_to(real_fixtures).as_posix()
        for p in real_fixtures.rglob("*")
        if p.suffix.lower() in (".ma", ".mb") and p.is_file()
    )
    assert on_disk == SCENES


@pytest.mark.parametrize("rel", SCENES)
def test_real_scene_matches_its_truth_list(real_fixtures: Path, rel: str) -> None:
    scene = real_fixtures / rel
    rows = [r for r in ROWS if r[0] == rel]
    data = scene.read_bytes()
    lines = data.decode("utf-8", errors="replace").splitlines()
    expected: dict[str, bool] = {}
    referrers: dict[str, set[str]] = defaultdict(set)
    with_maya: set[tuple[str, str]] = set()
    for _, where, referrer, written, path, exists in rows:
        if exists == "none":
            continue
        # the list says what the file says, where it says it
        if where.startswith("@"):
            at = int(where[1:])
            assert data[at : at + len(written)] == written.encode(), (rel, where)
        else:
            attr = referrer.rsplit(".", 1)[-1]
            line = lines[int(where) - 1]
            assert written in line and (f'".{attr}"' in line or line.startswith("file ")), (rel, where, line)
        path = path.replace("{real}", str(real_fixtures))
        if exists == "maya":
            with_maya.add((path, referrer))
            continue
        expected[path] = exists == "yes"
        referrers[path].add(referrer)
    result = scan_maya(scene)
    found = {str(a.path): a.exists for a in result.assets if a.kind is not AssetKind.SCENE}
    assert found == expected
    for asset in result.assets[1:]:  # the node and attribute, before any note in parentheses
        assert asset.referrer.split(" (", 1)[0] in referrers[str(asset.path)], (asset.path, asset.referrer)
    assert {(str(a.path), a.referrer) for a in result.app_files} == with_maya
