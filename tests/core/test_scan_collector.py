"""The cycle collector is off while a scan builds its objects, and as it was afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from azrender.errors import SceneError
from azrender.scan.collector import collector_paused
from azrender_blender.adapter import BlenderAdapter


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_on_again_after_even_when_the_block_fails() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("scan failed")
    assert gc.isenabled()


def test_a_caller_that_paused_it_keeps_it_paused() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_scan_pauses_it_and_leaves_it_on(real_fixtures: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import azrender_blender.adapter as adapter_module

    seen: list[bool] = []
    real = adapter_module.scan_blend

    def watching(scene: Path):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(scene)

    monkeypatch.setattr(adapter_module, "scan_blend", watching)
    scene = real_fixtures / "helio__blender-asset-tracer/tests/blendfiles/basic_file.blend"
    assert BlenderAdapter().scan(scene).assets[0].path == scene
    broken = tmp_path / "broken.blend"
    broken.write_bytes(b"BLENDER-v279 and then nothing")
    with pytest.raises(SceneError):
        BlenderAdapter().scan(broken)
    assert seen == [False, False] and gc.isenabled()
