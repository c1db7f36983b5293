"""The preset format's words, written once: every fixed set of values a preset key takes.

Each set is a ``Literal`` (for the settings dataclasses in :mod:`azrender.presets.model`
and the code that reads them) and the tuple of its values (for the field table in
:mod:`azrender.presets.fields`, and from there the JSON schema, the reference page
and the error messages; for click choices). The tuples come from the ``Literal``\\ s,
so the two cannot drift apart.

>>> STORAGE_MODES
('blob-copy', 'blobfuse', 'azure-files', 'nfs', 'cifs')
"""

from __future__ import annotations

from typing import Literal, get_args

#: ``storage.mode``: how render nodes see the assets.
StorageMode = Literal["blob-copy", "blobfuse", "azure-files", "nfs", "cifs"]
STORAGE_MODES: tuple[StorageMode, ...] = get_args(StorageMode)
#: Modes the format will accept later, refused now with "not available yet".
STORAGE_MODES_PLANNED: tuple[str, ...] = ()

#: ``storage.layout``: how assets are named in the assets container.
Layout = Literal["mirror", "content"]
LAYOUTS: tuple[Layout, ...] = get_args(Layout)

#: ``storage.node_sync``: what brings a ``blob-copy`` job's assets to the node.
NodeSync = Literal["azrender", "azcopy"]
NODE_SYNC_TOOLS: tuple[NodeSync, ...] = get_args(NodeSync)

#: ``blobfuse.cache``: blobfuse2's caching component.
BlobfuseCache = Literal["file", "block", "none"]
BLOBFUSE_CACHES: tuple[BlobfuseCache, ...] = get_args(BlobfuseCache)

#: ``blobfuse.mount_at``: the pool's mount configuration, or each job's preparation task.
BlobfuseMountAt = Literal["pool", "job"]
BLOBFUSE_MOUNT_AT: tuple[BlobfuseMountAt, ...] = get_args(BlobfuseMountAt)

#: ``azure_files.mount_at``: the pool's mount configuration, or each task's command line.
FilesMountAt = Literal["pool", "task"]
FILES_MOUNT_AT: tuple[FilesMountAt, ...] = get_args(FilesMountAt)

#: ``azure_files.windows_paths``: a drive letter or the UNC path on Windows nodes.
WindowsPaths = Literal["drive", "unc"]
WINDOWS_PATHS: tuple[WindowsPaths, ...] = get_args(WindowsPaths)

#: ``backend.kind``: where tasks run.
BackendKind = Literal["local", "azure"]
BACKEND_KINDS: tuple[BackendKind, ...] = get_args(BackendKind)

#: ``batch.pool_mode``: create the pool, use an existing one, or an auto-pool per job.
PoolMode = Literal["create", "existing", "auto"]
POOL_MODES: tuple[PoolMode, ...] = get_args(PoolMode)

#: ``batch.node_access``: how nodes reach storage (short-lived SAS, or the pool's identity).
NodeAccess = Literal["sas", "identity"]
NODE_ACCESS: tuple[NodeAccess, ...] = get_args(NodeAccess)

#: ``pool.os``: the node operating system.
NodeOS = Literal["linux", "windows"]
NODE_OS: tuple[NodeOS, ...] = get_args(NodeOS)

#: ``render.format``: output image formats, by Blender's names (the app adapters translate them).
IMAGE_FORMATS: tuple[str, ...] = (
    "PNG",
    "OPEN_EXR",
    "OPEN_EXR_MULTILAYER",
    "JPEG",
    "TIFF",
    "TARGA",
    "TARGA_RAW",
    "BMP",
    "HDR",
    "WEBP",
    "DPX",
    "CINEON",
    "JPEG2000",
)

__all__ = [
    "BACKEND_KINDS",
    "BLOBFUSE_CACHES",
    "BLOBFUSE_MOUNT_AT",
    "FILES_MOUNT_AT",
    "IMAGE_FORMATS",
    "LAYOUTS",
    "NODE_ACCESS",
    "NODE_OS",
    "NODE_SYNC_TOOLS",
    "POOL_MODES",
    "STORAGE_MODES",
    "STORAGE_MODES_PLANNED",
    "WINDOWS_PATHS",
    "BackendKind",
    "BlobfuseCache",
    "BlobfuseMountAt",
    "FilesMountAt",
    "Layout",
    "NodeAccess",
    "NodeOS",
    "NodeSync",
    "PoolMode",
    "StorageMode",
    "WindowsPaths",
]
