"""What the Batch service or the network would refuse later, refused before anything is created.

Pure functions of the preset; the Azure backend calls :func:`check_pool_settings`
when it is made (before a submit uploads anything) and :func:`plan_batch
<azrender.batch.payload.plan_batch>` again for dry runs::

    for problem in pool_problems(preset):
        print(problem.message)        # one line each

- **Auto-pool + identity**: ``BatchPoolSpecification`` (what an auto-pool is made
  from, ``azure.batch.models``) has no ``identity`` field, so an auto-pool never
  carries ``pool.identity`` and every identity-based mount, resource file and
  output upload would fail on its nodes.
- **Task slots**: ``taskSlotsPerNode`` is at most the smaller of 4 x the VM size's
  cores and 256 (REST/SDK docs of ``taskSlotsPerNode``); :data:`VCPUS` knows the
  common render sizes, unknown sizes are left to the service.
- **Private servers**: a pool azrender creates joins no virtual network unless
  ``pool.subnet_id`` is set (``networkConfiguration.subnetId``), so an NFS/CIFS
  server or licence server on a private address (RFC 1918) or a name that public
  DNS cannot resolve (no dot, ``.local``, ``.internal``, ...) is unreachable.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from azrender.errors import UsageError
from azrender.presets import Preset
from azrender.presets.model import BatchSettings

#: vCPUs of common render VM sizes (lower-case names; the number in a D/E/F name is its
#: vCPU count, Azure's "sizes" pages per family). Constrained-core sizes are not listed.
VCPUS: dict[str, int] = {
    **{f"standard_d{n}s_v3": n for n in (2, 4, 8, 16, 32, 48, 64)},
    **{f"standard_d{n}_v3": n for n in (2, 4, 8, 16, 32, 48, 64)},
    **{f"standard_d{n}{s}_v4": n for n in (2, 4, 8, 16, 32, 48, 64) for s in ("s", "ds", "d")},
    **{f"standard_d{n}{s}_v5": n for n in (2, 4, 8, 16, 32, 48, 64, 96) for s in ("s", "ds", "as", "ads", "d")},
    **{f"standard_e{n}{s}_v5": n for n in (2, 4, 8, 16, 20, 32, 48, 64, 96) for s in ("s", "ds", "as", "ads", "d")},
    **{f"standard_e{n}s_v3": n for n in (2, 4, 8, 16, 20, 32, 48, 64)},
    **{f"standard_f{n}s_v2": n for n in (2, 4, 8, 16, 32, 48, 64, 72)},
    **{f"standard_hb{n}rs_v3": n for n in (16, 32, 64, 96, 120)},
    "standard_nc4as_t4_v3": 4, "standard_nc8as_t4_v3": 8, "standard_nc16as_t4_v3": 16,
    "standard_nc64as_t4_v3": 64,
    "standard_nv12s_v3": 12, "standard_nv24s_v3": 24, "standard_nv48s_v3": 48,
    "standard_nv6ads_a10_v5": 6, "standard_nv12ads_a10_v5": 12, "standard_nv18ads_a10_v5": 18,
    "standard_nv36ads_a10_v5": 36, "standard_nv72ads_a10_v5": 72,
}  # fmt: skip

#: Upper bound of taskSlotsPerNode whatever the size.
MAX_TASK_SLOTS = 256

#: Name suffixes that only private DNS resolves (RFC 6762 .local, RFC 8375 .home.arpa, common ones).
PRIVATE_SUFFIXES = (".local", ".internal", ".lan", ".corp", ".home.arpa", ".intranet", ".localdomain")

@dataclass(frozen=True)
class Problem:
    """One setting the service or the network would refuse: stable code, one line, what to do."""

    code: str
    message: str
    hint: str


def max_task_slots(vm_size: str) -> int | None:
    """min(4 x vCPUs, 256) for a size in :data:`VCPUS`, else None.

    >>> max_task_slots("Standard_D4s_v5"), max_task_slots("Standard_HB120rs_v3"), max_task_slots("Custom_X")
    (16, 256, None)
    """
    cores = VCPUS.get(vm_size.lower())
    return None if cores is None else min(4 * cores, MAX_TASK_SLOTS)


def is_private_host(host: str) -> bool:
    """A host only a private network reaches: an RFC 1918/loopback/link-local address, or a
    name public DNS does not have.

    >>> [is_private_host(h) for h in ("10.1.0.4", "172.20.1.1", "fs01", "lic.studio.local", "20.1.2.3", "nfs.example.com")]
    [True, True, True, True, False, False]
    """
    host = host.strip().strip("[]").rstrip(".").lower()
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host or host.endswith(PRIVATE_SUFFIXES)
    return address.is_private or address.is_loopback or address.is_link_local


def share_host(mode: str, source: str) -> str:
    """The server of an NFS (``host:/export``) or CIFS (``//host/share``, ``\\\\host\\share``) source.

    >>> share_host("nfs", "10.1.0.4:/exports/show"), share_host("cifs", "\\\\\\\\fs01\\\\projects")
    ('10.1.0.4', 'fs01')
    """
    if mode == "nfs":
        return source.rsplit(":", 1)[0] if ":" in source else source
    return source.replace("\\", "/").lstrip("/").split("/", 1)[0]


def licence_hosts(spec: str | None) -> list[str]:
    """Hosts in ``pool.licence_env`` values: ``port@host`` (FlexLM, RLM), several joined by
    ``:``/``;``/``,``; values without ``@`` (licence files) are not hosts.

    >>> licence_hosts("ADSKFLEX_LICENSE_FILE=27000@lic1:27000@10.0.0.9 RLM_LICENSE=5053@rlm.example.com X=")
    ['lic1', '10.0.0.9', 'rlm.example.com']
    """
    hosts: list[str] = []
    for item in (spec or "").split():
        value = item.partition("=")[2]
        for part in re.split(r"[;:,]", value):
            if "@" in part:
                host = part.rsplit("@", 1)[1].strip()
                if host:
                    hosts.append(host)
    return hosts


def creates_pool(batch: BatchSettings) -> bool:
    """azrender writes the pool's settings (``create``, or an auto-pool per job)."""
    return batch.pool_mode in ("create", "auto")


def pool_problems(preset: Preset) -> list[Problem]:
    """Every problem of the preset's pool settings, in a stable order (none: the pool is sound)."""
    pool = preset.pool
    out: list[Problem] = []
    if preset.batch.pool_mode == "auto" and pool.identity:
        out.append(Problem(
            "auto-pool-identity",
            f"{preset.source}: an auto-pool cannot carry pool.identity (Batch's BatchPoolSpecification "
            "has no identity)",
            "create the pool with its identity (portal or ARM) and use batch.pool_mode = \"existing\", "
            "or drop pool.identity and use batch.node_access = \"sas\"",
        ))  # fmt: skip
    limit = max_task_slots(pool.vm_size)
    if creates_pool(preset.batch) and limit is not None and pool.task_slots > limit:
        out.append(Problem(
            "too-many-task-slots",
            f"{preset.source}: pool.task_slots = {pool.task_slots} exceeds what {pool.vm_size} allows "
            f"({limit}: 4 per vCPU, at most {MAX_TASK_SLOTS})",
            f"set pool.task_slots to {limit} or less, or pick a larger pool.vm_size",
        ))  # fmt: skip
    if creates_pool(preset.batch) and not pool.subnet_id:
        private = []
        if preset.storage.mode in ("nfs", "cifs") and preset.share.source:
            host = share_host(preset.storage.mode, preset.share.source)
            if is_private_host(host):
                private.append(f"the {preset.storage.mode} server {host}")
        private += [f"the licence server {h}" for h in licence_hosts(pool.licence_env) if is_private_host(h)]
        if private:
            out.append(Problem(
                "private-server-without-subnet",
                f"{preset.source}: {private[0]} is on a private network, but the pool azrender creates "
                "joins no virtual network (pool.subnet_id is not set)",
                "set pool.subnet_id to a subnet of a virtual network that reaches it "
                "(/subscriptions/.../virtualNetworks/<vnet>/subnets/<subnet>)",
            ))  # fmt: skip
    return out


def check_pool_settings(preset: Preset) -> None:
    """Raise :class:`UsageError` for the first of :func:`pool_problems`."""
    problems = pool_problems(preset)
    if problems:
        raise UsageError(problems[0].message, hint=problems[0].hint)
