"""blobfuse2 options and the job-time mount: every flag is blobfuse2's, every cache mode has
its cache folder, and the preparation/release commands run in bash as a node would."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from azrender.jobs import shell_chain
from azrender.presets import parse_preset
from azrender.storage import blobfuse
from azrender.storage.modes import BlobfuseMount, storage_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "presets"


def preset(cache: str, mount_at: str, size: int = 0, vm_size: str = "Standard_D4s_v5", cache_path: str = ""):  # type: ignore[no-untyped-def]
    text = (EXAMPLES / "blobfuse.toml").read_text()
    text = text.replace('mount_at = "pool"', f'mount_at = "{mount_at}"').replace('cache = "file"', f'cache = "{cache}"')
    text = text.replace("cache_size_mb = 0", f"cache_size_mb = {size}")
    if cache_path:
        text = text.replace('cache_path = "/mnt/resource/blobfuse2"', f'cache_path = "{cache_path}"')
    return parse_preset(text + f'\n[pool]\nvm_size = "{vm_size}"\n', Path("b.toml"))


@pytest.mark.parametrize("mount_at", ["pool", "job"])
@pytest.mark.parametrize("cache", ["file", "block", "none"])
def test_every_emitted_option_is_in_the_flag_table(cache: str, mount_at: str) -> None:
    plan = storage_plan(preset(cache, mount_at, size=2048))
    assert isinstance(plan.mount, BlobfuseMount)
    options = plan.mount.blobfuse_options
    blobfuse.check_options(options)
    names = blobfuse.option_names(options)
    # A folder for the cache in every mode: file_cache refuses to start without --tmp-path.
    assert ("--block-cache-path" if cache == "block" else "--tmp-path") in names
    assert {"-o ro", "-o allow_other"} <= set(names)
    if cache == "block":
        assert "--block-cache-disk-size" in names and "--cache-size-mb" not in names
        # The agent remounts a pool mount after a reboot into the same, non-empty folder.
        assert ("--cleanup-on-start" in names) == (mount_at == "pool")
    if cache == "none":
        assert "-o direct_io" in names
    for command in plan.job_commands:
        if "blobfuse2 mount" in command:
            blobfuse.check_options(command.split("--container-name=", 1)[1].split(" ", 1)[1].rstrip(")"))


def test_the_table_refuses_what_blobfuse2_does_not_have() -> None:
    for wrong in ("--block-cache-size=4096", "-o noatime", "--streaming-cache"):
        with pytest.raises(ValueError, match="blobfuse2 has no option"):
            blobfuse.check_options(wrong)


def test_cache_size_on_sizes_with_and_without_a_temp_disk() -> None:
    no_disk = storage_plan(preset("block", "pool", vm_size="Standard_D8s_v5"))
    assert isinstance(no_disk.mount, BlobfuseMount)
    assert f"--block-cache-disk-size={blobfuse.NO_TEMP_DISK_CACHE_MB}" in no_disk.mount.blobfuse_options
    with_disk = storage_plan(preset("file", "pool", vm_size="Standard_D8s_v3"))
    assert isinstance(with_disk.mount, BlobfuseMount)
    assert "cache-size-mb" not in with_disk.mount.blobfuse_options  # blobfuse2 sizes it to the temp disk
    chosen = storage_plan(preset("file", "pool", size=100, vm_size="Standard_D8s_v5"))
    assert isinstance(chosen.mount, BlobfuseMount) and chosen.mount.blobfuse_options.endswith("--cache-size-mb=100")


def _shim(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def node(tmp_path: Path) -> dict[str, str]:
    """A node's shared folder and a PATH whose blobfuse2/mountpoint record mounts in a file.

    The doubles follow blobfuse2's documented refusals (cmd/mount.go, block_cache.go): a
    mount point that is mounted already, and a block-cache folder that is not empty.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "mounts.txt"
    state.touch()
    _shim(bin_dir, "mountpoint", f'grep -qxF "$2" {state}\n')
    _shim(bin_dir, "blobfuse2", f"""
echo "$*" >> {tmp_path}/calls.txt
if [ "$1" = mount ]; then
  grep -qxF "$2" {state} && {{ echo "directory is already mounted" >&2; exit 1; }}
  for a in "$@"; do case "$a" in --block-cache-path=*) d="${{a#*=}}"
    [ -z "$(ls -A "$d")" ] || {{ echo "temp directory not empty" >&2; exit 1; }};; esac; done
  echo "$2" >> {state}
elif [ "$1" = unmount ]; then
  grep -vxF "$2" {state} > {state}.new; mv {state}.new {state}
fi
""")
    shared = tmp_path / "shared"
    shared.mkdir()
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "AZ_BATCH_NODE_SHARED_DIR": str(shared),
        "STATE": str(state),
        "CALLS": str(tmp_path / "calls.txt"),
        "CACHE": str(tmp_path / "cache"),
    }


def _run(command_line: str, env: dict[str, str], job_id: str) -> subprocess.CompletedProcess[str]:
    """Run a Batch command line as the node does: its own /bin/bash -c, Batch's variables set."""
    argv = shlex.split(command_line)
    assert argv[:2] == ["/bin/bash", "-c"]
    return subprocess.run(argv, env={**env, "AZ_BATCH_JOB_ID": job_id}, capture_output=True, text=True, timeout=30)


def test_job_mount_survives_a_retry_and_the_next_job_mounts_again(node: dict[str, str]) -> None:
    plan = storage_plan(preset("block", "job", size=512, cache_path=node["CACHE"]))
    prepare = shell_chain((*plan.job_commands, "true"))  # then the sync step
    release = shell_chain((*plan.release_commands, "true"))  # then the node release step
    mount_point = f"{node['AZ_BATCH_NODE_SHARED_DIR']}/azrender-mounts/j1/assets"

    first = _run(prepare, node, "j1")
    assert first.returncode == 0, first.stderr
    assert Path(node["STATE"]).read_text().split() == [mount_point]
    (Path(node["CACHE"]) / "j1" / "block-0").write_text("cached")  # the cache fills up
    # A retried preparation task (or a reboot re-run) finds the mount and leaves it be.
    again = _run(prepare, node, "j1")
    assert again.returncode == 0, again.stderr
    assert Path(node["CALLS"]).read_text().count("mount ") == 1

    done = _run(release, node, "j1")
    assert done.returncode == 0, done.stderr
    assert Path(node["STATE"]).read_text().split() == []
    assert not (Path(node["CACHE"]) / "j1").exists() and not Path(mount_point).exists()

    # The next job on the node: no "already mounted", its own empty cache folder.
    second = _run(prepare, node, "j2")
    assert second.returncode == 0, second.stderr
    assert Path(node["STATE"]).read_text().split() == [mount_point.replace("/j1/", "/j2/")]
    # A release on a node where the mount is gone already still succeeds.
    assert _run(release, node, "j1").returncode == 0


def test_a_cache_path_that_cannot_go_into_an_option_is_a_preset_error() -> None:
    from azrender.errors import PresetError

    for bad in ("relative/cache", "/mnt/my cache", "/mnt/$(reboot)", "/mnt/../etc"):
        with pytest.raises(PresetError, match="is not an absolute node folder"):
            preset("file", "job", cache_path=bad)
