"""The validated preset: frozen dataclasses, one per table of the format.

Their fields and defaults mirror :data:`azrender.presets.fields.TABLES`
(a test keeps them in step); the value sets of their ``Literal`` fields are
:mod:`azrender.presets.vocabulary`'s, the same the table's choices come from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from azrender.errors import PresetError
from azrender.presets.vocabulary import (
    BackendKind,
    BlobfuseCache,
    BlobfuseMountAt,
    FilesMountAt,
    Layout,
    NodeAccess,
    NodeOS,
    NodeSync,
    PoolMode,
    StorageMode,
    WindowsPaths,
)

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"


@dataclass(frozen=True)
class StorageSettings:
    """``[storage]``: where assets go and where frames come back."""

    mode: StorageMode = "blob-copy"
    account_url: str | None = None
    assets_container: str = "assets"
    outputs_container: str = "outputs"
    layout: Layout = "mirror"
    node_sync: NodeSync = "azrender"
    node_cache_gib: int = 0


@dataclass(frozen=True)
class BlobfuseSettings:
    """``[blobfuse]``: how ``mode = "blobfuse"`` mounts the assets container."""

    mount_name: str = "assets"
    mount_at: BlobfuseMountAt = "pool"
    cache: BlobfuseCache = "file"
    cache_path: str = "/mnt/resource/blobfuse2"
    cache_size_mb: int = 0
    cache_timeout: int = 120


@dataclass(frozen=True)
class AzureFilesSettings:
    """``[azure_files]``: the share ``mode = "azure-files"`` uploads to and mounts."""

    account: str | None = None
    share: str | None = None
    windows_paths: WindowsPaths = "drive"
    drive: str = "S"
    mount_at: FilesMountAt = "pool"
    mount_name: str = "share"
    mount_options: str = "-o vers=3.0,dir_mode=0777,file_mode=0777,serverino,mfsymlinks"

    def account_and_share(self) -> tuple[str, str]:
        """(account, share): both are needed by ``mode = "azure-files"`` (the loader checks it too).

        >>> AzureFilesSettings().account_and_share()
        Traceback (most recent call last):
        azrender.errors.PresetError: mode "azure-files" needs azure_files.account and azure_files.share (add both under [azure_files])
        """
        if not (self.account and self.share):
            raise PresetError(
                'mode "azure-files" needs azure_files.account and azure_files.share',
                hint="add both under [azure_files]",
            )
        return self.account, self.share


@dataclass(frozen=True)
class ShareSettings:
    """``[share]``: the existing file server of ``mode = "nfs"`` / ``"cifs"``."""

    source: str | None = None
    mount_name: str = "share"
    mount_options: str = ""
    username: str | None = None

    def required_source(self) -> str:
        """``source``: needed by ``mode = "nfs"``/``"cifs"`` (the loader checks it too)."""
        if not self.source:
            raise PresetError('modes "nfs" and "cifs" need share.source', hint="add `source = ...` under [share]")
        return self.source


@dataclass(frozen=True)
class PathRule:
    """One ``[[paths]]`` entry: ``source`` on the artists' machines, ``target`` on the node."""

    source: str
    target: str


@dataclass(frozen=True)
class BackendSettings:
    """``[backend]``: where tasks run."""

    kind: BackendKind = "local"
    slots: int = 2


@dataclass(frozen=True)
class RenderSettings:
    """``[render]``: how frames are split into tasks and written."""

    chunk: int = 1
    format: str = "PNG"
    max_frames: int = 100_000


@dataclass(frozen=True)
class BatchSettings:
    """``[batch]``: the Batch account, the pool jobs run on, job limits."""

    account_url: str | None = None
    pool_id: str = "azrender"
    pool_mode: PoolMode = "create"
    node_access: NodeAccess = "sas"
    max_job_minutes: int = 1440
    max_task_minutes: int = 0
    task_retries: int = 1
    minutes_per_frame: int = 60
    task_retention_minutes: int = 60


@dataclass(frozen=True)
class PoolSettings:
    """``[pool]``: the pool azrender creates (or the auto-pool)."""

    vm_size: str = "Standard_D4s_v5"
    image: str = "canonical/ubuntu-24_04-lts/server"
    node_agent_sku: str = "batch.node.ubuntu 24.04"
    os: NodeOS = "linux"
    dedicated: int = 1
    spot: int = 0
    autoscale_formula: str | None = None
    task_slots: int = 1
    azrender_package: str = "azrender"
    start_command: str | None = None
    licence_env: str | None = None
    identity: str | None = None
    identity_client_id: str | None = None
    subnet_id: str | None = None
    blender_version: str | None = None


@dataclass(frozen=True)
class PreflightSettings:
    """``[preflight]``: which findings block a submit, and facts the checks use."""

    errors: str = ""
    ignore: str = ""
    image_renderers: str = ""
    share_quota_gib: int = 0


@dataclass(frozen=True)
class Preset:
    """One per-show preset, validated. Holds no secrets, by construction."""

    name: str
    source: Path
    storage: StorageSettings = field(default_factory=StorageSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    blobfuse: BlobfuseSettings = field(default_factory=BlobfuseSettings)
    azure_files: AzureFilesSettings = field(default_factory=AzureFilesSettings)
    share: ShareSettings = field(default_factory=ShareSettings)
    paths: tuple[PathRule, ...] = ()
    batch: BatchSettings = field(default_factory=BatchSettings)
    pool: PoolSettings = field(default_factory=PoolSettings)
    preflight: PreflightSettings = field(default_factory=PreflightSettings)

    def to_json(self) -> dict[str, object]:
        """The `azrender preset show --json` document: every setting, defaults filled in."""
        return {
            "name": self.name,
            "source": str(self.source),
            "storage": asdict(self.storage),
            "backend": asdict(self.backend),
            "render": asdict(self.render),
            "blobfuse": asdict(self.blobfuse),
            "azure_files": asdict(self.azure_files),
            "share": asdict(self.share),
            "paths": [asdict(r) for r in self.paths],
            "batch": asdict(self.batch),
            "pool": asdict(self.pool),
            "preflight": asdict(self.preflight),
        }

    def require_account(self, environ: Mapping[str, str] | None = None) -> None:
        """Raise unless storage can be reached: ``storage.account_url`` or the
        AZURE_STORAGE_CONNECTION_STRING environment variable must be set."""
        env = os.environ if environ is None else environ
        if self.storage.account_url or env.get(CONNECTION_STRING_ENV):
            return
        raise PresetError(
            f"{self.source}: `storage.account_url` is not set and {CONNECTION_STRING_ENV} is not in the environment",
            hint='add `account_url = "https://<account>.blob.core.windows.net"` under [storage], '
            f"or set {CONNECTION_STRING_ENV} (see docs/presets.md)",
        )
