"""The storage tables of the preset format: ``[storage]`` and what its modes read
(``[blobfuse]``, ``[azure_files]``, ``[share]``, ``[[paths]]``).

Part of the one field table (:data:`azrender.presets.fields.TABLES`) that validation,
defaults, the JSON schema and the reference page come from.
"""

from __future__ import annotations

from azrender.presets.checks import (
    CACHE_PATH_RE,
    CONTAINER_RE,
    MOUNT_NAME_RE,
    SHARE_RE,
    STORAGE_ACCOUNT_RE,
    check_account_url,
    check_cache_path,
    check_container,
    check_drive,
    check_mount_name,
    check_rule_source,
    check_rule_target,
    check_share,
    check_share_source,
    check_storage_account,
)
from azrender.presets.spec import REQUIRED, FieldSpec, TableSpec, pattern_field
from azrender.presets.vocabulary import (
    BLOBFUSE_CACHES,
    BLOBFUSE_MOUNT_AT,
    FILES_MOUNT_AT,
    LAYOUTS,
    NODE_SYNC_TOOLS,
    STORAGE_MODES,
    STORAGE_MODES_PLANNED,
    WINDOWS_PATHS,
)


def _container_field(name: str, default: str, description: str, example: str) -> FieldSpec:
    """A blob container name key: the service's naming rules, as a check and as JSON schema."""
    return FieldSpec(
        name,
        "string",
        default,
        description,
        check=check_container,
        schema={"minLength": 3, "maxLength": 63, "pattern": CONTAINER_RE.pattern},
        example=example,
    )


STORAGE = TableSpec(
    name="storage",
    description="Where scene files and their dependencies go, and where frames come back.",
    fields=(
        FieldSpec(
            "mode",
            "string",
            "blob-copy",
            "How render nodes see the assets. `blob-copy`: uploaded to a blob container "
            "and synced into each node's shared folder. `blobfuse`: uploaded to the blob "
            "container, mounted on Linux nodes ([blobfuse]). `azure-files`: uploaded to an "
            "Azure Files share, mounted as a drive, UNC path or CIFS ([azure_files]). `nfs`, "
            "`cifs`: an existing file server mounted on the nodes, nothing uploaded ([share], "
            "[[paths]]).",
            choices=STORAGE_MODES,
            planned=STORAGE_MODES_PLANNED,
        ),
        FieldSpec(
            "account_url",
            "string",
            None,
            "Blob service endpoint of the storage account, e.g. "
            "`https://myaccount.blob.core.windows.net` (http only for 127.0.0.1/localhost). "
            "Optional when AZURE_STORAGE_CONNECTION_STRING is set.",
            check=check_account_url,
            schema={
                "format": "uri",
                "pattern": r"^(https://[^/?#]+|http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?)(/[^?#]*)?$",
            },
            example="https://myaccount.blob.core.windows.net",
        ),
        _container_field(
            "assets_container",
            "assets",
            "Blob container for scene files and their dependencies.",
            "show-abc-assets",
        ),
        _container_field(
            "outputs_container",
            "outputs",
            "Blob container rendered frames and task logs are uploaded to.",
            "show-abc-outputs",
        ),
        FieldSpec(
            "layout",
            "string",
            "mirror",
            "How assets are named in the assets container. `mirror`: blob name = the file's "
            "path (`P:\\show\\a.png` → `P/show/a.png`), browsable and mountable with blobfuse. "
            "`content`: blob name = the content hash (`cas/ab/ab12…`), so identical files are "
            "stored once across shots and renames; each job's manifest maps hashes back to paths "
            "and the node materializes them.",
            choices=LAYOUTS,
        ),
        FieldSpec(
            "node_sync",
            "string",
            "azrender",
            "`blob-copy` only: what the job preparation task runs to bring the job's assets to "
            "the node. `azrender`: `python3 -m azrender.node sync`, which downloads only what "
            "changed since the node's last job and checks every file's xxh3 hash. `azcopy`: "
            "Microsoft's azcopy (must be on the node's PATH) fetches the job's file list with "
            "`--overwrite=ifSourceNewer`, deciding by time, checking Content-MD5 where a blob has "
            "one; needs `layout = \"mirror\"` and Linux nodes.",
            choices=NODE_SYNC_TOOLS,
        ),
        FieldSpec(
            "node_cache_gib",
            "integer",
            0,
            "`blob-copy` with `node_sync = \"azrender\"`: the most each node keeps of assets between "
            "jobs (GiB); past it the assets used longest ago by a finished job go first. 0: only as "
            "much as the disk needs for the next job.",
            minimum=0,
            maximum=100_000,
        ),
    ),
)

BLOBFUSE = TableSpec(
    name="blobfuse",
    description='`mode = "blobfuse"`: the assets container mounted with blobfuse2 on Linux nodes.',
    fields=(
        pattern_field(
            "mount_name",
            "assets",
            "Folder the container is mounted on: below $AZ_BATCH_NODE_MOUNTS_DIR (pool mounts) or "
            "$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/<job id> (job mounts).",
            check_mount_name,
            MOUNT_NAME_RE,
        ),
        FieldSpec(
            "mount_at",
            "string",
            "pool",
            "`pool`: a MountConfiguration at pool start; `job`: the job preparation task installs "
            "blobfuse2 and fuse3 when absent and mounts, the release task unmounts.",
            choices=BLOBFUSE_MOUNT_AT,
        ),
        FieldSpec(
            "cache",
            "string",
            "file",
            "blobfuse2 cache: `file` (whole files on the temp disk), `block` (block cache), "
            "`none` (file cache with `direct_io`: nothing kept).",
            choices=BLOBFUSE_CACHES,
        ),
        pattern_field(
            "cache_path",
            "/mnt/resource/blobfuse2",
            "Cache folder (`--tmp-path` or `--block-cache-path`; job mounts use a folder per job "
            "below it): the temp SSD (`/mnt/resource/...` or `/mnt/...`) or a ramdisk (`/dev/shm/...`).",
            check_cache_path,
            CACHE_PATH_RE,
            example="/mnt/resource/blobfuse2",
        ),
        FieldSpec(
            "cache_size_mb",
            "integer",
            0,
            "Cache size limit in MB (`--cache-size-mb`, `--block-cache-disk-size`); 0: blobfuse2 "
            "takes up to 80% of the disk's free space, except on VM sizes without a temporary disk, "
            "where the cache sits on the OS disk and is capped at 8192.",
            minimum=0,
            maximum=4_000_000,
        ),
        FieldSpec(
            "cache_timeout",
            "integer",
            120,
            "Seconds a cached file stays valid.",
            minimum=0,
            maximum=86_400,
        ),
    ),
)

AZURE_FILES = TableSpec(
    name="azure_files",
    description='`mode = "azure-files"`: an Azure Files share, SMB on Windows nodes, CIFS on Linux.',
    fields=(
        pattern_field(
            "account",
            None,
            "Storage account name of the share.",
            check_storage_account,
            STORAGE_ACCOUNT_RE,
            example="abcrender",
        ),
        pattern_field(
            "share",
            None,
            "File share name.",
            check_share,
            SHARE_RE,
            example="show-abc",
        ),
        FieldSpec(
            "windows_paths",
            "string",
            "drive",
            "Windows nodes: `drive` (paths on a drive letter, `S:\\\\...`) or `unc` "
            "(`\\\\\\\\<account>.file.core.windows.net\\\\<share>\\\\...`).",
            choices=WINDOWS_PATHS,
        ),
        FieldSpec(
            "drive",
            "string",
            "S",
            "Windows drive letter the share is mapped to.",
            check=check_drive,
        ),
        FieldSpec(
            "mount_at",
            "string",
            "pool",
            "`pool`: a MountConfiguration; `task`: `cmdkey` in the pool start task and "
            "`net use` before each task (Windows).",
            choices=FILES_MOUNT_AT,
        ),
        pattern_field(
            "mount_name",
            "share",
            "Linux nodes: folder below $AZ_BATCH_NODE_MOUNTS_DIR.",
            check_mount_name,
            MOUNT_NAME_RE,
        ),
        FieldSpec(
            "mount_options",
            "string",
            "-o vers=3.0,dir_mode=0777,file_mode=0777,serverino,mfsymlinks",
            "Linux nodes: CIFS mount options.",
        ),
    ),
)

SHARE = TableSpec(
    name="share",
    description='`mode = "nfs"` or `"cifs"`: an existing file server (NFS VM, GlusterFS, '
    "Avere/HPC Cache) mounted on Linux nodes; nothing is uploaded.",
    fields=(
        FieldSpec(
            "source",
            "string",
            None,
            "The export: `server:/export/path` (NFS) or `//server/share` (CIFS).",
            check=check_share_source,
            example="10.0.0.4:/exports/show",
        ),
        pattern_field(
            "mount_name",
            "share",
            "Folder below $AZ_BATCH_NODE_MOUNTS_DIR.",
            check_mount_name,
            MOUNT_NAME_RE,
        ),
        FieldSpec(
            "mount_options",
            "string",
            "",
            "Extra mount options, e.g. `-o vers=4.1,ro` (NFS) or `-o vers=3.0` (CIFS).",
        ),
        FieldSpec(
            "username",
            "string",
            None,
            "CIFS user name; its password comes from the pool's secret store, never the preset.",
            example="render",
        ),
    ),
)

PATHS = TableSpec(
    name="paths",
    description="Path-mapping rules, tried longest source first: files below `source` on the "
    "artists' machines are below `target` on the node.",
    fields=(
        FieldSpec(
            "source",
            "string",
            REQUIRED,
            "Root on the artists' machines: `P:\\\\show`, `\\\\\\\\server\\\\share`, `/mnt/show` "
            "(case-insensitive for Windows roots).",
            check=check_rule_source,
            example="P:\\\\show",
        ),
        FieldSpec(
            "target",
            "string",
            REQUIRED,
            "Node folder: relative to the mode's node root (the mount or mirror), or an "
            "absolute node path.",
            check=check_rule_target,
            example="show",
        ),
    ),
    array=True,
)
