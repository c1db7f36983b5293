"""The storage plan wired into jobs: node scene, remap script, preparation and task commands per mode."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from azrender.errors import UsageError
from azrender.jobs import JobRequest, build_job, with_prefix
from azrender.local.node import NodeLayout, link_mounts, local_mounts_from_env, missing_mount
from azrender.model import FrameRange
from azrender.presets import load_preset, parse_preset
from azrender.storage.modes import storage_plan
from azrender_blender.adapter import BlenderAdapter
from azrender_max.adapter import MaxAdapter

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "presets"


def request(scene: str, app: str = "blender") -> JobRequest:
    return JobRequest(Path(scene), app, FrameRange.parse("1-2"), 1, "assets", "outputs")


def test_default_is_blob_copy_as_before() -> None:
    job = build_job(request("/mnt/show/shot.blend"), BlenderAdapter(), "j1")
    assert job.node_scene == "$AZ_BATCH_NODE_SHARED_DIR/assets/mnt/show/shot.blend"
    assert job.preparation is not None
    assert job.preparation.command_line == "python3 -m azrender.node sync --job j1"
    assert '"$AZ_BATCH_NODE_SHARED_DIR/jobs/j1/remap.py"' in job.tasks[0].command_line
    assert job.tasks[0].command_line.startswith("python3 -m azrender.node run -- /bin/bash -c 'blender -b ")


def test_nfs_scene_on_the_mount() -> None:
    plan = storage_plan(load_preset(EXAMPLES / "nfs.toml"))
    job = build_job(request("P:\\show\\sh010\\shot.blend"), BlenderAdapter(), "j2", plan)
    assert job.node_scene == "$AZ_BATCH_NODE_MOUNTS_DIR/show/sh010/shot.blend"
    assert '"$AZ_BATCH_NODE_MOUNTS_DIR/show/sh010/shot.blend"' in job.tasks[0].command_line
    # The job's own files still come through the preparation task.
    assert job.preparation is not None and job.preparation.command_line.endswith("sync --job j2")


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
    steps = argv[2].split(" && ")
    assert steps[0].startswith('mkdir -p "$AZ_BATCH_NODE_MOUNTS_DIR/assets"')
    assert steps[1].startswith('blobfuse2 mount "$AZ_BATCH_NODE_MOUNTS_DIR/assets" --container-name=abc-assets')
    assert steps[2] == "python3 -m azrender.node sync --job j4"
    assert job.node_scene == "$AZ_BATCH_NODE_MOUNTS_DIR/assets/mnt/show/shot.blend"


def test_azure_files_on_windows_maps_the_drive_before_each_task() -> None:
    plan = storage_plan(load_preset(EXAMPLES / "azure-files.toml"), node_os="windows")
    job = build_job(request("P:\\show\\a.max", "max"), MaxAdapter(), "j5", plan)
    assert job.node_scene == "S:\\P\\show\\a.max"
    line = job.tasks[0].command_line
    assert line.startswith('cmd /c "net use S: \\\\abcrender.file.core.windows.net\\show-abc /persistent:no && cmd /c "')
    assert '-pathFile:"%AZ_BATCH_NODE_SHARED_DIR%\\jobs\\j5\\remap.py"' in line
    assert '-outputName:"%AZ_BATCH_TASK_WORKING_DIR%\\out\\a_.png"' in line
    assert line.endswith('"S:\\P\\show\\a.max"""')  # the scene, the inner and the outer cmd /c


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
