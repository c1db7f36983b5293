"""The storage mode's mount as a Batch pool ``mountConfiguration`` entry.

:func:`azrender.storage.modes.storage_plan` says what the nodes mount
(blobfuse, Azure Files, NFS, CIFS) and where; this module writes it in the
Batch wire format and fills in the one secret a mount may need, from the
environment of the submitting machine, never from the preset::

    mounts = pool_mounts(preset, environ=os.environ)
    mounts.entries      # [{"azureFileShareConfiguration": {...}}]
    mounts.secrets      # ("<account key>",): masked in every printout

A blobfuse mount authenticates with the pool's managed identity when the preset
names one, else with the storage account key of AZURE_STORAGE_CONNECTION_STRING.
An Azure Files mount takes its key from ``AZRENDER_FILES_KEY``, a CIFS mount its
password from ``AZRENDER_CIFS_PASSWORD``. A dry run (``dry_run=True``) shows
``***`` in those slots and needs none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azrender.errors import UsageError
from azrender.presets import Preset
from azrender.storage.account import azure_account_name
from azrender.storage.client import CONNECTION_STRING_ENV
from azrender.storage.modes import (
    AzureFilesMount,
    BlobfuseMount,
    CifsMount,
    Mount,
    NfsMount,
    storage_plan,
)

FILES_KEY_ENV = "AZRENDER_FILES_KEY"
CIFS_PASSWORD_ENV = "AZRENDER_CIFS_PASSWORD"
MASK = "***"


@dataclass(frozen=True)
class PoolMounts:
    """Mount entries for the pool body, the start-task commands the mode needs (and the
    environment they read), and the secrets used."""

    entries: list[dict[str, Any]]
    start_commands: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    start_environment: dict[str, str] = field(default_factory=dict)


def _connection_key(environ: Mapping[str, str]) -> str | None:
    for item in environ.get(CONNECTION_STRING_ENV, "").split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == "accountkey" and value.strip():
            return value.strip()
    return None


def _secret(name: str, environ: Mapping[str, str], dry_run: bool, what: str) -> str:
    if dry_run:
        return MASK
    value = environ.get(name, "").strip()
    if not value:
        raise UsageError(
            f"the {what} needs a secret that is not in the environment: {name}",
            hint=f"set {name} on this machine (it is sent to Batch, never stored in the preset)",
        )
    return value


def mount_entry(
    mount: Mount, preset: Preset, environ: Mapping[str, str], *, dry_run: bool
) -> tuple[dict[str, Any], str | None]:
    """(the MountConfiguration JSON, the secret it carries or None) for one mount."""
    if isinstance(mount, BlobfuseMount):
        name = mount.account_name or azure_account_name(preset.storage.account_url)
        if not name:
            raise UsageError(
                f"{preset.source}: the blobfuse mount needs the storage account name",
                hint="set `storage.account_url`",
            )
        body: dict[str, Any] = {
            "accountName": name,
            "containerName": mount.container_name,
            "relativeMountPath": mount.relative_mount_path,
        }
        if mount.blobfuse_options:
            body["blobfuseOptions"] = mount.blobfuse_options
        secret: str | None = None
        if preset.pool.identity:
            body["identityReference"] = {"resourceId": preset.pool.identity}
        else:
            key = MASK if dry_run else _connection_key(environ)
            if not key:
                raise UsageError(
                    "the blobfuse mount needs the pool's managed identity or the account key",
                    hint=f"set `pool.identity` in the preset, or {CONNECTION_STRING_ENV} with the AccountKey",
                )
            body["accountKey"] = key
            secret = key
        return {"azureBlobFileSystemConfiguration": body}, secret
    if isinstance(mount, AzureFilesMount):
        key = _secret(FILES_KEY_ENV, environ, dry_run, "Azure Files mount")
        files: dict[str, Any] = {
            "accountName": mount.account_name,
            "azureFileUrl": mount.azure_file_url,
            "accountKey": key,
            "relativeMountPath": mount.relative_mount_path,
        }
        if mount.mount_options:
            files["mountOptions"] = mount.mount_options
        return {"azureFileShareConfiguration": files}, key
    if isinstance(mount, NfsMount):
        nfs: dict[str, Any] = {"source": mount.source, "relativeMountPath": mount.relative_mount_path}
        if mount.mount_options:
            nfs["mountOptions"] = mount.mount_options
        return {"nfsMountConfiguration": nfs}, None
    assert isinstance(mount, CifsMount)
    password = _secret(CIFS_PASSWORD_ENV, environ, dry_run, "CIFS mount")
    cifs: dict[str, Any] = {
        "source": mount.source,
        "relativeMountPath": mount.relative_mount_path,
        "username": mount.username or "",
        "password": password,
    }
    if mount.mount_options:
        cifs["mountOptions"] = mount.mount_options
    return {"cifsMountConfiguration": cifs}, password


def start_secrets(
    commands: tuple[str, ...], environ: Mapping[str, str], *, dry_run: bool
) -> tuple[dict[str, str], tuple[str, ...]]:
    """(start-task environment, secrets) for the variables the start commands read.

    ``cmdkey ... /pass:%AZRENDER_FILES_KEY%`` expands on the node, so the key must be in
    the start task's ``environmentSettings``: taken from this machine's environment at
    submit time, ``***`` in a dry run.

    >>> start_secrets(("cmdkey /add:h /user:u /pass:%AZRENDER_FILES_KEY%",), {}, dry_run=True)
    ({'AZRENDER_FILES_KEY': '***'}, ())
    """
    env: dict[str, str] = {}
    for name, what in ((FILES_KEY_ENV, "Azure Files cmdkey"), (CIFS_PASSWORD_ENV, "CIFS cmdkey")):
        if any(f"%{name}%" in c or f"${name}" in c for c in commands):
            env[name] = _secret(name, environ, dry_run, what)
    return env, tuple(v for v in env.values() if v != MASK)


def pool_mounts(preset: Preset, environ: Mapping[str, str], *, dry_run: bool = False) -> PoolMounts:
    """What the preset's storage mode mounts on the pool (nothing for blob-copy)."""
    plan = storage_plan(preset, node_os=preset.pool.os)
    if plan.mount is None or plan.mount_at != "pool":
        env, secrets = start_secrets(plan.start_commands, environ, dry_run=dry_run)
        return PoolMounts([], plan.start_commands, secrets, env)
    entry, secret = mount_entry(plan.mount, preset, environ, dry_run=dry_run)
    secrets = (secret,) if secret and secret != MASK else ()
    return PoolMounts([entry], plan.start_commands, secrets)
