"""The value checks of preset keys: each gets the dotted key path and the value (already of the
key's type) and returns (what is wrong, what to do about it), or None when the value is fine.

The regular expressions here are also the JSON schema's ``pattern`` values of the same keys
(:mod:`azrender.presets.fields` uses both), so the editor and the loader agree.
"""

from __future__ import annotations

import difflib
import re
from urllib.parse import urlsplit

from azrender.presets.spec import Check, Problem

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


def _show(value: str, limit: int = 40) -> str:
    """A value quoted for an error message, shortened if long."""
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pattern_check(pattern: re.Pattern[str], what: str, hint: str) -> Check:
    """A check that a string matches ``pattern``; otherwise "`key` "value" is not ``what``", ``hint``."""

    def check(key: str, value: object) -> Problem | None:
        assert isinstance(value, str)
        if pattern.match(value):
            return None
        return f"`{key}` {_show(value)} is not {what}", hint

    return check


check_name = pattern_check(
    NAME_RE, "a valid preset name",
    "use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
)  # fmt: skip


# --- storage modes ([blobfuse], [azure_files], [share], [[paths]]) ----------------------

MOUNT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STORAGE_ACCOUNT_RE = re.compile(r"^[a-z0-9]{3,24}$")
SHARE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")


check_mount_name = pattern_check(
    MOUNT_NAME_RE, "a valid mount folder name",
    "use 1-64 letters, digits, `.`, `_` or `-` (it becomes $AZ_BATCH_NODE_MOUNTS_DIR/<name>)",
)  # fmt: skip


check_storage_account = pattern_check(
    STORAGE_ACCOUNT_RE, "a storage account name",
    "use the account name only (3-24 lowercase letters and digits), not its URL",
)  # fmt: skip


check_share = pattern_check(
    SHARE_RE, "a valid Azure Files share name", "use 3-63 lowercase letters, digits and single hyphens"
)  # fmt: skip


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


# --- Azure Batch ([batch], [pool]) ------------------------------------------------------

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


check_batch_id = pattern_check(
    BATCH_ID_RE, "a valid Batch id", "use 1-64 letters, digits, hyphens and underscores"
)  # fmt: skip


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
    return pattern_check(pattern, what, f"use /subscriptions/<sub>/resourceGroups/<rg>/providers/{form}")


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
