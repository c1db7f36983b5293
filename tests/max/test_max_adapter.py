"""The 3ds Max adapter: registration, golden cmd /c command lines, Windows quoting, the pathFile."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from asset_stream_writer import encode_asset_stream
from cfb_writer import compound_file, doc_summary
from tests.node_lines import WINDOWS_WATCHER

from azrender.apps import AppAdapter, RenderInvocation, adapter_for_scene, get_adapter
from azrender.errors import UsageError
from azrender.jobs import JobRequest, build_job
from azrender.model import FrameChunk, FrameRange, JobSpec, RenderOptions, TaskSpec, task_to_json
from azrender.paths import PathMap
from azrender.storage.modes import blob_copy_plan
from azrender_max.adapter import (
    EXECUTABLE_ENV,
    MaxAdapter,
    MaxRenderOptions,
    cmd_quote,
    executable_from_env,
    max_frame_flags,
)
from azrender_max.assetmeta import AssetRecord

NODE_SCENE = r"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot 1.max"
OUT = r"%AZ_BATCH_TASK_WORKING_DIR%\out"


def invocation(
    frames: tuple[int, ...], fmt: str = "PNG", remap: str = r"C:\jobs\j1\paths.txt",
    node_scene: str = NODE_SCENE,
) -> RenderInvocation:
    job = JobSpec(
        job_id="j1", app="max", scene=Path("/show/shot 1.max"), frames=FrameRange.parse("1-10"),
        chunk_size=5, assets_container="a", outputs_container="o", output_format=fmt,
    )
    return RenderInvocation(job=job, chunk=FrameChunk(frames), node_scene=node_scene,
                            remap_script=remap, output_dir=OUT, node_os="windows")


def argv_msvcrt(text: str) -> list[str]:
    """Split a command line as the Microsoft C runtime (CommandLineToArgvW) does."""
    args: list[str] = []
    current, quoted, has_word, i = "", False, False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            n = 0
            while i < len(text) and text[i] == "\\":
                n, i = n + 1, i + 1
            if i < len(text) and text[i] == '"':
                current += "\\" * (n // 2)
                if n % 2:
                    current += '"'
                    i += 1
                has_word = True
                continue
            current += "\\" * n
            has_word = True
            continue
        if ch == '"':
            quoted, has_word = not quoted, True
        elif ch in " \t" and not quoted:
            if has_word:
                args.append(current)
            current, has_word = "", False
        else:
            current, has_word = current + ch, True
        i += 1
    assert not quoted, f"unbalanced quotes in {text!r}"
    return [*args, current] if has_word else args


def cmd_words(line: str) -> list[str]:
    """What 3ds Max receives: `cmd /c` strips its outer quotes, then the C runtime splits."""
    assert line.startswith('cmd /c "') and line.endswith('"')
    return argv_msvcrt(line[len('cmd /c "') : -1])


def test_registered_and_protocol() -> None:
    adapter = get_adapter("max")
    assert isinstance(adapter, MaxAdapter) and isinstance(adapter, AppAdapter)
    assert isinstance(adapter_for_scene(Path("/x/shot.MAX")), MaxAdapter)


def test_golden_seed_example_through_build_job() -> None:
    """The issue's `3dsmaxcmdio.exe -v:5 -rfw:0 -start:1 -end:10 -w:1280 -h:720 ...`, whole."""
    adapter = MaxAdapter(options=MaxRenderOptions(width=1280, height=720), environ={})
    request = JobRequest(scene=Path("/P/show/shot.max"), app="max", frames=FrameRange.parse("1-10"),
                         chunk_size=10, assets_container="a", outputs_container="o")
    job = build_job(request, adapter, "j1", blob_copy_plan("windows"))
    assert [t.command_line for t in job.tasks] == [  # under the node's watcher, the line unchanged after --
        WINDOWS_WATCHER + 'cmd /c "3dsmaxcmdio.exe -v:5 -rfw:0 -start:1 -end:10 -w:1280 -h:720 '
        r'-preRenderScript:"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.ms" '
        r'-outputName:"%AZ_BATCH_TASK_WORKING_DIR%\out\shot_.png" '
        r'-pathFile:"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py" '
        r'"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot.max""'
    ]


def test_golden_every_option_and_fallback_executable() -> None:
    options = MaxRenderOptions(
        executable=r"C:\Program Files\Autodesk\3ds Max 2019\3dsmaxcmd.exe", width=1920, height=1080,
        camera="Cam Main", pre_render_script=r"S:\tools\pre.ms", continue_on_error=True,
        gamma_correction=True,
    )
    line = MaxAdapter(options=options).command_line(invocation((1, 3, 5, 6, 7), "OPEN_EXR"))
    assert line == (
        r'cmd /c ""C:\Program Files\Autodesk\3ds Max 2019\3dsmaxcmd.exe" -v:5 -rfw:0 '
        '-frames:1,3,5-7 -w:1920 -h:1080 -camera:"Cam Main" -preRenderScript:"S:\\tools\\pre.ms" '
        r'-outputName:"%AZ_BATCH_TASK_WORKING_DIR%\out\shot 1_.exr" -pathFile:"C:\jobs\j1\paths.txt" '
        r'-continueOnError -gammaCorrection:1 '
        r'"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot 1.max""'
    )
    assert cmd_words(line)[:2] == [r"C:\Program Files\Autodesk\3ds Max 2019\3dsmaxcmd.exe", "-v:5"]
    assert "-camera:Cam Main" in cmd_words(line)


def test_frame_flags() -> None:
    assert max_frame_flags(FrameChunk((9,))) == ["-start:9", "-end:9"]
    assert max_frame_flags(FrameChunk((1, 4, 7))) == ["-start:1", "-end:7", "-nthFrame:3"]
    assert max_frame_flags(FrameChunk((7, 4, 1))) == ["-frames:7,4,1"]  # backwards: listed as is
    assert max_frame_flags(FrameChunk((1, 2, 4))) == ["-frames:1,2,4"]
    words = cmd_words(MaxAdapter(environ={}).command_line(invocation((1, 4, 7), remap="")))
    assert "-nthFrame:3" in words and not any(w.startswith("-pathFile:") for w in words)


def test_fallback_executable_setting() -> None:
    assert executable_from_env({EXECUTABLE_ENV: "3dsmaxcmd.exe"}) == "3dsmaxcmd.exe"
    adapter = MaxAdapter(environ={EXECUTABLE_ENV: "3dsmaxcmd.exe"})
    assert adapter.command_line(invocation((1,))).startswith('cmd /c "3dsmaxcmd.exe -v:5 -rfw:0 -start:1 -end:1 ')
    with pytest.raises(UsageError, match=f"{EXECUTABLE_ENV}='3dsmax.exe' is not") as info:
        MaxAdapter(environ={EXECUTABLE_ENV: "3dsmax.exe"})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("folder", [
    r"S:\Prüfung\日本語 シーン", r"S:\a & b (final)\x^y", "S:\\trailing\\",
])
def test_windows_quoting_spaces_unicode_and_cmd_characters(folder: str) -> None:
    scene = folder.rstrip("\\") + "\\shot 1.max"
    line = MaxAdapter(environ={}).command_line(invocation((2, 3), node_scene=scene, remap=folder))
    words = cmd_words(line)
    assert words[-1] == scene
    assert f"-pathFile:{folder}" in words  # a trailing backslash survives (doubled before the quote)
    # Inside the Batch JSON the same line is escaped and comes back byte for byte.
    task = task_to_json(TaskSpec(task_id="frames-001", command_line=line, frames=(2, 3)))
    text = json.dumps(task)
    assert '\\"' in text and "\\\\" in text
    assert json.loads(text)["command_line"] == line
    assert json.loads(json.dumps(task, ensure_ascii=False))["command_line"] == line


def test_bad_input_one_line() -> None:
    with pytest.raises(UsageError, match="output format"):
        MaxAdapter(environ={}).command_line(invocation((1,), "WEBM"))
    with pytest.raises(UsageError, match="double quote"):
        cmd_quote('C:\\a"b.max')
    with pytest.raises(UsageError, match="render size 0x720"):
        MaxAdapter(options=MaxRenderOptions(width=0, height=720)).command_line(invocation((1,)))


def test_scan_fills_the_render_size_from_the_file(tmp_path: Path) -> None:
    scene = tmp_path / "s.max"
    scene.write_bytes(compound_file({
        "FileAssetMetaData3": encode_asset_stream([], 3), "Scene": b"x" * 5000,
        "\x05DocumentSummaryInformation": doc_summary(
            {"General": ["3ds Max Version: 26,00"],
             "Render Data": ["Render Width=1280", "Render Height=720", "Renderer Name=Arnold"]}),
    }))
    adapter = MaxAdapter(environ={})
    saved = adapter.scan(scene).settings
    assert "-w:1280 -h:720" in adapter.command_line(replace(invocation((1,)), settings=saved))
    fixed = MaxAdapter(options=MaxRenderOptions(width=64, height=32))
    saved = fixed.scan(scene).settings  # an explicit size wins over the file's
    assert "-w:64 -h:32" in fixed.command_line(replace(invocation((1,)), settings=saved))


def test_path_file_is_mxp_with_the_node_folders_of_scanned_files(tmp_path: Path) -> None:
    (tmp_path / "tex").mkdir()
    (tmp_path / "tex" / "a.png").write_bytes(b"a")
    (tmp_path / "b.png").write_bytes(b"b")
    records = [AssetRecord(uuid.uuid4(), "Bitmap", p) for p in ("tex\\a.png", "b.png", "D:\\gone\\c.png")]
    scene = tmp_path / "s.max"
    scene.write_bytes(compound_file({"FileAssetMetaData3": encode_asset_stream(records, 3), "Scene": b"x"}))
    adapter = MaxAdapter()
    assets = adapter.scan(scene)
    text = adapter.remap_script(PathMap(mirror_root="S:\\assets", node_os="windows"), assets)
    lines = text.split("\r\n")
    key = str(tmp_path).lstrip("/").replace("/", "\\")
    # 3ds Max's project-paths format; the missing file's saved folder is mapped as well.
    assert lines == ["[Directories]", "[XReferenceDirs]", "[BitmapDirs]",
                     f"Dir1=S:\\assets\\{key}\\tex", f"Dir2=S:\\assets\\{key}",
                     "Dir3=S:\\assets\\D\\gone", ""]


# --- RenderOptions and the job's files ------------------------------------------


def _with_render(render: RenderOptions) -> RenderInvocation:
    inv = invocation((1, 2), remap=r"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.py")
    inv.job.render = render
    return inv


def test_camera_and_size_from_render_options() -> None:
    adapter = MaxAdapter(options=MaxRenderOptions(width=640, height=480, camera="Saved"))
    words = cmd_words(adapter.command_line(_with_render(RenderOptions(camera="Cam 2", width=1920))))
    assert words[5:9] == ["-w:1920", "-h:480", "-camera:Cam 2",
                          r"-preRenderScript:%AZ_BATCH_NODE_SHARED_DIR%\jobs\j1\remap.ms"]


@pytest.mark.parametrize(
    ("render", "what"),
    [(RenderOptions(renderer="arnold"), "renderer"), (RenderOptions(threads=4), "thread count"),
     (RenderOptions(device="CUDA"), "render device"), (RenderOptions(layers=("a",)), "render layers")],
)
def test_what_3dsmaxcmd_cannot_set_is_refused(render: RenderOptions, what: str) -> None:
    with pytest.raises(UsageError, match=f"cannot set the {what}"):
        MaxAdapter().command_line(_with_render(render))


def test_job_files_are_the_path_file_and_the_pre_render_script() -> None:
    from azrender.paths import MapRule

    pathmap = PathMap(node_os="windows", rules=(MapRule("P:\\show", "S:\\show"),))
    files = MaxAdapter().job_files(pathmap)
    assert sorted(files) == ["remap.ms", "remap.py"]
    assert files["remap.py"] == MaxAdapter().remap_script(pathmap)
    assert "[BitmapDirs]" in files["remap.py"] and "ATSOps" in files["remap.ms"]
    assert "\r\n" in files["remap.ms"]


def test_every_adapter_names_its_remap_script_in_job_files() -> None:
    from azrender_blender.adapter import BlenderAdapter
    from azrender_maya.adapter import MayaAdapter

    pathmap = PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets")
    for adapter in (BlenderAdapter(), MayaAdapter()):
        assert isinstance(adapter, AppAdapter)
        assert adapter.job_files(pathmap) == {"remap.py": adapter.remap_script(pathmap)}
