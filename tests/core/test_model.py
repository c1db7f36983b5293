"""FrameRange parsing and chunking, AssetSet behaviour, JobSpec JSON round trip."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from azrender.errors import UsageError
from azrender.model import (
    Asset,
    AssetKind,
    AssetSet,
    FrameRange,
    JobSpec,
    OutputFileSpec,
    RenderOptions,
    TaskSpec,
    UploadCondition,
    job_from_json,
    job_to_json,
)


@pytest.mark.parametrize(
    ("spec", "frames"),
    [
        ("1-5", (1, 2, 3, 4, 5)),
        ("1-20x5", (1, 6, 11, 16)),
        ("1,3,5-7", (1, 3, 5, 6, 7)),
        ("10-7", (10, 9, 8, 7)),
        ("42", (42,)),
        (" 1 - 3 ", (1, 2, 3)),
        ("-2-1", (-2, -1, 0, 1)),
    ],
)
def test_frame_range_parses_farm_syntax(spec: str, frames: tuple[int, ...]) -> None:
    assert FrameRange.parse(spec).frames == frames


@pytest.mark.parametrize("spec", ["", "abc", "1-", "1-10x0", "1.5", "1-3x"])
def test_frame_range_rejects_nonsense_with_a_clear_error(spec: str) -> None:
    with pytest.raises(UsageError) as info:
        FrameRange.parse(spec)
    message = str(info.value)
    assert "frame" in message
    assert "\n" not in message


def test_chunks_keep_order_and_size() -> None:
    chunks = FrameRange.parse("1-7").chunks(3)
    assert [c.frames for c in chunks] == [(1, 2, 3), (4, 5, 6), (7,)]
    assert [c.is_contiguous for c in chunks] == [True, True, True]
    assert [c.label() for c in chunks] == ["1-3", "4-6", "7"]


def test_stepped_and_reversed_chunks_are_not_contiguous() -> None:
    stepped = FrameRange.parse("1-20x5").chunks(2)
    assert [c.frames for c in stepped] == [(1, 6), (11, 16)]
    assert not stepped[0].is_contiguous
    assert stepped[0].label() == "1,6"
    reverse = FrameRange.parse("3-1").chunks(3)
    assert not reverse[0].is_contiguous


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(UsageError):
        FrameRange.parse("1-3").chunks(0)


def test_asset_from_disk_records_missing_files(tmp_path: Path) -> None:
    present = tmp_path / "a.png"
    present.write_bytes(b"12345")
    ok = Asset.from_disk(present, AssetKind.TEXTURE, "Image 'a'")
    gone = Asset.from_disk(tmp_path / "gone.png", AssetKind.TEXTURE, "Image 'gone'")
    folder = Asset.from_disk(tmp_path, AssetKind.OTHER)
    assert (ok.exists, ok.size) == (True, 5)
    assert (gone.exists, gone.size, gone.referrer) == (False, None, "Image 'gone'")
    assert folder.exists is False  # a folder is not a file a renderer can read


def test_asset_set_deduplicates_and_reports(tmp_path: Path) -> None:
    scene = tmp_path / "s.blend"
    scene.write_bytes(b"x" * 10)
    assets = AssetSet(scene=scene, app="blender")
    assets.add(Asset.from_disk(scene, AssetKind.SCENE))
    assets.add(Asset.from_disk(scene, AssetKind.SCENE))
    assets.add(Asset.from_disk(tmp_path / "missing.exr", AssetKind.TEXTURE, "Image 'm'"))
    doc = assets.to_json()
    assert [a["path"] for a in doc["assets"]] == [str(scene), str(tmp_path / "missing.exr")]  # type: ignore[index]
    assert doc["missing"] == [str(tmp_path / "missing.exr")]
    assert assets.total_bytes == 10


def test_job_json_round_trip() -> None:
    task = TaskSpec(
        task_id="frames-001",
        command_line="blender -b x.blend -a",
        frames=(1, 2),
        environment={"A": "1"},
        output_files=(OutputFileSpec("out/**/*", "job/frames", UploadCondition.SUCCESS),),
        max_retries=2,
        max_wall_clock_seconds=600,
    )
    job = JobSpec(
        job_id="job",
        app="blender",
        scene=Path("/shots/a.blend"),
        frames=FrameRange.parse("1-2"),
        chunk_size=2,
        assets_container="assets",
        outputs_container="outputs",
        render=RenderOptions(camera="shotCam", layers=("beauty", "fx"), width=1920, height=1080),
        preparation=TaskSpec("jobpreparation", "python3 -m azrender.node sync --job job"),
        tasks=[task],
    )
    again = job_from_json(job_to_json(job))
    assert again == job


@pytest.mark.parametrize("spec", ["1-1000000", "1-9999999999", "1-100000,100001-100001", "1-999999999999x1"])
def test_a_range_over_the_limit_is_refused_at_once_without_expanding_it(spec: str) -> None:
    started = time.perf_counter()
    with pytest.raises(UsageError) as info:
        FrameRange.parse(spec)
    assert time.perf_counter() - started < 0.5  # counted by arithmetic, not expanded
    message = str(info.value)
    assert "more than the 100,000" in message and "render.max_frames" in message and "\n" not in message


def test_the_limit_comes_from_the_caller_and_counts_what_steps_leave() -> None:
    assert len(FrameRange.parse("1-1000000x100")) == 10_000  # every 100th: 10,000 frames
    with pytest.raises(UsageError, match="has 11 frames, more than the 10"):
        FrameRange.parse("1-11", max_frames=10)
    assert len(FrameRange.parse("1-10y3", max_frames=6).frames) == 6
    assert FrameRange.parse("1-10:3").frames == (1, 4, 7, 10, 3, 5, 9, 2, 6, 8)  # fileseq's stagger


def test_the_largest_accepted_range_chunks_lazily_and_plans_fast() -> None:
    started = time.perf_counter()
    frames = FrameRange.parse("1-100000")
    chunks = frames.chunks(1)
    assert len(chunks) == 100_000  # known without making a chunk
    assert chunks[-1].frames == (100_000,) and chunks[0].frames == (1,)
    assert sum(1 for _ in chunks) == 100_000  # made one at a time as they are read
    assert time.perf_counter() - started < 1.0


def test_an_asset_set_keeps_the_first_entry_of_a_path_whichever_way_it_came_in(tmp_path: Path) -> None:
    first = Asset(path=tmp_path / "a.png", kind=AssetKind.TEXTURE, exists=False, referrer="built")
    assets = AssetSet(scene=tmp_path / "s.blend", app="blender", assets=[first])
    appended = Asset(path=tmp_path / "b.png", kind=AssetKind.TEXTURE, exists=False, referrer="appended")
    assets.assets.append(appended)  # a reader may fill the list directly before anything is added
    assets.add(Asset(path=tmp_path / "a.png", kind=AssetKind.TEXTURE, exists=False, referrer="again"))
    assets.add(Asset(path=tmp_path / "b.png", kind=AssetKind.TEXTURE, exists=False, referrer="again"))
    assets.add(Asset(path=tmp_path / "c.png", kind=AssetKind.TEXTURE, exists=False, referrer="new"))
    assert [(a.path.name, a.referrer) for a in assets.assets] == [
        ("a.png", "built"), ("b.png", "appended"), ("c.png", "new")
    ]
