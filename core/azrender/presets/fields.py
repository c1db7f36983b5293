"""The preset format as data: one declarative table that validation, defaults,
the JSON schema and the docs all come from.

To grow the format, add a :class:`FieldSpec` to a :class:`TableSpec` (or a new
table to :data:`TABLES`) and the matching field to the settings dataclass in
:mod:`azrender.presets.model`; ``tests/core/test_presets.py`` checks the two
agree and that ``schema.json`` was regenerated
(``python -m azrender.presets``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

ValueKind = Literal["string", "integer", "boolean"]

#: A problem found by a field check: (what is wrong, what to do about it).
Problem = tuple[str, str]
Check = Callable[[str, object], Problem | None]


class _Required:
    """Marker default: the key must be present."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()


@dataclass(frozen=True)
class FieldSpec:
    """One key of a preset table.

    ``choices`` are the values accepted today; ``planned`` are values the format
    will accept later, refused now with "not available yet". ``check`` runs
    after the type, choice and range checks and returns a problem or None; it
    gets the dotted key path and the value. ``schema`` adds JSON-schema keywords
    that express the same rule as ``check``.
    """

    name: str
    kind: ValueKind
    default: str | int | bool | _Required | None
    description: str
    choices: tuple[str, ...] = ()
    planned: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    check: Check | None = None
    schema: dict[str, object] = field(default_factory=dict)
    example: str | int | bool | None = None

    @property
    def required(self) -> bool:
        return isinstance(self.default, _Required)


@dataclass(frozen=True)
class TableSpec:
    """A TOML table of the preset (``""`` is the document root)."""

    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    #: Written ``[[name]]``: any number of entries, each a table of ``fields``.
    array: bool = False

    def get(self, key: str) -> FieldSpec | None:
        for f in self.fields:
            if f.name == key:
                return f
        return None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


# --- value checks -------------------------------------------------------------------

CONTAINER_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def suggest_container_name(value: str) -> str | None:
    """The nearest valid container name, or None when there is no sensible one."""
    candidate = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    candidate = candidate[:63].rstrip("-")
    if len(candidate) < 3 or not CONTAINER_RE.match(candidate):
        return None
    return candidate


def container_problem(value: str) -> str | None:
    """Why ``value`` is not a valid Azure blob container name, or None."""
    if not 3 <= len(value) <= 63:
        return f"is {len(value)} characters long; container names have 3 to 63"
    if value != value.lower():
        return "has uppercase letters; container names are lowercase"
    if not re.fullmatch(r"[a-z0-9-]+", value):
        return "may only contain lowercase letters, digits and hyphens"
    if value[0] == "-" or value[-1] == "-":
        return "must start and end with a letter or digit"
    if "--" in value:
        return "has consecutive hyphens; use single hyphens"
    return None


def check_container(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    why = container_problem(value)
    if why is None:
        return None
    fix = suggest_container_name(value)
    rules = "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit"
    hint = f"did you mean `{fix}`? names are {rules}" if fix else f"use {rules}"
    return f"`{key}` {_show(value)} is not a valid container name: it {why}", hint


def check_account_url(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    example = "https://<account>.blob.core.windows.net"
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return f"`{key}` is not a valid URL", f"use {example}"
    if parts.scheme not in ("https", "http") or not host:
        return f"`{key}` {_show(value)} is not an http(s) URL", f"use {example}"
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        return (
            f"`{key}` must use https, got http for {host}",
            f"use https://{parts.netloc}{parts.path}; http is only allowed for 127.0.0.1/localhost emulators such as Azurite",
        )
    if parts.query or parts.fragment:
        return (
            f"`{key}` must not have a query string or fragment",
            f"use just the account endpoint, e.g. {example}",
        )
    return None


def check_name(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if NAME_RE.match(value):
        return None
    return (
        f"`{key}` {_show(value)} is not a valid preset name",
        "use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
    )


def _show(value: str, limit: int = 40) -> str:
    """A value quoted for an error message, shortened if long."""
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the format --------------------------------------------------------------------

STORAGE_MODES_AVAILABLE = ("blob-copy", "blobfuse", "azure-files", "nfs", "cifs")
STORAGE_MODES_PLANNED: tuple[str, ...] = ()
BACKEND_KINDS = ("local", "azure")
IMAGE_FORMATS = (
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

ROOT = TableSpec(
    name="",
    description="The document root.",
    fields=(
        FieldSpec(
            "name",
            "string",
            REQUIRED,
            "Preset name, shown in job names and the submit dialog.",
            check=check_name,
            schema={"pattern": NAME_RE.pattern},
            example="demo",
        ),
    ),
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
            choices=STORAGE_MODES_AVAILABLE,
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
        FieldSpec(
            "assets_container",
            "string",
            "assets",
            "Blob container for scene files and their dependencies.",
            check=check_container,
            schema={"minLength": 3, "maxLength": 63, "pattern": CONTAINER_RE.pattern},
            example="show-abc-assets",
        ),
        FieldSpec(
            "outputs_container",
            "string",
            "outputs",
            "Blob container rendered frames and task logs are uploaded to.",
            check=check_container,
            schema={"minLength": 3, "maxLength": 63, "pattern": CONTAINER_RE.pattern},
            example="show-abc-outputs",
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
            choices=("mirror", "content"),
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
            choices=("azrender", "azcopy"),
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

BACKEND = TableSpec(
    name="backend",
    description="Where the render tasks run.",
    fields=(
        FieldSpec(
            "kind",
            "string",
            "local",
            "`local` runs tasks on this machine exactly as a Batch node would; "
            "`azure` runs them on Azure Batch.",
            choices=BACKEND_KINDS,
        ),
        FieldSpec(
            "slots",
            "integer",
            2,
            "Local backend: how many tasks run in parallel.",
            minimum=1,
            maximum=64,
        ),
    ),
)

RENDER = TableSpec(
    name="render",
    description="How frames are split into tasks and written.",
    fields=(
        FieldSpec(
            "chunk",
            "integer",
            1,
            "Frames per task.",
            minimum=1,
            maximum=100_000,
        ),
        FieldSpec(
            "format",
            "string",
            "PNG",
            "Output image format (Blender's names; the app adapters translate them).",
            choices=IMAGE_FORMATS,
        ),
        FieldSpec(
            "max_frames",
            "integer",
            100_000,
            "Most frames one job may have; a larger --frames is refused at once.",
            minimum=1,
            maximum=10_000_000,
        ),
    ),
)


# --- storage modes ---------------------------------------------------------------------

MOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STORAGE_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
SHARE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


def check_mount_name(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if MOUNT_NAME_RE.match(value):
        return None
    return (
        f"`{key}` {_show(value)} is not a valid mount folder name",
        "use 1-64 letters, digits, `.`, `_` or `-` (it becomes $AZ_BATCH_NODE_MOUNTS_DIR/<name>)",
    )


def check_storage_account(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if STORAGE_ACCOUNT_RE.match(value):
        return None
    return (
        f"`{key}` {_show(value)} is not a storage account name",
        "use the account name only (3-24 lowercase letters and digits), not its URL",
    )


def check_share(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if SHARE_RE.match(value):
        return None
    return (
        f"`{key}` {_show(value)} is not a valid Azure Files share name",
        "use 3-63 lowercase letters, digits and single hyphens",
    )


def check_drive(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if re.fullmatch(r"[D-Zd-z]:?", value):
        return None
    return f"`{key}` {_show(value)} is not a drive letter", 'use one letter from D to Z, e.g. "S"'


def check_share_source(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if re.fullmatch(r"[^\s:/]+:/\S*", value) or re.fullmatch(
        r"(//|\\\\)[^\s/\\]+[/\\][^\s/\\].*", value
    ):
        return None
    return (
        f"`{key}` {_show(value)} is not a file server export",
        "write `server:/export/path` for NFS or `//server/share` for CIFS/SMB",
    )


def check_rule_source(key: str, value: object) -> Problem | None:
    from azrender.paths.rules import split_path  # stdlib-only module

    assert isinstance(value, str)
    if split_path(value) is not None:
        return None
    return (
        f"`{key}` {_show(value)} is not an absolute path on the artists' machines",
        "write a drive (P:\\\\show), UNC (\\\\\\\\server\\\\share) or POSIX (/mnt/show) root; "
        "in TOML use single quotes for backslashes: 'P:\\show'",
    )


def check_rule_target(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if value and ".." not in re.split(r"[\\/]", value):
        return None
    return (
        f"`{key}` {_show(value)} is not a node folder",
        "use a folder relative to the mode's node root (e.g. `show`) or an absolute node path, without `..`",
    )


#: An absolute node folder that goes into blobfuse2 options and shell lines unquoted.
CACHE_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]+$")


def check_cache_path(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if CACHE_PATH_RE.match(value) and "/../" not in value + "/":
        return None
    return (
        f"`{key}` {_show(value)} is not an absolute node folder",
        "use letters, digits, `.`, `_`, `-` and `/`, starting with `/` (e.g. /mnt/resource/blobfuse2)",
    )


CACHE_KINDS = ("file", "block", "none")
MOUNT_AT = ("pool", "job")

BLOBFUSE = TableSpec(
    name="blobfuse",
    description='`mode = "blobfuse"`: the assets container mounted with blobfuse2 on Linux nodes.',
    fields=(
        FieldSpec(
            "mount_name",
            "string",
            "assets",
            "Folder the container is mounted on: below $AZ_BATCH_NODE_MOUNTS_DIR (pool mounts) or "
            "$AZ_BATCH_NODE_SHARED_DIR/azrender-mounts/<job id> (job mounts).",
            check=check_mount_name,
            schema={"pattern": MOUNT_NAME_RE.pattern},
        ),
        FieldSpec(
            "mount_at",
            "string",
            "pool",
            "`pool`: a MountConfiguration at pool start; `job`: the job preparation task installs "
            "blobfuse2 and fuse3 when absent and mounts, the release task unmounts.",
            choices=MOUNT_AT,
        ),
        FieldSpec(
            "cache",
            "string",
            "file",
            "blobfuse2 cache: `file` (whole files on the temp disk), `block` (block cache), "
            "`none` (file cache with `direct_io`: nothing kept).",
            choices=CACHE_KINDS,
        ),
        FieldSpec(
            "cache_path",
            "string",
            "/mnt/resource/blobfuse2",
            "Cache folder (`--tmp-path` or `--block-cache-path`; job mounts use a folder per job "
            "below it): the temp SSD (`/mnt/resource/...` or `/mnt/...`) or a ramdisk (`/dev/shm/...`).",
            example="/mnt/resource/blobfuse2",
            check=check_cache_path,
            schema={"pattern": CACHE_PATH_RE.pattern},
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
        FieldSpec(
            "account",
            "string",
            None,
            "Storage account name of the share.",
            check=check_storage_account,
            schema={"pattern": STORAGE_ACCOUNT_RE.pattern},
            example="abcrender",
        ),
        FieldSpec(
            "share",
            "string",
            None,
            "File share name.",
            check=check_share,
            schema={"pattern": SHARE_RE.pattern},
            example="show-abc",
        ),
        FieldSpec(
            "windows_paths",
            "string",
            "drive",
            "Windows nodes: `drive` (paths on a drive letter, `S:\\\\...`) or `unc` "
            "(`\\\\\\\\<account>.file.core.windows.net\\\\<share>\\\\...`).",
            choices=("drive", "unc"),
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
            choices=("pool", "task"),
        ),
        FieldSpec(
            "mount_name",
            "string",
            "share",
            "Linux nodes: folder below $AZ_BATCH_NODE_MOUNTS_DIR.",
            check=check_mount_name,
            schema={"pattern": MOUNT_NAME_RE.pattern},
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
        FieldSpec(
            "mount_name",
            "string",
            "share",
            "Folder below $AZ_BATCH_NODE_MOUNTS_DIR.",
            check=check_mount_name,
            schema={"pattern": MOUNT_NAME_RE.pattern},
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

# --- Azure Batch ([batch], [pool]) ------------------------------------------------------

POOL_MODES = ("create", "existing", "auto")
NODE_ACCESS = ("sas", "identity")
POOL_OS = ("linux", "windows")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BATCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
GALLERY_ID_RE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/", re.IGNORECASE
)
IDENTITY_ID_RE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.ManagedIdentity/userAssignedIdentities/[^/]+$",
    re.IGNORECASE,
)


def check_batch_url(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname and not (parts.query or parts.fragment):
        return None
    return (
        f"`{key}` {_show(value)} is not a Batch account endpoint",
        "use https://<account>.<region>.batch.azure.com",
    )


def check_batch_id(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if BATCH_ID_RE.match(value):
        return None
    return (
        f"`{key}` {_show(value)} is not a valid Batch id",
        "use 1-64 letters, digits, hyphens and underscores",
    )


def check_image(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    parts = value.split("/")
    if GALLERY_ID_RE.match(value) or (len(parts) in (3, 4) and all(parts)):
        return None
    return (
        f"`{key}` {_show(value)} is neither a marketplace image nor a Compute Gallery image id",
        "use publisher/offer/sku[/version] (e.g. canonical/ubuntu-24_04-lts/server) or "
        "/subscriptions/.../providers/Microsoft.Compute/galleries/<g>/images/<i>[/versions/<v>]",
    )


def check_licence_env(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    for item in value.split():
        name, eq, _ = item.partition("=")
        if not eq or not ENV_NAME_RE.match(name):
            return (
                f"`{key}` entry {_show(item)} is not NAME=value",
                "write space-separated NAME=value pairs, e.g. `ADSKFLEX_LICENSE_FILE=27000@lic1`",
            )
    return None


def resource_id_check(pattern: re.Pattern[str], what: str, form: str) -> Check:
    """A check that a value is an Azure resource id of one kind (``form``: its provider part)."""

    def check(key: str, value: object) -> Problem | None:
        assert isinstance(value, str)
        if pattern.match(value):
            return None
        return (
            f"`{key}` {_show(value)} is not {what}",
            f"use /subscriptions/<sub>/resourceGroups/<rg>/providers/{form}",
        )

    return check


check_identity = resource_id_check(
    IDENTITY_ID_RE, "a user-assigned managed identity resource id",
    "Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
)  # fmt: skip


SUBNET_ID_RE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.Network/virtualNetworks/[^/]+/subnets/[^/]+$",
    re.IGNORECASE,
)


check_subnet = resource_id_check(
    SUBNET_ID_RE, "a virtual network subnet resource id",
    "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>",
)  # fmt: skip


BLENDER_VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")


def check_blender_version(key: str, value: object) -> Problem | None:
    assert isinstance(value, str)
    if BLENDER_VERSION_RE.match(value.strip()):
        return None
    return f"`{key}` {_show(value)} is not a Blender version", 'write it as Blender shows it, e.g. "5.3" or "4.2.3"'


BATCH = TableSpec(
    name="batch",
    description="The Azure Batch account, which pool jobs run on, and job limits (backend `azure`).",
    fields=(
        FieldSpec(
            "account_url",
            "string",
            None,
            "Batch account endpoint, e.g. `https://myrender.westeurope.batch.azure.com`; "
            "needed to submit with the `azure` backend (not for a dry run).",
            check=check_batch_url,
            schema={"pattern": r"^https://[^/?#]+/?$"},
            example="https://myrender.westeurope.batch.azure.com",
        ),
        FieldSpec(
            "pool_id",
            "string",
            "azrender",
            "Id of the pool jobs run on.",
            check=check_batch_id,
            schema={"pattern": BATCH_ID_RE.pattern},
        ),
        FieldSpec(
            "pool_mode",
            "string",
            "create",
            "`create`: use pool `pool_id`, creating it from [pool] when it does not exist; "
            "`existing`: the pool must exist; `auto`: an auto-pool from [pool] that lives as long as the job.",
            choices=POOL_MODES,
        ),
        FieldSpec(
            "node_access",
            "string",
            "sas",
            "How nodes reach storage: `sas` mints per-job SAS URLs (read+list on assets, "
            "write+create on outputs, expiring just after the job's limit); `identity` uses the "
            "pool's managed identity (`pool.identity`).",
            choices=NODE_ACCESS,
        ),
        FieldSpec(
            "max_job_minutes",
            "integer",
            1440,
            "Wall-clock limit of a job; its SAS tokens expire 30 minutes after it.",
            minimum=5,
            maximum=10080,
        ),
        FieldSpec(
            "max_task_minutes",
            "integer",
            0,
            "Wall-clock limit of one render task; 0 derives it from minutes_per_frame and the "
            "task's frames.",
            minimum=0,
            maximum=10080,
        ),
        FieldSpec(
            "task_retries",
            "integer",
            1,
            "How often Batch retries a failed render task.",
            minimum=0,
            maximum=100,
        ),
        FieldSpec(
            "minutes_per_frame",
            "integer",
            60,
            "With max_task_minutes = 0: a render task may run 15 minutes plus this many minutes per "
            "frame of its chunk before Batch ends it; 0 means no limit.",
            minimum=0,
            maximum=1440,
        ),
        FieldSpec(
            "task_retention_minutes",
            "integer",
            60,
            "How long a node keeps a finished render task's folder (frames, logs; they are uploaded "
            "already) before Batch deletes it (`retentionTime`; Batch's own default is 7 days).",
            minimum=1,
            maximum=10080,
        ),
    ),
)

POOL = TableSpec(
    name="pool",
    description="The Batch pool azrender creates (`batch.pool_mode` `create` or `auto`).",
    fields=(
        FieldSpec("vm_size", "string", "Standard_D4s_v5", "VM size of the nodes."),
        FieldSpec(
            "image",
            "string",
            "canonical/ubuntu-24_04-lts/server",
            "Marketplace image `publisher/offer/sku[/version]`, or an Azure Compute Gallery image "
            "id (the studio's image with the renderer installed).",
            check=check_image,
        ),
        FieldSpec(
            "node_agent_sku",
            "string",
            "batch.node.ubuntu 24.04",
            "Batch node agent SKU that matches the image.",
        ),
        FieldSpec("os", "string", "linux", "Operating system of the image.", choices=POOL_OS),
        FieldSpec(
            "dedicated", "integer", 1, "Dedicated nodes (unless autoscale_formula is set).",
            minimum=0, maximum=10000,
        ),
        FieldSpec(
            "spot", "integer", 0, "Spot nodes (unless autoscale_formula is set).",
            minimum=0, maximum=10000,
        ),
        FieldSpec(
            "autoscale_formula",
            "string",
            None,
            "Batch autoscale formula; when set, it decides the node counts.",
        ),
        FieldSpec(
            "task_slots", "integer", 1, "Tasks that run at once on one node.", minimum=1, maximum=256
        ),
        FieldSpec(
            "azrender_package",
            "string",
            "azrender",
            "No longer used: the node gets the submitting azrender from the job (docs/azure.md, How azrender gets onto the node).",
        ),
        FieldSpec(
            "start_command",
            "string",
            None,
            "Extra start-task command that installs the renderer (runs as the pool's admin auto-user).",
        ),
        FieldSpec(
            "licence_env",
            "string",
            None,
            "Licence server environment for every task: space-separated NAME=value pairs, "
            "e.g. `ADSKFLEX_LICENSE_FILE=27000@lic1`; `NAME=` without a value takes NAME from "
            "the submitting shell (a submit refuses it unset).",
            check=check_licence_env,
        ),
        FieldSpec(
            "identity",
            "string",
            None,
            "Resource id of the user-assigned managed identity the pool carries (assign it to the "
            "pool with the portal or ARM); outputs and storage use it with node_access `identity`.",
            check=check_identity,
        ),
        FieldSpec(
            "identity_client_id",
            "string",
            None,
            "Client id of that identity, so DefaultAzureCredential on the node picks it.",
        ),
        FieldSpec(
            "subnet_id",
            "string",
            None,
            "Resource id of the virtual network subnet the pool's nodes join "
            "(`networkConfiguration.subnetId`); needed to reach an NFS/CIFS or licence server on a "
            "private network.",
            check=check_subnet,
        ),
        FieldSpec(
            "blender_version",
            "string",
            None,
            "The Blender the pool's image (or start_command) provides, e.g. `5.3`; a scene saved by "
            "a newer Blender is reported before upload (`blender-older-than-scene`). Unset: not checked.",
            check=check_blender_version,
            example="5.3",
        ),
    ),
)

# --- pre-flight ([preflight]) -----------------------------------------------------------


def check_preflight_codes(key: str, value: object) -> Problem | None:
    """Every word must be a finding code of :mod:`azrender.preflight.codes`."""
    from azrender.preflight.codes import CODES

    assert isinstance(value, str)
    unknown = [w for w in re.split(r"[\s,]+", value) if w and w not in CODES]
    if not unknown:
        return None
    close = difflib.get_close_matches(unknown[0], CODES, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return f"`{key}` names unknown finding code {_show(unknown[0])}", hint + "codes: " + ", ".join(CODES)


PREFLIGHT = TableSpec(
    name="preflight",
    description="What the pre-flight report (before upload) treats as an error, and facts it checks against.",
    fields=(
        FieldSpec(
            "errors",
            "string",
            "",
            "Finding codes that block a submit (unless --force), space-separated, e.g. "
            "`missing-file long-path`. By default only guaranteed failures do.",
            check=check_preflight_codes,
            example="missing-file",
        ),
        FieldSpec(
            "ignore",
            "string",
            "",
            "Finding codes left out of the report, space-separated.",
            check=check_preflight_codes,
        ),
        FieldSpec(
            "image_renderers",
            "string",
            "",
            "Renderers the pool's image has installed, space-separated (e.g. `CYCLES "
            "BLENDER_EEVEE_NEXT arnold`); a job asking for another one is reported. Empty: not checked.",
            example="CYCLES arnold",
        ),
        FieldSpec(
            "share_quota_gib",
            "integer",
            0,
            "`azure-files`: the share's quota in GiB; assets larger than it are reported. 0: not checked.",
            minimum=0,
            maximum=102_400,
        ),
    ),
)

#: Every table of the format, root first, in documentation order.
TABLES: tuple[TableSpec, ...] = (
    ROOT,
    STORAGE,
    BLOBFUSE,
    AZURE_FILES,
    SHARE,
    PATHS,
    BACKEND,
    RENDER,
    BATCH,
    POOL,
    PREFLIGHT,
)
SUBTABLES: dict[str, TableSpec] = {t.name: t for t in TABLES if t.name}

#: Non-secret keys declared above are never mistaken for credentials.
DECLARED_KEYS: frozenset[str] = frozenset(f.name for t in TABLES for f in t.fields)

__all__ = [
    "BACKEND_KINDS",
    "IMAGE_FORMATS",
    "REQUIRED",
    "STORAGE_MODES_AVAILABLE",
    "STORAGE_MODES_PLANNED",
    "SUBTABLES",
    "TABLES",
    "FieldSpec",
    "TableSpec",
    "container_problem",
    "suggest_container_name",
]
