"""The storage plan wired into jobs: node scene, remap script, preparation and task commands per mode."""

from __future__ import annotations

import shlex
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from tests.node_lines import BUNDLE, LINUX_PYTHON_IN_SHELL, LINUX_WATCHER, WINDOWS_WATCHER

from azrender.apps import get_adapter
from azrender.batch.dryrun import dry_run_document
from azrender.batch.validate import validate_body
from azrender.errors import UsageError
from azrender.jobs import JobRequest, build_job, with_prefix
from azrender.local.node import NodeLayout, link_mounts, local_mounts_from_env, missing_mount
from azrender.model import FrameRange
from azrender.presets import Preset, load_preset, parse_preset
from azrender.storage.modes import storage_plan
from azrender_blender.adapter import BlenderAdapter
from azrender_max.adapter import MaxAdapter

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "presets"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def request(scene: str, app: str = "blender") -> JobRequest:
    return JobRequest(Path(scene), app, FrameRange.parse("1-2"), 1, "assets", "outputs")


def test_default_is_blob_copy_as_before() -> None:
    job = build_job(request("/mnt/show/shot.blend"), BlenderAdapter(), "j1")
    assert job.node_scene == "$AZ_BATCH_NODE_SHARED_DIR/assets/mnt/show/shot.blend"
    assert job.preparation is not None
    # The node bundle is installed first, then its own Python syncs (azrender.nodebundle.bootstrap).
    script = shlex.split(job.preparation.command_line)[2]
    assert script.endswith(f" && {LINUX_PYTHON_IN_SHELL} -m azrender.node sync --job j1")
    assert f" && python3 azrender-node/{BUNDLE}/install.py " in script
    assert """"$AZ_BATCH_NODE_SHARED_DIR"'\\''/jobs/j1/remap.py'\\''""" in job.tasks[0].command_line
    assert job.tasks[0].command_line.startswith(LINUX_WATCHER + "/bin/bash -c 'blender -b ")


def test_nfs_scene_on_the_mount() -> None:
    plan = storage_plan(load_preset(EXAMPLES / "nfs.toml"))
    job = build_job(request("P:\\show\\sh010\\shot.blend"), BlenderAdapter(), "j2", plan)
    assert job.node_scene == "$AZ_BATCH_NODE_MOUNTS_DIR/show/sh010/shot.blend"
    assert """"$AZ_BATCH_NODE_MOUNTS_DIR"'\\''/show/sh010/shot.blend'\\''""" in job.tasks[0].command_line
    # The job's own files still come through the preparation task.
    assert job.preparation is not None and shlex.split(job.preparation.command_line)[2].endswith("sync --job j2")


def test_nfs_scene_outside_every_rule_is_refused() -> None:
    plan = storage_plan(load_preset(EXAMPLES / "nfs.toml"))
    with pytest.raises(UsageError, match="not below any mapped root: C:\\\\Users"):
        build_job(request("C:\\Users\\me\\shot.blend"), BlenderAdapter(), "j3", plan)


def test_blobfuse_mounted_by_the_preparation_task() -> None:
    text = (EXAMPLES / "blobfuse.toml").read_text().replace('mount_at = "pool"', 'mount_at = "job"')
    plan = storage_plan(parse_preset(text, Path("b.toml")))
    job = build_job(request("/mnt/show/shot.blend"), BlenderAdapter(), "j4", plan)
    assert job.preparation is not None
    argv = shlex.split(job.preparation.command_line)
    assert argv[:2] == ["/bin/bash", "-c"] and len(argv) == 3
    root = "$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/$AZ_BATCH_JOB_ID/assets"
    script = argv[2]
    # Install when absent, then mount unless mounted, then sync: in that order.
    assert script.split(" && ", 2)[2].startswith("command -v blobfuse2 >/dev/null || (")  # after the bootstrap
    mount = f'mountpoint -q "{root}" || (rm -rf "/mnt/resource/blobfuse2/$AZ_BATCH_JOB_ID"'
    assert script.index("apt-get") < script.index(mount) < script.index(f'blobfuse2 mount "{root}" --container')
    assert script.endswith(f" && {LINUX_PYTHON_IN_SHELL} -m azrender.node sync --job j4")
    assert job.node_scene == f"{root}/mnt/show/shot.blend"
    assert job.release is not None
    release = shlex.split(job.release.command_line)[2]
    assert release.startswith(f'(! mountpoint -q "{root}" || blobfuse2 unmount "{root}"')
    assert release.endswith(f"; true) && {LINUX_PYTHON_IN_SHELL} -m azrender.node release --job j4")


def test_azure_files_on_windows_maps_the_drive_before_each_task() -> None:
    plan = storage_plan(load_preset(EXAMPLES / "azure-files.toml"), node_os="windows")
    job = build_job(request("P:\\show\\a.max", "max"), MaxAdapter(), "j5", plan)
    assert job.node_scene == "S:\\P\\show\\a.max"
    line = job.tasks[0].command_line
    # net use runs first inside the renderer's own cmd /c, under the watcher.
    assert line.startswith(WINDOWS_WATCHER + 'cmd /c "net use S: '
                           '\\\\abcrender.file.core.windows.net\\show-abc /persistent:no && ')
    assert '-pathFile:"%AZ_BATCH_NODE_SHARED_DIR%\\jobs\\j5\\remap.py"' in line
    assert '-outputName:"%AZ_BATCH_TASK_WORKING_DIR%\\out\\a_.png"' in line
    assert line.endswith('"S:\\P\\show\\a.max""')  # the scene, then cmd /c's closing quote


def test_linux_prefix_runs_the_original_command_with_its_quoting(tmp_path: Path) -> None:
    marker = tmp_path / "prefix ran"
    original = "/bin/bash -c " + shlex.quote(f'printf "%s" "$0" > {shlex.quote(str(tmp_path / "out"))}') + " 'a b'"
    line = with_prefix(original, (f"touch {shlex.quote(str(marker))}",))
    done = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert marker.exists() and (tmp_path / "out").read_text() == "a b"
    failing = with_prefix(original, ("false",))
    assert subprocess.run(shlex.split(failing), timeout=30, check=False).returncode != 0


# --- the emulated node's stand-in mounts ----------------------------------------------------


def test_local_mounts_from_env(tmp_path: Path) -> None:
    assert local_mounts_from_env({}) == {}
    got = local_mounts_from_env({"AZRENDER_LOCAL_MOUNTS": f"show={tmp_path}:lib = {tmp_path / 'l'}"})
    assert got == {"show": tmp_path, "lib": tmp_path / "l"}
    for bad in ("show", "=/x", "a/b=/x", "show="):
        with pytest.raises(UsageError, match="AZRENDER_LOCAL_MOUNTS entry"):
            local_mounts_from_env({"AZRENDER_LOCAL_MOUNTS": bad})


def test_link_mounts_and_missing_mount(tmp_path: Path) -> None:
    layout = NodeLayout(tmp_path / "node")
    share, other = tmp_path / "share", tmp_path / "other"
    share.mkdir()
    other.mkdir()
    (share / "a.txt").write_text("on the share")
    assert missing_mount(layout, "$AZ_BATCH_NODE_MOUNTS_DIR/show/a.txt", {}) == "show"
    link_mounts(layout, {"show": share})
    assert (layout.mounts_dir / "show" / "a.txt").read_text() == "on the share"
    assert missing_mount(layout, "$AZ_BATCH_NODE_MOUNTS_DIR/show/a.txt", {}) is None
    link_mounts(layout, {"show": other})  # re-pointed, as a new pool mount would be
    assert (layout.mounts_dir / "show").resolve() == other.resolve()
    with pytest.raises(UsageError, match="does not exist"):
        link_mounts(layout, {"gone": tmp_path / "gone"})
    (layout.mounts_dir / "real").mkdir()
    with pytest.raises(UsageError, match="not a mount link"):
        link_mounts(layout, {"real": share})


# --- the node's OS decides every app's command line -----------------------------------------

WINDOWS_POOL = (
    '[pool]\nos = "windows"\nimage = "microsoftwindowsserver/windowsserver/2022-datacenter"\n'
    'node_agent_sku = "batch.node.windows amd64"\n'
)
WINDOWS_APPS = [  # (app, scene, the first task's render line, golden)
    ("blender", "P:\\show\\sh010\\shot.blend",
     r'cmd /c "blender.exe -b "S:\P\show\sh010\shot.blend" --python-exit-code 1'
     r' --python "%AZ_BATCH_NODE_SHARED_DIR%\jobs\j6\remap.py"'
     r' -o "%AZ_BATCH_TASK_WORKING_DIR%\out\shot_####" -F PNG -f 1"'),
    ("maya", "P:\\show\\sh010\\shot.ma",
     r'cmd /c "Render.exe -r file -s 1 -e 1 -b 1 -rd "%AZ_BATCH_TASK_WORKING_DIR%\out" -im "shot" -of png'
     r' -preRender "python(\"exec(open(r' "'" r'\" + getenv(\"AZ_BATCH_NODE_SHARED_DIR\")'
     r' + \"/jobs/j6/remap.py\" + \"' "'" r').read())\")" "S:\P\show\sh010\shot.ma""'),
    ("max", "P:\\show\\sh010\\shot.max",
     r'cmd /c "3dsmaxcmdio.exe -v:5 -rfw:0 -start:1 -end:1'
     r' -preRenderScript:"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j6\remap.ms"'
     r' -outputName:"%AZ_BATCH_TASK_WORKING_DIR%\out\shot_.png"'
     r' -pathFile:"%AZ_BATCH_NODE_SHARED_DIR%\jobs\j6\remap.py" "S:\P\show\sh010\shot.max""'),
]


def windows_files_preset(mount_at: str) -> Preset:
    text = (EXAMPLES / "azure-files.toml").read_text().replace('mount_at = "task"', f'mount_at = "{mount_at}"')
    return parse_preset(text + WINDOWS_POOL, Path("files-win.toml"))


def render_line(line: str, prefix: str) -> str:
    """The app's own line: after the watcher, with ``with_prefix``'s ``<prefix> && `` taken out of its ``cmd /c "``."""
    watcher = WINDOWS_WATCHER
    assert line.startswith(watcher), line
    line = line[len(watcher) :]
    if prefix:
        head = f'cmd /c "{prefix} && '
        assert line.startswith(head) and line.endswith('"'), line
        line = 'cmd /c "' + line[len(head) :]
    return line


@pytest.mark.parametrize("mount_at", ["task", "pool"])
@pytest.mark.parametrize(("app", "scene", "golden"), WINDOWS_APPS)
def test_windows_storage_plan_gives_windows_lines_for_every_app(
    app: str, scene: str, golden: str, mount_at: str
) -> None:
    preset = windows_files_preset(mount_at)
    plan = storage_plan(preset, node_os="windows")
    job = build_job(request(scene, app), get_adapter(app), "j6", plan)
    assert job.node_scene == "S:\\P" + scene[2:]
    prefix = " && ".join(plan.task_prefix)
    assert bool(prefix) == (mount_at == "task")
    assert render_line(job.tasks[0].command_line, prefix) == golden
    for task in job.tasks:
        line = render_line(task.command_line, prefix)
        assert line.startswith(golden.split(" -", 1)[0] + " -"), line
        assert "$AZ_BATCH" not in line and "/bin/bash" not in line
        assert "%AZ_BATCH_TASK_WORKING_DIR%\\out" in line
        assert "jobs\\j6\\remap." in line or "/jobs/j6/remap.py" in line  # Maya: MEL getenv + "/jobs/..."
    doc = dry_run_document(job, preset, now=NOW, environ={})
    assert validate_body("BatchPoolCreateOptions", doc["pool"]) == []
    assert validate_body("BatchJobCreateOptions", doc["job"]) == []
    assert [validate_body("BatchTaskCreateOptions", t) for t in doc["tasks"]] == [[]] * len(job.tasks)
    assert [t["commandLine"] for t in doc["tasks"]] == [t.command_line for t in job.tasks]


@pytest.mark.parametrize("app", ["blender", "maya"])
def test_linux_plan_keeps_bash_lines(app: str) -> None:
    job = build_job(request(f"/mnt/show/100% done/shot.{'blend' if app == 'blender' else 'ma'}", app),
                    get_adapter(app), "j7")
    line = job.tasks[0].command_line
    assert line.startswith(LINUX_WATCHER + "/bin/bash -c '"), line
    assert "cmd /c" not in line and ".exe" not in line


@pytest.mark.parametrize("job_id", ["j1; touch pwned", "$(id)", "a b", "x" * 65, ""])
def test_a_job_id_that_is_not_a_batch_id_is_refused_before_any_command_line(job_id: str) -> None:
    with pytest.raises(UsageError, match="invalid job id"):
        build_job(request("/mnt/show/shot.blend"), BlenderAdapter(), job_id)
