"""MayaAdapter: Render command lines (checked with shlex), the remap script, the registry."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from azrender.apps import AppAdapter, RenderInvocation, adapter_for_scene, get_adapter
from azrender.errors import UsageError
from azrender.model import FrameChunk, FrameRange, JobSpec
from azrender.paths import PathMap
from azrender_maya.adapter import MayaAdapter, frame_runs, maya_format
from azrender_maya.remap import node_path, remap_scene


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
        "-preRender", "python(\"exec(open(r'$AZ_BATCH_NODE_SHARED_DIR/job/remap.py').read())\")",
        "$AZ_BATCH_NODE_SHARED_DIR/assets/show/shot 1.ma",
    ]  # fmt: skip
    # variables sit in double quotes in the inner command, so bash expands them
    assert '"$AZ_BATCH_NODE_SHARED_DIR/assets/show/shot 1.ma"' in inner


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


def test_remap_script_is_self_contained_python(monkeypatch: pytest.MonkeyPatch) -> None:
    source = MayaAdapter().remap_script(PathMap(mirror_root="$AZ_BATCH_NODE_SHARED_DIR/assets"))
    import_lines = [
        ln for ln in source.splitlines() if ln.lstrip().startswith(("import ", "from "))
    ]
    assert not [ln for ln in import_lines if "azrender" in ln]
    compile(source, "remap.py", "exec")
    calls: list[str] = []
    namespace: dict[str, Any] = {"__name__": "__main__"}
    # Run everything but the final call, then call it with a stub for maya.cmds.
    body, last = source.rstrip("\n").rsplit("\n", 1)
    assert last == "main_from_json(AZRENDER_CONFIG)"
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
