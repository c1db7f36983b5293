"""How a job's nodes reach storage: per-job SAS URLs, or the pool's managed identity.

A SAS is minted per job and is no stronger than the job needs: read+list on the
assets container (one per show: each show's preset names its own), write+create
on the job's own outputs container (:mod:`azrender.outputs`, via :func:`for_job`),
expiring just after the job's wall-clock limit. A user-delegation SAS (signed with a key Azure AD
hands out, revocable, no account key involved) is used whenever the workstation
signs in with azure-identity; an account-key SAS only when the environment's
connection string carries a key (Azurite, key-based accounts). The permissions and
the window are :mod:`azrender.sas`'s, which the local backend follows too::

    access = mint_access(preset, now=datetime.now(timezone.utc))
    access.assets_url        # https://acct.blob.core.windows.net/assets?sv=...&sig=...
    access.redacted().assets_url   # ...&sig=***  (what may be printed or logged)

For a dry run, :func:`planned_access` shows the same URLs with every SAS slot
filled in except the signature, and needs no network and no credential.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    UserDelegationKey,
    generate_container_sas,
)

from azrender.errors import UsageError
from azrender.presets import Preset, vocabulary
from azrender.sas import ASSETS_PERMISSIONS, OUTPUTS_PERMISSIONS, sas_window
from azrender.storage.account import account_name_of, connection_blob_endpoint, connection_parts
from azrender.storage.client import CONNECTION_STRING_ENV, client_options, redact, storage_errors

#: How nodes reach storage: ``batch.node_access``.
Mode = vocabulary.NodeAccess


@dataclass(frozen=True)
class NodeAccess:
    """The container URLs a job's tasks use, and how they authenticate.

    With ``mode == "sas"`` the URLs carry the SAS token; with ``"identity"``
    they are plain and ``identity`` names the pool's user-assigned identity.
    """

    mode: Mode
    account_url: str
    assets_url: str
    outputs_url: str
    expiry: datetime | None = None
    identity: str | None = None
    identity_client_id: str | None = None
    delegation: bool = False

    def redacted(self) -> NodeAccess:
        """The same access with every SAS signature masked: safe to print."""
        return replace(self, assets_url=redact(self.assets_url), outputs_url=redact(self.outputs_url))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The strings that must never be printed (the SAS URLs, when there are any)."""
        return (self.assets_url, self.outputs_url) if self.mode == "sas" else ()


def storage_account_url(preset: Preset, environ: Mapping[str, str] | None = None) -> str:
    """The blob endpoint of the preset's storage account (or of the connection string's)."""
    if preset.storage.account_url:
        return preset.storage.account_url.rstrip("/")
    env = os.environ if environ is None else environ
    endpoint = connection_blob_endpoint(env.get(CONNECTION_STRING_ENV, ""))
    if endpoint:
        return endpoint
    raise UsageError(
        f"{preset.source}: the Azure backend needs the storage account's URL",
        hint='add `account_url = "https://<account>.blob.core.windows.net"` under [storage]',
    )


def container_url(account_url: str, container: str) -> str:
    return f"{account_url.rstrip('/')}/{quote(container)}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_access(preset: Preset, account_url: str) -> NodeAccess:
    if not preset.pool.identity:
        raise UsageError(
            f"{preset.source}: `batch.node_access = \"identity\"` needs `pool.identity`",
            hint="add the pool's user-assigned identity resource id under [pool], or use node_access = \"sas\"",
        )
    return NodeAccess(
        mode="identity",
        account_url=account_url,
        assets_url=container_url(account_url, preset.storage.assets_container),
        outputs_url=container_url(account_url, preset.storage.outputs_container),
        identity=preset.pool.identity,
        identity_client_id=preset.pool.identity_client_id,
    )


def planned_access(
    preset: Preset, *, now: datetime, environ: Mapping[str, str] | None = None
) -> NodeAccess:
    """The access a submit would mint, with ``sig=***``: for dry runs (no network, no credential)."""
    account_url = _planned_account_url(preset, environ)
    if preset.batch.node_access == "identity":
        return identity_access(preset, account_url)
    start, expiry = sas_window(now, preset.batch.max_job_minutes)

    def token(_container: str, permissions: ContainerSasPermissions) -> str:
        return f"st={_iso(start)}&se={_iso(expiry)}&sp={permissions}&sr=c&sig=***"

    return _sas_access(preset, account_url, expiry, token)


def _sas_access(
    preset: Preset,
    account_url: str,
    expiry: datetime,
    token: Callable[[str, ContainerSasPermissions], str],
    *,
    delegation: bool = False,
) -> NodeAccess:
    """SAS access to the job's two containers; ``token`` makes the query for one container."""

    def url(container: str, permissions: ContainerSasPermissions) -> str:
        return f"{container_url(account_url, container)}?{token(container, permissions)}"

    return NodeAccess(
        mode="sas",
        account_url=account_url,
        assets_url=url(preset.storage.assets_container, ASSETS_PERMISSIONS),
        outputs_url=url(preset.storage.outputs_container, OUTPUTS_PERMISSIONS),
        expiry=expiry,
        delegation=delegation,
    )


def _planned_account_url(preset: Preset, environ: Mapping[str, str] | None) -> str:
    try:
        return storage_account_url(preset, environ)
    except UsageError:
        # A dry run still shows the slot the storage account goes into.
        return "https://<storage-account>.blob.core.windows.net"


#: Builds a blob service client for an account URL (tests hand in their own).
ServiceFactory = Callable[[str], Any]


def _default_service(account_url: str) -> BlobServiceClient:
    from azure.identity import DefaultAzureCredential

    return BlobServiceClient(account_url, credential=DefaultAzureCredential(), **client_options())


def mint_access(
    preset: Preset,
    *,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    service_factory: ServiceFactory = _default_service,
) -> NodeAccess:
    """Mint the job's SAS URLs (or describe identity access); see the module docstring."""
    env = os.environ if environ is None else environ
    account_url = storage_account_url(preset, env)
    if preset.batch.node_access == "identity":
        return identity_access(preset, account_url)
    start, expiry = sas_window(now, preset.batch.max_job_minutes)
    parts = connection_parts(env.get(CONNECTION_STRING_ENV, ""))
    account_name = parts.get("accountname") or account_name_of(account_url)
    key: str | None = parts.get("accountkey")
    delegation: UserDelegationKey | None = None
    if not key:
        service = service_factory(account_url)
        with storage_errors("getting a user delegation key for the job's SAS"):
            delegation = service.get_user_delegation_key(start, expiry)

    def token(container: str, permissions: ContainerSasPermissions) -> str:
        return generate_container_sas(
            account_name,
            container,
            account_key=key,
            user_delegation_key=delegation,
            permission=permissions,
            start=start,
            expiry=expiry,
        )

    return _sas_access(preset, account_url, expiry, token, delegation=delegation is not None)


def for_job(preset: Preset, outputs_container: str) -> Preset:
    """``preset`` with ``outputs_container`` (the job's own, :mod:`azrender.outputs`) as its outputs container.

    What :func:`mint_access` and :func:`planned_access` get for a job: its write
    SAS then covers that job's container and no other.
    """
    return replace(preset, storage=replace(preset.storage, outputs_container=outputs_container))
