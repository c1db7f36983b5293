"""The storage account: its connection string, its name, its endpoints, and what its failures mean.

Everything azrender knows about reaching an account lives here, once, for the
blob and the Azure Files clients and for the Batch side that signs SAS tokens::

    parts = connection_parts(os.environ[CONNECTION_STRING_ENV])   # keys lower-cased
    account_name_of("http://127.0.0.1:10000/devstoreaccount1")    # 'devstoreaccount1'
    with translating("uploading assets", BLOB, endpoint, "assets", blob):
        ...                                                       # SDK errors -> one line

The key names of a connection string (``AccountName``, ``AccountKey``,
``BlobEndpoint``, ``EndpointSuffix``, ``DefaultEndpointsProtocol``,
``SharedAccessSignature``, ``UseDevelopmentStorage``) are the ones documented in
"Configure Azure Storage connection strings" (learn.microsoft.com); keys are
case-insensitive there, so they are lower-cased here.

Failures come out as :class:`StorageError` subclasses saying what went wrong
(:class:`StorageUnreachable`, :class:`StorageRefused`, :class:`StorageNotFound`),
with a message naming the endpoint and the container or share, never a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from azrender.errors import StorageError
from azrender.storage.retry import TRANSPORT_ERRORS

CONNECTION_STRING_ENV = "AZURE_STORAGE_CONNECTION_STRING"

R = TypeVar("R")

_EMULATOR_HOSTS = ("127.0.0.1", "localhost", "::1")


class StorageUnreachable(StorageError):
    """The endpoint did not answer (down, wrong URL, no network)."""


class StorageRefused(StorageError):
    """The service refused the credential (401/403)."""


class StorageNotFound(StorageError):
    """The container, share, blob or file does not exist."""


# ---------------------------------------------------------------- connection strings


def connection_parts(conn: str) -> dict[str, str]:
    """A storage connection string's ``key=value`` parts, keys lower-cased.

    >>> connection_parts("AccountName=a;AccountKey=k==;BlobEndpoint=http://127.0.0.1:1/a")["accountkey"]
    'k=='
    """
    out: dict[str, str] = {}
    for item in conn.split(";"):
        key, eq, value = item.partition("=")
        if eq:
            out[key.strip().lower()] = value.strip()
    return out


def connection_account(conn: str) -> str | None:
    """``AccountName`` of a connection string, or None.

    >>> connection_account("DefaultEndpointsProtocol=https;AccountName=abc;AccountKey=k")
    'abc'
    """
    return connection_parts(conn).get("accountname")


def connection_blob_endpoint(conn: str) -> str | None:
    """The blob endpoint a connection string names (``BlobEndpoint``, or built from the
    account name, protocol and suffix), without a trailing slash; None when it names neither.

    >>> connection_blob_endpoint("AccountName=abc;AccountKey=k")
    'https://abc.blob.core.windows.net'
    """
    parts = connection_parts(conn)
    if parts.get("blobendpoint"):
        return parts["blobendpoint"].rstrip("/")
    if parts.get("accountname"):
        suffix = parts.get("endpointsuffix", "core.windows.net")
        return f"{parts.get('defaultendpointsprotocol', 'https')}://{parts['accountname']}.blob.{suffix}"
    return None


def key_connection_string(account: str, key: str, blob_endpoint: str) -> str:
    """A connection string for an account key and an explicit blob endpoint (the emulator's form).

    >>> key_connection_string("a", "k==", "http://127.0.0.1:1/a")
    'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k==;BlobEndpoint=http://127.0.0.1:1/a;'
    """
    scheme = urlsplit(blob_endpoint).scheme or "https"
    return (
        f"DefaultEndpointsProtocol={scheme};"
        f"AccountName={account};AccountKey={key};"
        f"BlobEndpoint={blob_endpoint};"
    )


# ---------------------------------------------------------------- account names and endpoints


def account_name_of(account_url: str) -> str:
    """``acct`` from ``https://acct.blob.core.windows.net`` or ``http://127.0.0.1:10000/acct``.

    An emulator (a local host, or a host without dots) names the account in the
    path's first segment; a cloud endpoint in the host's first label.

    >>> account_name_of("http://127.0.0.1:10000/devstoreaccount1/")
    'devstoreaccount1'
    """
    parts = urlsplit(account_url)
    host = parts.hostname or ""
    if host in _EMULATOR_HOSTS or not host.count("."):
        return parts.path.strip("/").split("/")[0]
    return host.split(".")[0]


def azure_account_name(account_url: str | None) -> str | None:
    """The account name of a public-cloud endpoint; None for emulators and no URL.

    What a Batch mount needs: an emulator account cannot be mounted on a node.

    >>> azure_account_name("https://abc.blob.core.windows.net"), azure_account_name("http://127.0.0.1:10000/a")
    ('abc', None)
    """
    if not account_url:
        return None
    if (urlsplit(account_url).hostname or "").endswith(".core.windows.net"):
        return account_name_of(account_url)
    return None


def files_account_url(account: str) -> str:
    """The Files endpoint of a storage account.

    >>> files_account_url("abcrender")
    'https://abcrender.file.core.windows.net'
    """
    return f"https://{account}.file.core.windows.net"


# ---------------------------------------------------------------- secrets out of messages

_SECRET_PATTERNS = (
    # AccountKey=...; in connection strings (base64, ends at ; or whitespace/quote)
    re.compile(r"(?i)(AccountKey=)[^;\s'\"]+"),
    re.compile(r"(?i)(SharedAccessSignature=)[^;\s'\"]+"),
    # sig= inside a SAS query string
    re.compile(r"(?i)([?&]sig=)[^&\s'\"]+"),
    re.compile(r"(?i)(\bsig=)[^&\s'\"]+"),
)


def redact(text: str) -> str:
    """Mask account keys and SAS signatures so ``text`` can be printed or logged.

    >>> redact("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc+/=;")
    'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;'
    >>> redact("https://a.blob.core.windows.net/c?sv=2022-11-02&sig=xYz%3D&se=1")
    'https://a.blob.core.windows.net/c?sv=2022-11-02&sig=***&se=1'
    """
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def public_url(url: str) -> str:
    """``url`` without its query string (where a SAS token lives).

    >>> public_url("https://a.blob.core.windows.net/c?sv=1&sig=abc")
    'https://a.blob.core.windows.net/c'
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def endpoint_of(url: str, container: str) -> str:
    """The account endpoint of a container or share URL, without its SAS token.

    >>> endpoint_of("https://a.blob.core.windows.net/c?sig=x", "c")
    'https://a.blob.core.windows.net'
    """
    endpoint = public_url(url).rstrip("/")
    suffix = "/" + container
    if endpoint.endswith(suffix):
        endpoint = endpoint[: -len(suffix)]
    return redact(endpoint)


def first_line(exc: BaseException) -> str:
    """The first line of an SDK error, redacted and short enough for a one-line message."""
    text = str(getattr(exc, "message", None) or exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return redact(line)[:200]


# ---------------------------------------------------------------- what a failure means


def failure_kind(exc: AzureError) -> str:
    """What an Azure Storage error means to the user, whichever service raised it:
    ``unreachable``, ``refused`` (credential), ``not-found``, ``answered`` (another
    HTTP status) or ``failed``."""
    status = getattr(exc, "status_code", None)
    if isinstance(exc, (ServiceRequestError, ServiceResponseError)) and status is None:
        return "unreachable"
    if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
        return "refused"
    if isinstance(exc, ResourceNotFoundError) or status == 404:
        return "not-found"
    return "answered" if isinstance(exc, HttpResponseError) else "failed"


@dataclass(frozen=True)
class Service:
    """How one storage service is named in messages, and what to tell the user to check.

    Templates take ``{what}``, ``{endpoint}``, ``{container}`` (the container or
    share name), ``{item}`` (the blob or file path) and ``{where}``.
    """

    name: str  # "blob storage"
    speaker: str  # who "answered" / "refused"
    container_word: str  # "container" / "share"
    item_word: str  # "blob" / "file"
    container_missing_code: str
    unreachable_hint: str
    refused_hint: str
    container_missing_hint: str
    item_missing: str
    item_missing_hint: str
    failed: str
    broken_hint: str


#: What each service's messages say, side by side: (blob storage, Azure Files).
_WORDING: dict[str, tuple[str, str]] = {
    "name": ("blob storage", "Azure Files"),
    "speaker": ("storage", "Azure Files"),
    "container_word": ("container", "share"),
    "item_word": ("blob", "file"),
    "container_missing_code": ("ContainerNotFound", "ShareNotFound"),
    "unreachable_hint": (
        "check the account URL / that Azurite is running, and the network",
        "check [azure_files] account in the preset, and the network",
    ),
    "refused_hint": (
        "sign in with `az login` or check the connection string / SAS expiry and permissions",
        "sign in with `az login` (needs the Storage File Data Privileged Contributor role) "
        "or check the connection string",
    ),
    "container_missing_hint": (
        "create it (`azrender upload` does) or check the container name in the preset",
        "create it in the portal or check [azure_files] share in the preset",
    ),
    "item_missing": (
        "{what}: blob {item!r} not found in container {container!r} at {endpoint}",
        "{what}: {where} not found at {endpoint}",
    ),
    "item_missing_hint": ("upload the job again", "upload again"),
    "failed": (
        "{what}: storage request failed for {where} at {endpoint}",
        "{what}: request failed for {where} at {endpoint}",
    ),
    "broken_hint": (
        "check the network and run again; what finished is not sent again",
        "check the network and run again; files already complete are not sent again",
    ),
}
BLOB = Service(**{field: texts[0] for field, texts in _WORDING.items()})
FILES = Service(**{field: texts[1] for field, texts in _WORDING.items()})


def found_or_none(fetch: Callable[[], R], service: Service) -> R | None:
    """``fetch()``, or None when the blob or file it asks about is not there.

    A missing container or share is still raised: that is not "not uploaded
    yet" but a wrong name, which the caller's translator names.
    """
    try:
        return fetch()
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == service.container_missing_code:
            raise
        return None


def translate(
    exc: AzureError, what: str, service: Service, endpoint: str, container: str, item: str | None
) -> StorageError:
    """One line for an SDK failure: what was done, on which container/share and item, where."""
    where = f"{service.container_word} {container!r}" + (
        f", {service.item_word} {item!r}" if item else ""
    )
    fields = {
        "what": what,
        "endpoint": endpoint,
        "container": container,
        "item": item,
        "where": where,
    }
    status = getattr(exc, "status_code", None)
    code = str(getattr(exc, "error_code", "") or "")
    kind = failure_kind(exc)
    if kind == "unreachable":
        return StorageUnreachable(
            f"{what}: cannot reach {service.name} at {endpoint}: {first_line(exc)}",
            hint=service.unreachable_hint,
        )
    if kind == "refused":
        return StorageRefused(
            f"{what}: {service.speaker} refused the credential for {where} at {endpoint}",
            hint=service.refused_hint,
        )
    if code == service.container_missing_code or (kind == "not-found" and not item):
        return StorageNotFound(
            f"{what}: {service.container_word} {container!r} does not exist at {endpoint}",
            hint=service.container_missing_hint,
        )
    if kind == "not-found":
        return StorageNotFound(
            service.item_missing.format(**fields), hint=service.item_missing_hint
        )
    if kind == "answered":
        return StorageError(
            f"{what}: {service.speaker} answered {status} {code}".rstrip()
            + f" for {where} at {endpoint}",
            hint=first_line(exc),
        )
    return StorageError(f"{service.failed.format(**fields)}: {first_line(exc)}")


@contextmanager
def translating(
    what: str, service: Service, endpoint: str, container: str, item: str | None = None
) -> Iterator[None]:
    """Turn azure-core and transport failures inside the block into one-line :class:`StorageError` s."""
    try:
        yield
    except StorageError:
        raise
    except AzureError as exc:
        raise translate(exc, what, service, endpoint, container, item) from exc
    except TRANSPORT_ERRORS as exc:
        raise StorageError(
            f"{what}: the connection to {service.name} at {endpoint} kept breaking: "
            f"{first_line(exc)}",
            hint=service.broken_hint,
        ) from exc
