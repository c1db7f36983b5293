"""The 3ds Max adapter: registration, the cmd /c command line, the pathFile."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cfb_writer import compound_file

from azrender.apps import AppAdapter, RenderInvocation, adapter_for_scene, get_adapter
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec
from azrender.paths import PathMap
from azrender_max.adapter import MaxAdapter, cmd_quote, max_frame_flags
from azrender_max.assetmeta import AssetRecord, encode_asset_stream

NODE_SCENE = r"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot 1.max"
OUT = r"%AZ_BATCH_TASK_WORKING_DIR%\out"


def invocation(frames: tuple[int, ...], fmt: str = "PNG", remap: str = r"C:\jobs\j1\paths.txt") -> RenderInvocation:
    job = JobSpec(
        job_id="j1", app="max", scene=Path("/show/shot 1.max"), frames=FrameRange.parse("1-10"),
        chunk_size=5, assets_container="a", outputs_container="o", output_format=fmt,
    )
    return RenderInvocation(job=job, chunk=FrameChunk(frames), node_scene=NODE_SCENE, remap_script=remap, output_dir=OUT)


def cmd_words(line: str) -> list[str]:
    """Split as cmd /c then 3dsmaxcmdio would: strip `cmd /c "` and the last quote, then quoted words."""
    assert line.startswith('cmd /c "') and line.endswith('"')
    inner = line[len('cmd /c "') : -1]
    words, current, quoted = [], "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        elif ch == " " and not quoted:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    assert not quoted
    return [*words, current] if current else words


def test_registered_and_protocol() -> None:
    adapter = get_adapter("max")
    assert isinstance(adapter, MaxAdapter) and isinstance(adapter, AppAdapter)
    assert isinstance(adapter_for_scene(Path("/x/shot.MAX")), MaxAdapter)


def test_command_line_contiguous_chunk() -> None:
    words = cmd_words(MaxAdapter().command_line(invocation((3, 4, 5), "OPEN_EXR")))
    assert words == [
        "3dsmaxcmdio.exe", "-start:3", "-end:5",
        "-outputName:" + OUT + r"\shot 1_.exr",
        r"-pathFile:C:\jobs\j1\paths.txt", "-v:5", NODE_SCENE,
    ]


def test_command_line_uneven_chunk_and_no_remap() -> None:
    words = cmd_words(MaxAdapter().command_line(invocation((1, 4, 7), remap="")))
    assert "-frames:1,4,7" in words and not any(w.startswith("-pathFile:") for w in words)
    assert max_frame_flags(FrameChunk((9,))) == ["-start:9", "-end:9"]


def test_bad_format_and_quote() -> None:
    with pytest.raises(UsageError, match="output format"):
        MaxAdapter().command_line(invocation((1,), "WEBM"))
    with pytest.raises(UsageError, match="double quote"):
        cmd_quote('C:\\a"b.max')


def test_path_file_lists_node_folders_of_scanned_files(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    (tmp_path / "tex" / "a.png").write_bytes(b"a")
    (tmp_path / "b.png").write_bytes(b"b")
    records = [AssetRecord(uuid.uuid4(), "Bitmap", p) for p in ("tex\\a.png", "b.png", "D:\\gone\\c.png")]
    scene = tmp_path / "s.max"
    scene.write_bytes(compound_file({"FileAssetMetaData3": encode_asset_stream(records, 3), "Scene": b"x"}))
    adapter = MaxAdapter()
    adapter.scan(scene)
    text = adapter.remap_script(PathMap(mirror_root="S:\\assets", node_os="windows"))
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) == 3  # the scene's folder (scene and b.png) and tex/
    key = str(tmp_path).lstrip("/").replace("/", "\\")
    assert lines[:2] == [f"S:\\assets\\{key}", f"S:\\assets\\{key}\\tex"]
