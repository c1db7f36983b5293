"""MayaAdapter: Render command lines (checked with shlex), the remap script, the registry."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from azrender.apps import AppAdapter, RenderInvocation, adapter_for_scene, get_adapter
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec, RenderOptions
from azrender.paths import PathMap
from azrender_maya.adapter import MayaAdapter, frame_runs, maya_format
from azrender_maya.node.remap import node_path, remap_scene


def invocation(
    chunk: tuple[int, ...], fmt: str = "PNG", remap: str = "$AZ_BATCH_NODE_SHARED_DIR/job/remap.py"
) -> RenderInvocation:
    job = JobSpec(
        job_id="j1", app="maya", scene=Path("/show/shot 1.ma"), frames=FrameRange.parse("1-10"),
        chunk_size=5, assets_container="a", outputs_container="o", output_format=fmt,
    )  # fmt: skip
    return RenderInvocation(
        job=job,
        chunk=FrameChunk(chunk),
        node_scene="$AZ_BATCH_NODE_SHARED_DIR/assets/show/shot 1.ma",
        remap_script=remap,
        output_dir="$AZ_BATCH_TASK_WORKING_DIR/out",
    )


def test_registered_and_protocol() -> None:
    adapter = get_adapter("maya")
    assert isinstance(adapter, AppAdapter) and isinstance(adapter, MayaAdapter)
    assert adapter_for_scene(Path("x.MB")).name == "maya"
    assert adapter.suffixes == (".ma", ".mb")


def test_command_line_words() -> None:
    cmd = MayaAdapter().command_line(invocation((1, 2, 3, 4, 5), "OPEN_EXR"))
    bash, dash_c, inner = shlex.split(cmd)
    assert (bash, dash_c) == ("/bin/bash", "-c")
    words = shlex.split(inner)  # bash would expand $AZ_* here; shlex keeps them literal
    assert words == [
        "Render", "-r", "file", "-s", "1", "-e", "5", "-b", "1",
        "-rd", "$AZ_BATCH_TASK_WORKING_DIR/out", "-im", "shot 1", "-of", "exr",
        "-preRender",
        "python(\"exec(open(r'\" + getenv(\"AZ_BATCH_NODE_SHARED_DIR\") + \"/job/remap.py\" + \"').read())\")",
        "$AZ_BATCH_NODE_SHARED_DIR/assets/show/shot 1.ma",
    ]  # fmt: skip
    # the leading variable sits in double quotes in the inner command, so bash expands it; the rest is literal
    assert """"$AZ_BATCH_NODE_SHARED_DIR"'/assets/show/shot 1.ma'""" in inner


def test_command_line_step_and_gaps_and_renderer() -> None:
    words = shlex.split(shlex.split(MayaAdapter("arnold").command_line(invocation((1, 6, 11))))[2])
    assert words[:9] == ["Render", "-r", "arnold", "-s", "1", "-e", "11", "-b", "5"]
    inner = shlex.split(MayaAdapter().command_line(invocation((1, 2, 7), remap="")))[2]
    runs = [shlex.split(part) for part in inner.split(" && ")]
    assert [(r[4], r[6], r[8]) for r in runs] == [("1", "2", "1"), ("7", "7", "1")]
    assert all("-preRender" not in r for r in runs)


def test_frame_runs_and_formats() -> None:
    assert frame_runs(FrameChunk((10, 9))) == [(10, 10, 1), (9, 9, 1)]
    assert maya_format("tif") == "tif"
    with pytest.raises(UsageError):
        maya_format("FFMPEG")
    with pytest.raises(UsageError):
        MayaAdapter("blender")


def test_remap_path_with_quote_is_refused() -> None:
    with pytest.raises(UsageError):
        MayaAdapter().command_line(invocation((1,), remap="/n/it's/remap.py"))


@pytest.mark.parametrize(
    "local",
    ["P:\\show\\tex\\a.png", "P:/show/tex/a.png", "\\\\srv\\share\\tex\\a.png", "/mnt/show/x.exr"],
)
@pytest.mark.parametrize("node_os", ["linux", "windows"])
def test_node_path_agrees_with_pathmap(local: str, node_os: str) -> None:
    root = "/node/shared/assets" if node_os == "linux" else "D:\\batch\\assets"
    assert node_path(local, root, node_os) == PathMap(mirror_root=root, node_os=node_os).to_node(
        local
    )


class FakeCmds:
    """The part of maya.cmds the remap script calls."""

    def __init__(self) -> None:
        self.attrs: dict[str, str] = {
            "file1.fileTextureName": "P:\\tex\\a.png",
            "file2.fileTextureName": "sourceimages/rel.png",
            "abc1.abc_File": "/mnt/c/x.abc",
        }
        self.types = {
            "file": ["file1", "file2"],
            "AlembicNode": ["abc1"],
            "reference": ["rRN", "sharedReferenceNode"],
        }
        self.loaded: list[tuple[str, str]] = []

    def ls(self, type: str) -> list[str]:
        return self.types.get(type, [])

    def getAttr(self, plug: str) -> Any:
        if plug not in self.attrs:
            raise ValueError(plug)
        return self.attrs[plug]

    def setAttr(self, plug: str, value: str, type: str) -> None:
        assert type == "string"
        self.attrs[plug] = value

    def referenceQuery(self, node: str, filename: bool, withoutCopyNumber: bool) -> str:
        if node == "sharedReferenceNode":
            raise RuntimeError("not a reference")
        return "P:/show/ref.mb"

    def file(self, path: str, loadReference: str) -> None:
        self.loaded.append((path, loadReference))


def test_remap_scene_with_fake_cmds() -> None:
    cmds = FakeCmds()
    assert remap_scene(cmds, "/n/assets") == 3
    assert cmds.attrs == {
        "file1.fileTextureName": "/n/assets/P/tex/a.png",
        "file2.fileTextureName": "sourceimages/rel.png",
        "abc1.abc_File": "/n/assets/mnt/c/x.abc",
    }
    assert cmds.loaded == [("/n/assets/P/show/ref.mb", "rRN")]


def test_remap_scene_rewrites_what_the_scan_resolved_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the scan found in the project (``//`` marker) goes to that file's node copy, not to its own."""
    cmds = FakeCmds()
    cmds.attrs["file1.fileTextureName"] = "C:/Users/bob/proj//sourceimages/a.png"
    resolved = {
        "C:/Users/bob/proj//sourceimages/a.png": "$NODE/assets/home/me/proj/sourceimages/a.png",
        "P:/show/ref.mb": "$NODE/assets/home/me/proj/scenes/ref.mb",
    }
    monkeypatch.setenv("NODE", "/n")
    assert remap_scene(cmds, "/n/assets", resolved=resolved) == 3
    assert cmds.attrs["file1.fileTextureName"] == "/n/assets/home/me/proj/sourceimages/a.png"
    assert cmds.attrs["abc1.abc_File"] == "/n/assets/mnt/c/x.abc"  # not resolved elsewhere: mirrored
    assert cmds.loaded == [("/n/assets/home/me/proj/scenes/ref.mb", "rRN")]
    # without a mirror root only the resolved values move (a share mapped by dirmap keeps the rest)
    again = FakeCmds()
    assert remap_scene(again, "", resolved={"/mnt/c/x.abc": "/share/x.abc"}) == 1
    assert again.attrs["abc1.abc_File"] == "/share/x.abc" and again.loaded == []


def test_remap_script_is_self_contained_python(monkeypatch: pytest.MonkeyPatch) -> None:
    source = MayaAdapter().remap_script(PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets"))
    import_lines = [
        ln for ln in source.splitlines() if ln.lstrip().startswith(("import ", "from "))
    ]
    assert not [ln for ln in import_lines if "azrender" in ln]
    compile(source, "remap.py", "exec")
    calls: list[str] = []
    namespace: dict[str, Any] = {"__name__": "__main__"}
    # Run everything but the final calls, then call it with a stub for maya.cmds.
    body, last = source.rstrip("\n").split("\nazrender_dirmap(AZRENDER_DIRMAP)\n")
    assert last.splitlines()[-1] == "    main_from_json(AZRENDER_CONFIG, AZRENDER_RESOLVED)"
    exec(compile(body, "remap.py", "exec"), namespace)
    monkeypatch.setenv("AZ_BATCH_NODE_SHARED_DIR", "/mnt/batch/shared")
    cmds = FakeCmds()
    namespace["remap_scene"](
        cmds, namespace["json"].loads(namespace["AZRENDER_CONFIG"])["mirror_root"]
    )
    calls.append(cmds.attrs["file1.fileTextureName"])
    assert calls == ["/mnt/batch/shared/assets/P/tex/a.png"]


def test_output_pattern() -> None:
    assert MayaAdapter().output_pattern() == "**/*.*"


# --- RenderOptions, scene defaults, Windows nodes, dirmap -----------------------

SHOT_MA = """\
//Maya ASCII 2024 scene
requires maya "2024";
requires -nodeType "renderSetupLayer" "renderSetup.py" "1.0";
createNode transform -s -n "persp";
createNode camera -s -n "perspShape" -p "persp";
\tsetAttr ".rnd" no;
createNode transform -n "shotCam";
createNode camera -n "shotCamShape" -p "shotCam";
createNode renderLayerManager -n "renderLayerManager";
createNode renderLayer -n "defaultRenderLayer";
\tsetAttr ".rndr" no;
createNode renderSetupLayer -n "fg";
createNode renderLayer -n "rs_fg";
createNode renderSetupLayer -n "bg";
createNode renderLayer -n "rs_bg";
select -ne :defaultRenderGlobals;
\tsetAttr ".ren" -type "string" "{renderer}";
"""


def shot(tmp_path: Path, renderer: str = "arnold", project: bool = True) -> Path:
    """``proj/scenes/shot.ma`` (with ``proj/workspace.mel``) saved for ``renderer``."""
    scene = tmp_path / "proj" / "scenes" / "shot.ma"
    scene.parent.mkdir(parents=True)
    scene.write_text(SHOT_MA.format(renderer=renderer), encoding="utf-8")
    if project:
        (tmp_path / "proj" / "workspace.mel").write_text('workspace -fr "images" "images";\n')
    return scene


def job_line(
    scene: Path, render: RenderOptions | None = None, *, windows: bool = False,
    chunk: tuple[int, ...] = (1, 2), adapter: MayaAdapter | None = None,
) -> str:
    job = JobSpec(job_id="j1", app="maya", scene=scene, frames=FrameRange.parse("1-2"), chunk_size=2,
                  assets_container="a", outputs_container="o", render=render or RenderOptions())
    if windows:
        inv = RenderInvocation(job=job, chunk=FrameChunk(chunk), node_scene="S:\\proj\\scenes\\shot.ma",
                               remap_script="%AZ_BATCH_NODE_SHARED_DIR%\\jobs\\j1\\remap.py",
                               output_dir="%AZ_BATCH_TASK_WORKING_DIR%\\out", node_os="windows")
    else:
        inv = RenderInvocation(job=job, chunk=FrameChunk(chunk), node_scene="/mnt/share/proj/scenes/shot.ma",
                               remap_script="$AZ_BATCH_NODE_SHARED_DIR/jobs/j1/remap.py",
                               output_dir="$AZ_BATCH_TASK_WORKING_DIR/out")
    return (adapter or MayaAdapter()).command_line(inv)


def linux_words(line: str) -> list[str]:
    bash, dash_c, inner = shlex.split(line)
    assert (bash, dash_c) == ("/bin/bash", "-c")
    return shlex.split(inner)


PRE_LINUX = (
    "python(\"exec(open(r'\" + getenv(\"AZ_BATCH_NODE_SHARED_DIR\") + \"/jobs/j1/remap.py\" + \"').read())\")"
)


@pytest.mark.parametrize(
    ("saved", "render", "flags"),
    [
        ("arnold", RenderOptions(), ["-r", "arnold"]),
        ("mayaSoftware", RenderOptions(threads=8), ["-r", "sw"]),
        ("mayaHardware2", RenderOptions(), ["-r", "hw2"]),
        ("vray", RenderOptions(), ["-r", "vray"]),
        ("redshift", RenderOptions(), ["-r", "redshift"]),
        ("arnold", RenderOptions(renderer="mayaSoftware"), ["-r", "sw"]),
    ],
)
def test_golden_linux_per_renderer(tmp_path: Path, saved: str, render: RenderOptions, flags: list[str]) -> None:
    words = linux_words(job_line(shot(tmp_path, saved), render))
    renderer = flags[1]
    tail = {"arnold": ["-ai:lve", "1"]}.get(renderer, []) + (["-n", "8"] if render.threads else [])
    assert words == [
        "Render", *flags, "-s", "1", "-e", "2", "-b", "1",
        "-rd", "$AZ_BATCH_TASK_WORKING_DIR/out", "-im", "shot", "-of", "png",
        "-cam", "shotCamShape", "-rl", "rs_fg,rs_bg", "-proj", "/mnt/share/proj",
        *[w for w in tail if w in ("-n", "8")], *[w for w in tail if w not in ("-n", "8")],
        "-preRender", PRE_LINUX, "/mnt/share/proj/scenes/shot.ma",
    ]  # fmt: skip


def test_options_override_the_scene(tmp_path: Path) -> None:
    render = RenderOptions(camera="witness", layers=("bg",), width=1920, height=1080)
    words = linux_words(job_line(shot(tmp_path), render))
    assert words[words.index("-cam") + 1] == "witness"
    assert words[words.index("-rl") + 1] == "rs_bg", "Render Setup name -> its renderLayer node"
    assert words[words.index("-x") + 1 : words.index("-x") + 4] == ["1920", "-y", "1080"]


def test_golden_windows_node(tmp_path: Path) -> None:
    line = job_line(shot(tmp_path), RenderOptions(camera="my cam", width=1280, height=720), windows=True)
    assert line == (
        'cmd /c "Render.exe -r arnold -s 1 -e 2 -b 1 -rd "%AZ_BATCH_TASK_WORKING_DIR%\\out" -im "shot" -of png'
        ' -cam "my cam" -rl "rs_fg,rs_bg" -proj "S:\\proj" -x 1280 -y 720 -ai:lve 1'
        ' -preRender "python(\\"exec(open(r\'\\" + getenv(\\"AZ_BATCH_NODE_SHARED_DIR\\")'
        ' + \\"/jobs/j1/remap.py\\" + \\"\').read())\\")" "S:\\proj\\scenes\\shot.ma""'
    )


def test_windows_gaps_chain_with_ampersands(tmp_path: Path) -> None:
    line = job_line(shot(tmp_path), windows=True, chunk=(1, 2, 7))
    assert line.startswith('cmd /c "Render.exe ') and line.count("Render.exe") == 2 and " && " in line


def test_unreadable_scene_leaves_choices_to_render(tmp_path: Path) -> None:
    words = linux_words(job_line(tmp_path / "gone.ma", adapter=MayaAdapter("vray")))
    assert words[:3] == ["Render", "-r", "vray"]
    assert "-cam" not in words and "-rl" not in words and "-proj" not in words


@pytest.mark.parametrize(
    ("render", "message"),
    [
        (RenderOptions(layers=("nope",)), "the scene has no render layer 'nope'"),
        (RenderOptions(threads=4), "thread count only for mayaSoftware"),
        (RenderOptions(device="CUDA"), "no render-device flag"),
        (RenderOptions(renderer="cycles"), "unknown Maya renderer 'cycles'"),
    ],
)
def test_bad_options(tmp_path: Path, render: RenderOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        job_line(shot(tmp_path), render)


def test_windows_quote_rules() -> None:
    from azrender_maya.adapter import cmd_quote, mel_string_expr

    assert cmd_quote("C:\\a b\\") == '"C:\\a b\\\\"'
    assert cmd_quote('a\\"b') == '"a\\\\\\"b"'
    assert mel_string_expr("/plain/remap.py") == '"/plain/remap.py"'
    assert mel_string_expr("${HOME}/x") == 'getenv("HOME") + "/x"'


def test_remap_script_sets_dirmap_before_remapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emitted script, run with a recording maya.cmds: dirmap on, rules and folders mapped."""
    import sys
    import types

    from azrender.paths import MapRule

    tex = tmp_path / "proj" / "sourceimages"
    tex.mkdir(parents=True)
    (tex / "a.png").write_bytes(b"png")
    scene = shot(tmp_path)
    scene.write_text(scene.read_text() + f'createNode file -n "f1";\n\tsetAttr ".ftn" -type "string" "{tex}/a.png";\n')
    adapter = MayaAdapter()
    assets = adapter.scan(scene)
    pathmap = PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets", rules=(MapRule("P:\\show", "/mnt/show"),))
    source = adapter.remap_script(pathmap, assets)

    calls: list[tuple[str, object]] = []
    fake = types.ModuleType("maya.cmds")
    fake.dirmap = lambda **kw: calls.append(("dirmap", kw))  # type: ignore[attr-defined]
    fake.ls = lambda type: []  # type: ignore[attr-defined]
    maya = types.ModuleType("maya")
    maya.cmds = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "maya", maya)
    monkeypatch.setitem(sys.modules, "maya.cmds", fake)
    monkeypatch.setenv("AZ_BATCH_NODE_SHARED_DIR", "/mnt/batch/shared")
    exec(compile(source, "remap.py", "exec"), {"__name__": "__main__"})

    assert calls[0] == ("dirmap", {"enable": True})
    mapped = [kw["mapDirectory"] for _, kw in calls[1:]]  # type: ignore[index]
    folder = str(tex)
    assert (folder, "/mnt/batch/shared/assets/" + folder.lstrip("/")) in mapped
    assert ("P:/show", "/mnt/show") in mapped


def test_node_os_decides_the_form_not_the_look_of_a_path(tmp_path: Path) -> None:
    job = JobSpec(job_id="j1", app="maya", scene=shot(tmp_path), frames=FrameRange.parse("1"), chunk_size=1,
                  assets_container="a", outputs_container="o")
    # A Linux folder named with a % sign once made this a cmd line.
    linux = RenderInvocation(job=job, chunk=FrameChunk((1,)), node_scene="/mnt/share/100%/shot.ma",
                             remap_script="", output_dir="/mnt/out/100%")
    assert linux.node_os == "linux"
    words = linux_words(MayaAdapter().command_line(linux))
    assert words[0] == "Render" and words[words.index("-rd") + 1] == "/mnt/out/100%"
    # A Windows node whose output folder holds no variable is still a Windows node.
    windows = RenderInvocation(job=job, chunk=FrameChunk((1,)), node_scene="S:\\proj\\scenes\\shot.ma",
                               remap_script="", output_dir="D:\\out", node_os="windows")
    line = MayaAdapter().command_line(windows)
    assert line.startswith('cmd /c "Render.exe -r arnold -s 1 -e 1 -b 1 -rd "D:\\out" -im "shot" ')
    assert line.endswith('"S:\\proj\\scenes\\shot.ma""')
