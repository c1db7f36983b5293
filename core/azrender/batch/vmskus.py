"""The VM sizes Batch supports in a region, asked of the Batch management API.

The Batch data-plane API (what :class:`azure.batch.BatchClient` speaks) lists no
VM sizes; the management API does: ``Location - List Supported Virtual Machine
Skus`` (``GET https://management.azure.com/subscriptions/{sub}/providers/
Microsoft.Batch/locations/{region}/virtualMachineSkus?api-version=2024-07-01``,
each SKU with ``capabilities`` such as ``vCPUs`` and ``MaxResourceVolumeMB``, the
temporary disk; paged by ``nextLink``). It needs the subscription
(``AZURE_SUBSCRIPTION_ID``) and the region, which the Batch account URL names::

    skus = list_vm_skus("00000000-...", batch_region(preset.batch.account_url))
    skus["standard_d4s_v5"].vcpus   # 4
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

ARM = "https://management.azure.com"
API_VERSION = "2024-07-01"
ENV_SUBSCRIPTION = "AZURE_SUBSCRIPTION_ID"
#: Pages read at most (the service pages a region's few hundred sizes in a handful).
MAX_PAGES = 50


@dataclass(frozen=True)
class VmSku:
    """One VM size as Batch lists it."""

    name: str
    vcpus: int | None
    temp_disk_mb: int | None


def batch_region(account_url: str | None) -> str | None:
    """``https://acct.westeurope.batch.azure.com`` -> ``westeurope``; None when the URL does not say.

    >>> batch_region("https://abc.westeurope.batch.azure.com"), batch_region("http://127.0.0.1:1")
    ('westeurope', None)
    """
    host = urlsplit(account_url or "").hostname or ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[2] == "batch":
        return parts[1]
    return None


def _capability(sku: dict[str, Any], name: str) -> int | None:
    for item in sku.get("capabilities") or []:
        if item.get("name") == name:
            try:
                return int(float(str(item.get("value"))))
            except ValueError:
                return None
    return None


def list_vm_skus(
    subscription: str, region: str, *, credential: Any = None, transport: Any = None
) -> dict[str, VmSku]:
    """Every VM size Batch supports in ``region``, by lower-case name.

    ``credential`` defaults to DefaultAzureCredential; ``transport`` is azure-core's
    (tests hand in their own). Raises azure-core's errors when the service refuses.
    """
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
    from azure.core.rest import HttpRequest

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    policies = [RetryPolicy(retry_total=3), BearerTokenCredentialPolicy(credential, f"{ARM}/.default")]
    kwargs: dict[str, Any] = {"transport": transport} if transport is not None else {}
    client: Any = PipelineClient(base_url=ARM, policies=policies, **kwargs)
    url: str | None = (
        f"{ARM}/subscriptions/{quote(subscription)}/providers/Microsoft.Batch/locations/{quote(region)}"
        f"/virtualMachineSkus?api-version={API_VERSION}"
    )
    out: dict[str, VmSku] = {}
    for _ in range(MAX_PAGES):
        if not url:
            break
        response = client.send_request(HttpRequest("GET", url))
        response.raise_for_status()
        response.read()
        page = response.json()
        for sku in page.get("value") or []:
            name = str(sku.get("name", ""))
            out[name.lower()] = VmSku(name, _capability(sku, "vCPUs"), _capability(sku, "MaxResourceVolumeMB"))
        url = page.get("nextLink")
    return out
