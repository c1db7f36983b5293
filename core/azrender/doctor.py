"""``azrender doctor``: check once that a preset's environment can render, one line per check.

Each check is a small function returning :class:`Check` (``ok``, ``warn``,
``fail`` or ``skip``, a message and, for a failure, what to do). They run in
the order a submit meets them, and a check that needs an earlier one (the
containers need credentials) is skipped when that one failed::

    report = run_doctor(preset)
    for check in report.checks:
        print(check.line())          # "ok    storage account: StorageV2 (Standard_RAGRS)"
    sys.exit(1 if report.failed else 0)

Network: blob storage (the preset's account or ``AZURE_STORAGE_CONNECTION_STRING``)
and, for the ``azure`` backend, the Batch account. Nothing secret is printed:
every message goes through :func:`azrender.storage.client.redact`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from azrender.apps import AppAdapter, all_adapters
from azrender.errors import AzrenderError
from azrender.presets import Preset
from azrender.presets.model import PoolSettings, StorageSettings
from azrender.storage.account import connection_parts
from azrender.storage.client import (
    CONNECTION_STRING_ENV,
    container_client,
    container_client_from_url,
    redact,
    storage_errors,
)

Status = Literal["ok", "warn", "fail", "skip"]

#: Account kinds fit for rendering. General-purpose v1 ("Storage") has lower
#: request and bandwidth targets and no access tiers: the seed says its limits hurt rendering.
GOOD_KINDS = ("StorageV2", "BlobStorage", "BlockBlobStorage")
PROBE_PREFIX = ".azrender/doctor-"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    message: str
    fix: str = ""

    def line(self) -> str:
        """``ok    name: message`` / ``FAIL  name: message; fix: ...`` (redacted)."""
        text = f"{self.status.upper() if self.status == 'fail' else self.status:<5} {self.name}: {self.message}"
        if self.fix and self.status in ("fail", "warn"):
            text += f"; fix: {self.fix}"
        return redact(text)

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "message": redact(self.message), "fix": redact(self.fix)}


@dataclass
class DoctorReport:
    """Every check of one run, in order."""

    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": not self.failed, "checks": [c.to_json() for c in self.checks]}


def _failure(name: str, exc: AzrenderError) -> Check:
    return Check(name, "fail", exc.message, exc.hint or "")


# -- storage ------------------------------------------------------------------------------


def check_credentials(storage: StorageSettings, environ: Mapping[str, str]) -> Check:
    """A connection string in the environment, or ``account_url`` with a token from azure-identity.

    With a connection string azure-identity is not touched: the string is what every
    blob client of this machine will use.
    """
    name = "storage credentials"
    conn = environ.get(CONNECTION_STRING_ENV, "").strip()
    if conn:
        parts = connection_parts(conn)
        if not (parts.get("accountkey") or parts.get("sharedaccesssignature")) and "usedevelopmentstorage" not in parts:
            return Check(name, "fail", f"{CONNECTION_STRING_ENV} has neither AccountKey nor SharedAccessSignature",
                         "copy the connection string again from the portal (Access keys)")
        how = "account key" if parts.get("accountkey") else "SAS"
        account = parts.get("accountname") or parts.get("blobendpoint") or "?"
        return Check(name, "ok", f"{CONNECTION_STRING_ENV} ({how}, account {account})")
    if not storage.account_url:
        return Check(name, "fail", f"no {CONNECTION_STRING_ENV} and no storage.account_url",
                     f'add `account_url = "https://<account>.blob.core.windows.net"` under [storage] '
                     f"or set {CONNECTION_STRING_ENV}")
    from azure.identity import DefaultAzureCredential

    try:
        DefaultAzureCredential().get_token("https://storage.azure.com/.default")
    except AzureError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return Check(name, "fail", f"DefaultAzureCredential found no usable sign-in: {first}",
                     "run `az login` (workstation) or give the machine a managed identity")
    return Check(name, "ok", f"DefaultAzureCredential signed in for {storage.account_url}")


def check_account_kind(client: ContainerClient) -> Check:
    """General-purpose v2 or BlobStorage: ok; v1 (``Storage``) warns."""
    name = "storage account"
    try:
        with storage_errors("reading the storage account's kind", client=client):
            info = client.get_account_information()
    except AzrenderError as exc:
        return _failure(name, exc)
    kind = str(info.get("account_kind") or "?")
    sku = str(info.get("sku_name") or "?")
    if kind in GOOD_KINDS:
        return Check(name, "ok", f"{kind} ({sku})")
    if kind == "Storage":
        return Check(name, "warn", f"general-purpose v1 account ({sku}): lower request and bandwidth limits "
                     "slow uploads and node syncs", "upgrade it to general-purpose v2 in the portal (Configuration)")
    return Check(name, "warn", f"account kind {kind} ({sku}) is not one azrender was made for",
                 "use a general-purpose v2 account")


def check_container(client: ContainerClient, role: str) -> Check:
    """The container exists (created when allowed) and a probe blob can be written and deleted."""
    name = f"{role} container"
    container = client.container_name
    created = False
    try:
        with storage_errors(f"looking up the {role} container", client=client):
            exists = client.exists()
        if not exists:
            try:
                with storage_errors(f"creating the {role} container", client=client):
                    client.create_container()
                created = True
            except AzrenderError as exc:
                return Check(name, "fail", f"container {container!r} does not exist and this credential cannot "
                             f"create it: {exc.message}",
                             f"create {container!r} in the portal, or use a credential that may create containers")
        probe = PROBE_PREFIX + secrets.token_hex(4)
        with storage_errors(f"writing a probe blob to the {role} container", client=client, blob=probe):
            client.upload_blob(probe, b"azrender doctor probe", overwrite=True)
        with storage_errors(f"deleting the probe blob from the {role} container", client=client, blob=probe):
            client.delete_blob(probe)
    except AzrenderError as exc:
        return Check(name, "fail", exc.message,
                     exc.hint or f"give this credential write and delete rights on {container!r}")
    return Check(name, "ok", f"{container!r} {'created, ' if created else ''}writable")


def check_sas(preset: Preset, environ: Mapping[str, str], now: datetime) -> Check:
    """A per-job SAS can be minted, and the assets SAS is accepted (it lists the container)."""
    from azrender.batch.access import mint_access

    name = "per-job SAS"
    if preset.batch.node_access == "identity":
        return Check(name, "skip", "batch.node_access = \"identity\": nodes use the pool's managed identity")
    conn = environ.get(CONNECTION_STRING_ENV, "").strip()
    if conn and not connection_parts(conn).get("accountkey"):
        # A SAS in the connection string cannot sign another SAS, and with a connection
        # string azure-identity is not used (no user delegation key either).
        return Check(name, "fail", f"{CONNECTION_STRING_ENV} carries a SAS, which cannot sign the job's SAS",
                     "use a connection string with AccountKey, or unset it and `az login` "
                     "(user delegation SAS, needs Storage Blob Delegator)")
    try:
        access = mint_access(preset, now=now, environ=environ)
        reader = container_client_from_url(access.assets_url)
        with storage_errors("listing the assets container with the job's SAS", client=reader):
            next(iter(reader.list_blobs(results_per_page=1).by_page()), None)
    except AzrenderError as exc:
        return _failure(name, exc)
    how = "user delegation key" if access.delegation else "account key"
    return Check(name, "ok", f"minted with the {how}; the assets SAS is accepted")


# -- batch --------------------------------------------------------------------------------


def check_batch(
    preset: Preset,
    client: Any,
    environ: Mapping[str, str] | None = None,
    vm_skus: Callable[[str, str], Mapping[str, Any]] | None = None,
) -> list[Check]:
    """The Batch account answers; the pool, its VM size and image exist (``azure`` backend only)."""
    from azrender.batch.backend import batch_errors
    from azrender.batch.pool import image_reference

    account = preset.batch.account_url or "?"
    checks: list[Check] = []
    try:
        with batch_errors("listing the Batch account's supported images", account):
            images = list(client.list_supported_images())
    except AzrenderError as exc:
        return [_failure("batch account", exc)]
    checks.append(Check("batch account", "ok", f"{account} answers ({len(images)} supported images)"))
    pool_id = preset.batch.pool_id
    pool = None
    if preset.batch.pool_mode != "auto":
        try:
            with batch_errors(f"reading pool {pool_id}", account):
                pool = client.get_pool(pool_id)
        except AzrenderError as exc:
            if not isinstance(exc.__cause__, ResourceNotFoundError):
                return [*checks, _failure("batch pool", exc)]
        if pool is None and preset.batch.pool_mode == "existing":
            checks.append(Check("batch pool", "fail", f"pool {pool_id!r} does not exist on {account}",
                                'create it, fix batch.pool_id, or set batch.pool_mode = "create"'))
            return checks
        if pool is None:
            checks.append(Check("batch pool", "ok", f"pool {pool_id!r} does not exist yet; submit creates it from [pool]"))
        else:
            checks.append(Check("batch pool", "ok", f"pool {pool_id!r} exists ({_text(pool.state)})"))
    else:
        checks.append(Check("batch pool", "ok", "auto-pool per job (batch.pool_mode = \"auto\")"))
    checks.append(_check_vm_size(preset.pool, pool))
    checks.append(check_pool_limits(preset, environ, vm_skus))
    checks.append(_check_image(preset.pool, pool, images, image_reference))
    return checks


def check_pool_limits(
    preset: Preset,
    environ: Mapping[str, str] | None = None,
    vm_skus: Callable[[str, str], Mapping[str, Any]] | None = None,
) -> Check:
    """What submit would refuse about the pool settings (:mod:`azrender.batch.limits`), and
    the task slots against the VM size's vCPUs as the service lists them when it can be
    asked (``AZURE_SUBSCRIPTION_ID`` set: :mod:`azrender.batch.vmskus`), else azrender's
    size table."""
    from azure.core.exceptions import AzureError

    from azrender.batch.limits import MAX_TASK_SLOTS, creates_pool, max_task_slots, pool_problems
    from azrender.batch.vmskus import ENV_SUBSCRIPTION, batch_region, list_vm_skus

    name = "pool settings"
    problems = pool_problems(preset)
    if problems:
        return Check(name, "fail", problems[0].message, problems[0].hint)
    if not creates_pool(preset.batch):
        return Check(name, "skip", "an existing pool keeps its own task slots and network")
    env = os.environ if environ is None else environ
    vm, slots = preset.pool.vm_size, preset.pool.task_slots
    limit, source = max_task_slots(vm), "azrender's size table"
    subscription, region = env.get(ENV_SUBSCRIPTION, "").strip(), batch_region(preset.batch.account_url)
    if subscription and region:
        try:
            skus = (vm_skus or list_vm_skus)(subscription, region)
        except (AzureError, AzrenderError) as exc:
            source += f"; Batch's size list could not be read: {str(exc).splitlines()[0][:120]}"
        else:
            sku = skus.get(vm.lower())
            if sku is None:
                return Check(name, "fail", f"{vm} is not a VM size Batch supports in {region}",
                             f"pick one from `az batch location list-skus --location {region}`")
            if sku.vcpus:
                limit, source = min(4 * sku.vcpus, MAX_TASK_SLOTS), f"Batch in {region}: {sku.vcpus} vCPUs"
    if limit is None:
        return Check(name, "ok", f"{slots} task slot(s) per node; {vm}'s limit is checked by Batch")
    if slots > limit:
        return Check(name, "fail", f"pool.task_slots = {slots} exceeds what {vm} allows ({limit}; {source})",
                     f"set pool.task_slots to {limit} or less, or pick a larger pool.vm_size")
    return Check(name, "ok", f"{slots} task slot(s) per node (at most {limit} on {vm}; {source})")


def _check_vm_size(settings: PoolSettings, pool: Any) -> Check:
    from azrender.storage.modes import TEMP_DISK_GIB

    wanted = settings.vm_size
    if pool is not None:
        actual = str(pool.vm_size or "?")
        if actual.lower() != wanted.lower():
            return Check("vm size", "warn", f"pool {pool.id!r} runs {actual}, the preset says {wanted}",
                         f"set pool.vm_size = \"{actual}\" so pre-flight checks the right temporary disk")
        return Check("vm size", "ok", f"{actual} (the pool's)")
    # The Batch data-plane API lists no VM sizes; the service checks the size when it creates the pool.
    if wanted.lower() in TEMP_DISK_GIB:
        return Check("vm size", "ok", f"{wanted} (temporary disk {TEMP_DISK_GIB[wanted.lower()]} GiB)")
    return Check("vm size", "warn", f"{wanted} is not in azrender's size table; Batch checks it only when "
                 "it creates the pool", "check the name and the account's quota for its family in the portal")


def _check_image(
    settings: PoolSettings, pool: Any, images: list[Any], image_reference: Callable[[str], dict[str, str]]
) -> Check:
    if pool is not None:
        return Check("image", "skip", f"pool {pool.id!r} exists; its own image is used")
    try:
        ref = image_reference(settings.image)
    except AzrenderError as exc:
        return _failure("image", exc)
    if "virtualMachineImageId" in ref:
        return Check("image", "skip", "a Compute Gallery image: Batch checks it when it creates the pool")
    key = (ref["publisher"].lower(), ref["offer"].lower(), ref["sku"].lower())
    skus = sorted({
        str(i.node_agent_sku_id) for i in images
        if (str(i.image_reference.publisher).lower(), str(i.image_reference.offer).lower(),
            str(i.image_reference.sku).lower()) == key
    })
    if not skus:
        return Check("image", "fail", f"{settings.image} is not an image this Batch account supports",
                     "pick one from `az batch pool supported-images list`, or use a Compute Gallery image")
    if settings.node_agent_sku not in skus:
        return Check("image", "fail", f"{settings.image} takes node agent {', '.join(skus)}, "
                     f"not {settings.node_agent_sku!r}", f'set pool.node_agent_sku = "{skus[0]}"')
    return Check("image", "ok", f"{settings.image} with {settings.node_agent_sku}")


def _text(value: object) -> str:
    return str(getattr(value, "value", value))


# -- licence ------------------------------------------------------------------------------


def check_licence(preset: Preset, environ: Mapping[str, str], backend: str) -> Check:
    """Every variable ``pool.licence_env`` names has a value.

    A value in the preset goes to every Batch task; a name given as ``NAME=`` (no value),
    and every name when the tasks run on this machine (local backend), must be set in
    the submitting environment.
    """
    from azrender.batch.payload import licence_environment

    name = "licence server"
    wanted = licence_environment(preset.pool.licence_env)
    if not wanted:
        return Check(name, "skip", "pool.licence_env names no licence server (renderers that need none)")
    missing = [n for n, v in wanted.items() if not environ.get(n) and (backend == "local" or not v)]
    if missing:
        where = "the local node runs tasks with this machine's environment" if backend == "local" else (
            "pool.licence_env gives it no value")
        return Check(name, "fail", f"{', '.join(missing)} is not set in this environment ({where})",
                     f"set {missing[0]} (e.g. `export {missing[0]}=27000@licserver`) before submitting")
    return Check(name, "ok", ", ".join(f"{n}={v or environ.get(n, '')}" for n, v in wanted.items()))


# -- all ----------------------------------------------------------------------------------


def check_local_installs(adapter: AppAdapter, environ: Mapping[str, str]) -> Check | None:
    """The installs of an application the local node picks from (each asked its version), newest
    first; None when the adapter does not pick (its renderer on ``PATH`` runs)."""
    name = f"local {adapter.name}s"
    try:
        local = adapter.local_installs(environ)
    except AzrenderError as exc:
        return _failure(name, exc)
    if local is None:
        return None
    if not local.installs:
        return Check(name, "warn", f"no {local.program} found ({local.searched})", local.fix)
    listed = ", ".join(f"{i.version} ({i.path})" for i in local.installs)
    return Check(name, "ok", f"{listed}; a job renders with the newest not older than its scene")


def run_doctor(
    preset: Preset,
    *,
    backend: str | None = None,
    environ: Mapping[str, str] | None = None,
    batch_client: Any = None,
    now: datetime | None = None,
    vm_skus: Callable[[str, str], Mapping[str, Any]] | None = None,
) -> DoctorReport:
    """Run every check for ``preset``; ``batch_client`` and ``vm_skus`` (the Batch management
    API's VM size list) replace the real services (tests)."""
    env = os.environ if environ is None else environ
    kind = backend or preset.backend.kind
    report = DoctorReport()
    creds = check_credentials(preset.storage, env)
    report.checks.append(creds)
    if creds.status == "fail":
        for skipped in ("storage account", "assets container", "outputs container", "per-job SAS"):
            report.checks.append(Check(skipped, "skip", "needs storage credentials"))
    else:
        try:
            assets = container_client(preset.storage.assets_container, account_url=preset.storage.account_url)
            outputs = container_client(preset.storage.outputs_container, account_url=preset.storage.account_url)
        except AzrenderError as exc:
            report.checks.append(_failure("storage account", exc))
        else:
            account = check_account_kind(assets)
            report.checks.append(account)
            if account.status == "fail":
                # Unreachable or refused: every other storage call would say the same, slowly.
                for skipped in ("assets container", "outputs container", "per-job SAS"):
                    report.checks.append(Check(skipped, "skip", "needs a reachable storage account"))
            else:
                report.checks.append(check_container(assets, "assets"))
                report.checks.append(check_container(outputs, "outputs"))
                report.checks.append(check_sas(preset, env, now or datetime.now(timezone.utc)))
    if kind == "azure":
        try:
            from azrender.batch.backend import make_client

            client = batch_client or make_client(preset.batch.account_url, preset.source)
        except AzrenderError as exc:
            report.checks.append(_failure("batch account", exc))
        else:
            report.checks.extend(check_batch(preset, client, env, vm_skus))
    if kind == "local":
        for adapter in all_adapters():
            check = check_local_installs(adapter, env)
            if check is not None:
                report.checks.append(check)
    report.checks.append(check_licence(preset, env, kind))
    return report
