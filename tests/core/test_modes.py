"""Storage modes: node paths, mounts, commands and the straggler check, from the example presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.errors import PresetError
from azrender.paths import UnmappedPathError
from azrender.presets import load_preset, parse_preset
from azrender.storage.modes import (
    AzureFilesMount,
    BlobfuseMount,
    CifsMount,
    NfsMount,
    check_fits_temp_disk,
    storage_plan,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "presets"
TEX = "P:\\show\\tex\\a b.png"


def example(name: str):  # type: ignore[no-untyped-def]
    return load_preset(EXAMPLES / f"{name}.toml")


def test_every_mode_has_a_valid_example() -> None:
    modes = {load_preset(p).storage.mode for p in EXAMPLES.glob("*.toml")}
    assert modes == {"blob-copy", "blobfuse", "azure-files", "nfs", "cifs"}


def test_blob_copy() -> None:
    plan = storage_plan(example("blob-copy"))
    assert (plan.upload, plan.node_sync, plan.mount) == ("blob", True, None)
    assert plan.pathmap.to_node(TEX) == "$AZ_BATCH_NODE_SHARED_DIR/assets/P/show/tex/a b.png"
    win = storage_plan(example("blob-copy"), node_os="windows")
    assert win.pathmap.to_node("/mnt/x.png") == "%AZ_BATCH_NODE_SHARED_DIR%\\assets\\mnt\\x.png"
    plan.check_assets(["/anywhere/at/all.png"])  # copies take everything


def test_blobfuse() -> None:
    plan = storage_plan(example("blobfuse"))
    assert plan.pathmap.to_node(TEX) == "$AZ_BATCH_NODE_MOUNTS_DIR/assets/P/show/tex/a b.png"
    assert plan.mount == BlobfuseMount(
        account_name="abcrender",
        container_name="abc-assets",
        relative_mount_path="assets",
        # Standard_D4s_v5 (the default size) has no temporary disk: the cache is capped.
        blobfuse_options="-o ro -o allow_other --file-cache-timeout=120 --tmp-path=/mnt/resource/blobfuse2"
        " --cache-size-mb=8192",
    )
    assert (plan.upload, plan.node_sync, plan.mount_at, plan.job_commands) == ("blob", False, "pool", ())
    with pytest.raises(PresetError, match="needs Linux render nodes"):
        storage_plan(example("blobfuse"), node_os="windows")


def test_blobfuse_block_cache_mounted_by_the_job() -> None:
    text = (EXAMPLES / "blobfuse.toml").read_text().replace('"pool"', '"job"').replace('"file"', '"block"')
    plan = storage_plan(parse_preset(text.replace("cache_size_mb = 0", "cache_size_mb = 4096"), Path("b.toml")))
    assert isinstance(plan.mount, BlobfuseMount)
    # The disk limit is --block-cache-disk-size (blobfuse2 has no --block-cache-size), and
    # each job caches in a folder of its own.
    assert plan.mount.blobfuse_options.endswith(
        "--block-cache --block-cache-path=/mnt/resource/blobfuse2/$AZ_BATCH_JOB_ID --block-cache-disk-size=4096"
    )
    assert plan.mount_at == "job"
    root = "$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/$AZ_BATCH_JOB_ID/assets"
    assert plan.pathmap.to_node(TEX) == f"{root}/P/show/tex/a b.png"
    assert plan.job_commands[0].startswith("command -v blobfuse2 >/dev/null || (")
    assert f'blobfuse2 mount "{root}" --container-name=abc-assets -o ro' in plan.job_commands[1]
    assert plan.release_commands[0].startswith(f'(! mountpoint -q "{root}" || blobfuse2 unmount "{root}"')


def test_azure_files_windows_drive_and_unc_and_linux() -> None:
    win = storage_plan(example("azure-files"), node_os="windows")
    assert win.pathmap.to_node(TEX) == "S:\\P\\show\\tex\\a b.png"
    assert win.upload == "file-share" and win.mount_at == "task"
    assert win.start_commands == (
        "cmdkey /add:abcrender.file.core.windows.net /user:localhost\\abcrender /pass:%AZRENDER_FILES_KEY%",
    )
    assert win.task_prefix == ("net use S: \\\\abcrender.file.core.windows.net\\show-abc /persistent:no",)
    assert win.mount == AzureFilesMount(
        "abcrender", "https://abcrender.file.core.windows.net/show-abc", "S", "/persistent:Yes"
    )
    text = (EXAMPLES / "azure-files.toml").read_text().replace('windows_paths = "drive"', 'windows_paths = "unc"')
    unc = storage_plan(parse_preset(text, Path("f.toml")), node_os="windows")
    assert unc.pathmap.to_node("/mnt/a.png") == "\\\\abcrender.file.core.windows.net\\show-abc\\mnt\\a.png"
    assert unc.task_prefix == ()
    linux = storage_plan(example("azure-files"))
    assert linux.pathmap.to_node(TEX) == "$AZ_BATCH_NODE_MOUNTS_DIR/share/P/show/tex/a b.png"
    assert isinstance(linux.mount, AzureFilesMount) and linux.mount.mount_options.startswith("-o vers=3.0")
    assert (linux.start_commands, linux.task_prefix) == ((), ())


def test_nfs_rules_and_stragglers() -> None:
    plan = storage_plan(example("nfs"))
    assert plan.mount == NfsMount("10.1.0.4:/exports/show", "show", "-o vers=4.1,ro,hard,nconnect=4")
    assert plan.upload == "none" and plan.requires_all_mapped
    to_node = plan.pathmap.to_node
    assert to_node("p:/SHOW/tex/a b.png") == "$AZ_BATCH_NODE_MOUNTS_DIR/show/tex/a b.png"
    assert to_node("\\\\FS01\\show\\tex\\a.png") == "$AZ_BATCH_NODE_MOUNTS_DIR/show/tex/a.png"
    assert to_node("/mnt/show/tex/a.png") == "$AZ_BATCH_NODE_MOUNTS_DIR/show/tex/a.png"
    assert to_node("P:\\show\\library\\tree.abc") == "/mnt/library/tree.abc"  # longest wins
    plan.check_assets(["P:\\show\\a.png", "/mnt/show/b.png"])
    with pytest.raises(UnmappedPathError) as info:
        plan.check_assets(["P:\\show\\a.png", "C:\\Users\\me\\Desktop\\ref.jpg", "/home/me/x.exr"])
    assert info.value.paths == ["C:\\Users\\me\\Desktop\\ref.jpg", "/home/me/x.exr"]
    assert str(info.value).startswith("2 files are not below any mapped root: C:\\Users")


def test_cifs() -> None:
    plan = storage_plan(example("cifs"))
    assert plan.mount == CifsMount(
        "//fs01/projects", "projects", "-o vers=3.0,ro,dir_mode=0555,file_mode=0444", "render"
    )
    assert plan.pathmap.to_node("q:\\abc\\a.png") == "$AZ_BATCH_NODE_MOUNTS_DIR/projects/abc/a.png"
    with pytest.raises(UnmappedPathError):
        plan.check_assets(["R:\\abc\\a.png"])
    with pytest.raises(PresetError, match="needs Linux"):
        storage_plan(example("cifs"), node_os="windows")


def test_no_secret_in_any_plan() -> None:
    for path in EXAMPLES.glob("*.toml"):
        for os_name in ("linux", "windows"):
            try:
                plan = storage_plan(load_preset(path), node_os=os_name)  # type: ignore[arg-type]
            except PresetError:
                continue
            text = repr(plan).lower()
            assert "accountkey" not in text and "sig=" not in text and "password" not in text


def test_temp_disk_guard() -> None:
    check_fits_temp_disk(40 << 30, "Standard_D8s_v3")  # 40 GiB of 64
    with pytest.raises(PresetError, match=r"do not fit the 64 GiB temporary disk of Standard_D8s_v3"):
        check_fits_temp_disk(60 << 30, "Standard_D8s_v3")
    check_fits_temp_disk(200 << 30, "Standard_D8s_v5")  # no temp disk: Batch uses the OS disk
    check_fits_temp_disk(10**15, "Standard_Unknown")  # not guessed
    with pytest.raises(PresetError):
        check_fits_temp_disk(10 << 30, "Standard_Unknown", temp_disk_gib=10)
