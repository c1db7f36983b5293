"""The scan cache and 3ds Max's map paths: a bitmap made later where Max looks first is a miss."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_max_scan import rec, write_max

from azrender.scan.cache import ScanCache
from azrender_max.adapter import MaxAdapter


def _age(root: Path, seconds: float) -> None:
    when = time.time() - seconds
    for p in [*root.rglob("*"), root]:
        os.utime(p, (when, when))


def test_a_bitmap_made_in_an_earlier_map_path_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZRENDER_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "show"
    shot, first, second = root / "shot", root / "maps1", root / "maps2"
    for folder in (shot, first, second):
        folder.mkdir(parents=True)
    (second / "moved.jpg").write_bytes(b"jpg")
    scene = write_max(shot / "shot.max", [rec("Bitmap", "D:\\old\\place\\moved.jpg")])
    _age(root, 120)
    adapter = MaxAdapter(map_paths=[first, second])  # the scene's folder, then maps1, then maps2
    import azrender_max.adapter as adapter_module

    scans: list[Path] = []
    real = adapter_module.scan_max

    def counted(scene: Path, **kwargs):  # type: ignore[no-untyped-def]
        scans.append(scene)
        return real(scene, **kwargs)

    monkeypatch.setattr(adapter_module, "scan_max", counted)

    def bitmaps() -> list[Path]:
        return [a.path for a in ScanCache().scan(adapter, scene).assets if a.path.suffix == ".jpg"]

    assert bitmaps() == [second / "moved.jpg"]
    assert bitmaps() == [second / "moved.jpg"]
    assert len(scans) == 1  # the second answer came from the cache
    (first / "moved.jpg").write_bytes(b"jpg, found first now")
    _age(first, 60)  # out of the racy window; maps1's mtime changed all the same
    assert bitmaps() == [first / "moved.jpg"]
    assert len(scans) == 2
