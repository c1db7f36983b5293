"""The four storage modes as data: where files live on the node, what is mounted, how.

Pure functions of a preset; nothing here touches Azure. The Batch backend turns
a :class:`StoragePlan` into requests (each mount dataclass maps one to one onto
a Batch ``MountConfiguration`` member: ``azure_blob_file_system_configuration``,
``azure_file_share_configuration``, ``nfs_mount_configuration``,
``cifs_mount_configuration``; field names are the SDK's), the submit flow uses
``plan.pathmap`` for node paths and remap scripts, ``plan.upload`` to pick the
uploader, and ``plan.check_assets`` before a share-mode job::

    plan = storage_plan(preset, node_os="linux")
    plan.check_assets(a.path for a in assets.present)    # nfs/cifs: stragglers refused
    node_scene = plan.pathmap.to_node(scene)

No secret is ever part of a plan: account keys and CIFS passwords are given to
the pool by the backend from its own secret store (``AZRENDER_FILES_KEY`` for
``cmdkey``); managed identities are preferred.

>>> from azrender.presets import parse_preset
>>> from pathlib import Path
>>> p = parse_preset('name = "a"\\n[storage]\\nmode = "blobfuse"\\n', Path("a.toml"))
>>> plan = storage_plan(p)
>>> plan.pathmap.to_node("P:\\\\show\\\\a.png")
'$AZ_BATCH_NODE_MOUNTS_DIR/assets/P/show/a.png'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from azrender.errors import PresetError
from azrender.paths import MapRule, PathMap
from azrender.paths.rules import is_absolute_target, join_node
from azrender.presets.model import (
    AzureFilesSettings,
    BlobfuseSettings,
    PathRule,
    Preset,
    ShareSettings,
    StorageSettings,
)
from azrender.storage import blobfuse
from azrender.storage.account import azure_account_name

NodeOS = Literal["linux", "windows"]
UploadKind = Literal["blob", "file-share", "none"]
SyncTool = Literal["azrender", "azcopy"]
MountAt = Literal["pool", "job", "task"]

#: Batch's environment variables, spelled for each node OS.
_SHARED = {"linux": "$AZ_BATCH_NODE_SHARED_DIR", "windows": "%AZ_BATCH_NODE_SHARED_DIR%"}
_MOUNTS = {"linux": "$AZ_BATCH_NODE_MOUNTS_DIR", "windows": "%AZ_BATCH_NODE_MOUNTS_DIR%"}
#: Where a job's preparation task mounts (``blobfuse.mount_at = "job"``): a folder of
#: azrender's own in the shared folder, one per job. AZ_BATCH_NODE_MOUNTS_DIR is set only
#: on pools with a mountConfiguration (docs: "Mount a virtual file system on a Batch pool"),
#: and two jobs on one node each mount with their own job's SAS.
JOB_MOUNTS = "$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/$AZ_BATCH_JOB_ID"


@dataclass(frozen=True)
class BlobfuseMount:
    """-> ``AzureBlobFileSystemConfiguration`` (identity: the pool's managed identity)."""

    account_name: str | None  # None: the account of AZURE_STORAGE_CONNECTION_STRING
    container_name: str
    relative_mount_path: str
    blobfuse_options: str


@dataclass(frozen=True)
class AzureFilesMount:
    """-> ``AzureFileShareConfiguration`` (the account key comes from the backend's secret store)."""

    account_name: str
    azure_file_url: str
    relative_mount_path: str  # a folder on Linux, a drive letter on Windows
    mount_options: str


@dataclass(frozen=True)
class NfsMount:
    """-> ``NFSMountConfiguration``."""

    source: str
    relative_mount_path: str
    mount_options: str


@dataclass(frozen=True)
class CifsMount:
    """-> ``CIFSMountConfiguration`` (the password comes from the backend's secret store)."""

    source: str
    relative_mount_path: str
    mount_options: str
    username: str | None


Mount = BlobfuseMount | AzureFilesMount | NfsMount | CifsMount


@dataclass(frozen=True)
class StoragePlan:
    """What a storage mode means for one job.

    ``upload``: which uploader fills storage (``none`` for file servers).
    ``node_sync``: the job preparation task syncs the manifest into the shared folder,
    with ``sync_tool`` (``python3 -m azrender.node sync``, or azcopy: :mod:`azrender.storage.azcopy`).
    ``mount`` and ``mount_at``: what is mounted, at pool start, by the job
    preparation task or before each task. ``start_commands`` run in the pool
    start task as the pool-scope auto-user (the identity the tasks run as, so
    ``cmdkey`` credentials are visible to them); ``task_prefix`` runs before
    each task's command.
    """

    mode: str
    node_os: NodeOS
    node_root: str
    pathmap: PathMap
    upload: UploadKind
    node_sync: bool
    mount: Mount | None = None
    mount_at: MountAt | None = None
    start_commands: tuple[str, ...] = ()
    task_prefix: tuple[str, ...] = ()
    job_commands: tuple[str, ...] = ()
    sync_tool: SyncTool = "azrender"
    release_commands: tuple[str, ...] = ()

    @property
    def requires_all_mapped(self) -> bool:
        """File servers upload nothing: every dependency must lie below a rule's root."""
        return self.pathmap.mirror_root is None

    def check_assets(self, paths: Iterable[str | Path]) -> None:
        """Raise :class:`azrender.paths.UnmappedPathError` listing files the node cannot see."""
        if self.requires_all_mapped:
            self.pathmap.check_mapped(paths)


def _require_linux(mode: str, node_os: str, source: Path) -> None:
    if node_os != "linux":
        raise PresetError(
            f"{source}: storage mode {mode!r} needs Linux render nodes",
            hint="use mode = \"azure-files\" for Windows nodes, or a Linux pool",
        )


def _rules(paths: Iterable[PathRule], node_root: str) -> tuple[MapRule, ...]:
    """``[[paths]]`` with relative targets placed below the mode's node root."""
    out = []
    for rule in paths:
        target = rule.target
        if not is_absolute_target(target):
            target = join_node(node_root, [p for p in target.replace("\\", "/").split("/") if p not in ("", ".")])
        out.append(MapRule(rule.source, target))
    return tuple(out)


def _join(root: str, name: str, node_os: str) -> str:
    return root + ("\\" if node_os == "windows" else "/") + name


def blob_copy_plan(
    node_os: NodeOS = "linux", rules: tuple[MapRule, ...] = (), sync_tool: SyncTool = "azrender"
) -> StoragePlan:
    """The ``blob-copy`` plan: assets synced into ``<shared dir>/assets`` by the preparation task.

    The default when no preset is at hand (a :class:`~azrender.jobs.JobRequest` alone).

    >>> blob_copy_plan().pathmap.to_node("/mnt/show/a.png")
    '$AZ_BATCH_NODE_SHARED_DIR/assets/mnt/show/a.png'
    """
    root = _join(_SHARED[node_os], "assets", node_os)
    pathmap = PathMap(mirror_root=root, node_os=node_os, rules=rules)
    return StoragePlan("blob-copy", node_os, root, pathmap, upload="blob", node_sync=True, sync_tool=sync_tool)


def blobfuse_cache_mb(bf: BlobfuseSettings, vm_size: str) -> int:
    """The blobfuse2 cache limit: the preset's, else a cap on VM sizes without a temporary
    disk (the cache would sit on the OS disk), else 0 (blobfuse2's default).

    >>> blobfuse_cache_mb(BlobfuseSettings(), "Standard_D4s_v5")
    8192
    """
    if bf.cache_size_mb:
        return bf.cache_size_mb
    return blobfuse.NO_TEMP_DISK_CACHE_MB if TEMP_DISK_GIB.get(vm_size.lower()) == 0 else 0


def _blobfuse_plan(
    bf: BlobfuseSettings,
    storage: StorageSettings,
    paths: Iterable[PathRule],
    vm_size: str,
    node_os: NodeOS,
) -> StoragePlan:
    """``blobfuse``: mounted by the pool (MountConfiguration) or by each job's preparation task."""
    at_job = bf.mount_at == "job"
    root = f"{JOB_MOUNTS}/{bf.mount_name}" if at_job else _join(_MOUNTS[node_os], bf.mount_name, node_os)
    # A job's cache is its own folder: emptied before the mount, removed on release.
    cache_dir = f"{bf.cache_path.rstrip('/')}/$AZ_BATCH_JOB_ID" if at_job else bf.cache_path
    options = blobfuse.mount_options(
        bf.cache, cache_dir, size_mb=blobfuse_cache_mb(bf, vm_size), timeout=bf.cache_timeout, pool_mount=not at_job
    )
    mount = BlobfuseMount(
        account_name=azure_account_name(storage.account_url),
        container_name=storage.assets_container,
        relative_mount_path=bf.mount_name,
        blobfuse_options=options,
    )
    job_commands: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    if at_job:
        job_commands = (blobfuse.INSTALL, blobfuse.mount_command(root, cache_dir, mount.container_name, options))
        release = (blobfuse.unmount_command(root, cache_dir),)
    pathmap = PathMap(mirror_root=root, node_os=node_os, rules=_rules(paths, root))
    return StoragePlan(
        "blobfuse", node_os, root, pathmap, upload="blob", node_sync=False, mount=mount,
        mount_at="job" if at_job else "pool", job_commands=job_commands, release_commands=release,
    )  # fmt: skip


def _azure_files_plan(af: AzureFilesSettings, paths: Iterable[PathRule], node_os: NodeOS) -> StoragePlan:
    """``azure-files``: the share on a drive letter or UNC path (Windows) or a CIFS mount (Linux)."""
    account, share = af.account_and_share()
    host = f"{account}.file.core.windows.net"
    url = f"https://{host}/{share}"
    unc = f"\\\\{host}\\{share}"
    if node_os == "windows":
        drive = af.drive.rstrip(":").upper()
        root = unc if af.windows_paths == "unc" else f"{drive}:"
        files_mount = AzureFilesMount(account, url, drive, "/persistent:Yes")
        start: tuple[str, ...] = ()
        prefix: tuple[str, ...] = ()
        at: MountAt = "pool"
        if af.mount_at == "task":
            at = "task"
            start = (f"cmdkey /add:{host} /user:localhost\\{account} /pass:%AZRENDER_FILES_KEY%",)
            if af.windows_paths == "drive":
                prefix = (f"net use {drive}: {unc} /persistent:no",)
    else:
        root = _join(_MOUNTS[node_os], af.mount_name, node_os)
        files_mount = AzureFilesMount(account, url, af.mount_name, af.mount_options)
        start, prefix, at = (), (), "pool"
    pathmap = PathMap(mirror_root=root, node_os=node_os, rules=_rules(paths, root))
    return StoragePlan(
        "azure-files", node_os, root, pathmap, upload="file-share", node_sync=False, mount=files_mount,
        mount_at=at, start_commands=start, task_prefix=prefix,
    )  # fmt: skip


def _share_plan(mode: str, sh: ShareSettings, paths: Iterable[PathRule], node_os: NodeOS) -> StoragePlan:
    """``nfs`` / ``cifs``: an existing file server; nothing uploaded, only [[paths]] reach the node."""
    source = sh.required_source()
    root = _join(_MOUNTS[node_os], sh.mount_name, node_os)
    share_mount: Mount
    if mode == "nfs":
        share_mount = NfsMount(source, sh.mount_name, sh.mount_options)
    else:
        share_mount = CifsMount(source.replace("\\", "/"), sh.mount_name, sh.mount_options, sh.username)
    pathmap = PathMap(mirror_root=None, node_os=node_os, rules=_rules(paths, root))
    return StoragePlan(
        mode, node_os, root, pathmap, upload="none", node_sync=False, mount=share_mount,
        mount_at="pool",
    )  # fmt: skip


def storage_plan(preset: Preset, node_os: NodeOS = "linux") -> StoragePlan:
    """The :class:`StoragePlan` of ``preset``'s storage mode for nodes running ``node_os``.

    The one place here that reads the whole preset: each mode's plan gets only
    its own settings and the ``[[paths]]`` rules.
    """
    mode = preset.storage.mode
    if mode == "blob-copy":
        root = _join(_SHARED[node_os], "assets", node_os)
        return blob_copy_plan(node_os, _rules(preset.paths, root), preset.storage.node_sync)
    if mode == "azure-files":
        return _azure_files_plan(preset.azure_files, preset.paths, node_os)
    _require_linux(mode, node_os, preset.source)
    if mode == "blobfuse":
        return _blobfuse_plan(preset.blobfuse, preset.storage, preset.paths, preset.pool.vm_size, node_os)
    return _share_plan(mode, preset.share, preset.paths, node_os)


# --- blob-copy: does the job fit the node's temporary disk? -------------------------------

#: Temporary (resource) disk of common render VM sizes, GiB. Sizes without a
#: ``d`` in v4/v5 families have none; unknown sizes are not guessed.
TEMP_DISK_GIB: dict[str, int] = {
    "standard_d2s_v3": 16, "standard_d4s_v3": 32, "standard_d8s_v3": 64,
    "standard_d16s_v3": 128, "standard_d32s_v3": 256, "standard_d64s_v3": 512,
    "standard_f2s_v2": 16, "standard_f4s_v2": 32, "standard_f8s_v2": 64,
    "standard_f16s_v2": 128, "standard_f32s_v2": 256, "standard_f64s_v2": 512,
    "standard_f72s_v2": 576,
    "standard_d2s_v5": 0, "standard_d4s_v5": 0, "standard_d8s_v5": 0,
    "standard_d16s_v5": 0, "standard_d32s_v5": 0,
}  # fmt: skip

#: Share of the temp disk the assets may use: frames, caches and the OS need the rest.
TEMP_DISK_BUDGET = 0.8


def check_fits_temp_disk(total_bytes: int, vm_size: str, temp_disk_gib: int | None = None) -> None:
    """Raise when ``total_bytes`` of assets cannot be copied to a ``vm_size`` node.

    ``temp_disk_gib`` overrides the table (for sizes it does not know). Unknown
    sizes without an override pass: the node's own sync then fails clearly.
    Sizes without a temporary disk (``0``) pass too: Batch then keeps the
    node's folders on the OS disk, whose size the pool's image decides.
    """
    gib = temp_disk_gib if temp_disk_gib is not None else TEMP_DISK_GIB.get(vm_size.lower())
    if not gib:
        return
    budget = int(gib * (1 << 30) * TEMP_DISK_BUDGET)
    if total_bytes > budget:
        need = total_bytes / (1 << 30)
        raise PresetError(
            f"the job's assets ({need:.1f} GiB) do not fit the {gib} GiB temporary disk of "
            f"{vm_size} (at most {TEMP_DISK_BUDGET:.0%} may hold assets)",
            hint='use a larger VM size, or storage mode "blobfuse" or "azure-files"',
        )
