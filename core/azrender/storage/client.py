"""Reach a blob container, and turn every SDK failure into one line the user can act on.

Three ways in, in the order a workstation or node meets them::

    client = container_client("assets")                  # AZURE_STORAGE_CONNECTION_STRING (Azurite)
    client = container_client("assets", account_url="https://acct.blob.core.windows.net")
    client = container_client_from_url(os.environ["AZRENDER_ASSETS_CONTAINER_URL"])  # SAS URL

Wrap calls in :func:`storage_errors` so a dead endpoint or a refused credential
reads ``error: uploading assets: cannot reach blob storage at http://… (check …)``
instead of a traceback::

    with storage_errors("creating container", client=client):
        ensure_container(client)

Messages never carry secrets: everything that might echo a connection string or
SAS URL goes through :func:`redact`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

import requests
from azure.core.exceptions import (
    ResourceExistsError,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import ContainerClient, ExponentialRetry
from urllib3.exceptions import HeaderParsingError, ProtocolError
from urllib3.util import response as urllib3_response
from urllib3.util.retry import Retry

from azrender.errors import StorageError
from azrender.storage.account import (
    BLOB,
    CONNECTION_STRING_ENV,
    endpoint_of,
    public_url,
    redact,
    translating,
)

__all__ = [
    "CONNECTION_STRING_ENV",
    "client_options",
    "container_client",
    "container_client_from_url",
    "describe",
    "ensure_container",
    "public_url",  # from azrender.storage.account, where secrets are handled
    "redact",
    "storage_errors",
]

# The SDK's default storage retry waits 15 s, then 18 s, then 24 s (plus a 20 s
# connect timeout per try): an unreachable endpoint would hang for minutes.
# Two retries ~2 s apart and a 5 s connect timeout keep the worst case under
# 20 s (3 x 5 s + 2 x 2 s) while still riding out a brief network blip.
CONNECTION_TIMEOUT_S = 5
READ_TIMEOUT_S = 120
RETRY_TOTAL = 2


#: Connections kept open per host: the upload's workers plus the block workers of
#: the large files they send at the same time. requests keeps 10 by default, so
#: more requests in flight than that opened and dropped a connection each time.
POOL_CONNECTIONS = 64


class _KeepAuthorization(requests.auth.AuthBase):
    """Session auth that leaves each request's own headers as the SDK signed them."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


class _EnvOncePerHostSession(requests.Session):
    """A requests session that reads the environment's proxy and CA-bundle settings
    once per host instead of on every request.

    requests scans every environment variable (twice, for the proxies and the
    ``NO_PROXY`` bypass) on each call; with thousands of small blobs that was
    a sizeable part of the client's CPU time. The settings come out the same
    (the very same requests code computes them), read when a host is first used.
    """

    def __init__(self) -> None:
        super().__init__()
        self._env: dict[tuple[object, ...], dict[str, Any]] = {}
        self._env_lock = threading.Lock()
        # With no session auth, requests looks up ~/.netrc on every request and, for a
        # host listed there, replaces the SDK's Authorization header (Shared Key,
        # bearer token) with Basic auth: the storage would answer 403.
        self.auth = _KeepAuthorization()

    def merge_environment_settings(  # type: ignore[no-untyped-def]
        self, url, proxies, stream, verify, cert
    ):
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify,
            cert if not isinstance(cert, list) else tuple(cert),
        )
        with self._env_lock:
            found = self._env.get(key)
        if found is None:
            found = super().merge_environment_settings(url, proxies, stream, verify, cert)
            with self._env_lock:
                self._env[key] = found
        # A copy: requests may add to the proxies mapping of one request.
        return {**found, "proxies": dict(found.get("proxies") or {})}


#: Answers that carry no body by definition (RFC 9112 §6.3): no framing header needed.
_BODYLESS_STATUS = frozenset({204, 304})


def cut_headers_problem(method: str, status: int, headers: Any, original: object) -> str | None:
    """What is wrong with an answer whose headers were cut short, or None.

    http.client ends the header block at end-of-file as if at the blank line,
    and urllib3 only logs the damage (``HeaderParsingError``), so a cut head
    reached the SDK as an answer with headers missing or half-written (a
    ``DeserializationError`` on a date, a ``Content-Range`` ``ValueError``, or
    silently a body of length 0). Two signs: parse defects (a line without a
    colon) in ``original`` (http.client's response), or a body-carrying answer
    with neither ``Content-Length`` nor ``Transfer-Encoding`` (RFC 9112 §6.3:
    the body would run to connection close, which Blob storage and Azurite
    never use).
    """
    message = getattr(original, "msg", None)
    if message is not None:
        try:
            urllib3_response.assert_header_parsing(message)
        except HeaderParsingError as exc:
            return f"response headers cut short ({exc})"
    if (
        method != "HEAD"
        and status >= 200
        and status not in _BODYLESS_STATUS
        and "Content-Length" not in headers
        and "Transfer-Encoding" not in headers
    ):
        return "response headers cut short (no Content-Length or Transfer-Encoding)"
    return None


def _cut_headers(response: requests.Response, *args: object, **kwargs: object) -> None:
    """Refuse an answer whose headers were cut short (:func:`cut_headers_problem`), as a
    broken connection: urllib3's ``ProtocolError`` inside requests' ``ConnectionError``,
    which azure-core turns into ``ServiceResponseError``, retried like any dropped answer."""
    problem = cut_headers_problem(
        str(response.request.method),
        response.status_code,
        response.headers,
        getattr(response.raw, "_original_response", None),
    )
    if problem is not None:
        response.close()
        raise requests.exceptions.ConnectionError(ProtocolError(problem), response=response)


def blob_transport() -> RequestsTransport:
    """The HTTP transport of every azrender blob client: the SDK's requests transport
    with a connection pool sized for our parallel uploads and the environment
    (proxies, CA bundle) read once per host."""
    session = _EnvOncePerHostSession()
    # As azure-core sets up its own session: it retries in its pipeline, never in urllib3.
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4,
        pool_maxsize=POOL_CONNECTIONS,
        max_retries=Retry(total=False, redirect=False, raise_on_status=False),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(_cut_headers)
    return RequestsTransport(
        session=session,
        session_owner=True,
        connection_timeout=CONNECTION_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def client_options() -> dict[str, Any]:
    """Keyword arguments every azrender blob client is built with (timeouts, retries, transport).

    Each call makes a new transport: one per client, shared by the blob
    clients it hands out.
    """
    return {
        "connection_timeout": CONNECTION_TIMEOUT_S,
        "read_timeout": READ_TIMEOUT_S,
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=1, retry_total=RETRY_TOTAL, random_jitter_range=1
        ),
        "transport": blob_transport(),
    }


def container_client(container: str, *, account_url: str | None = None) -> ContainerClient:
    """A client for ``container``, from the connection string in the environment or an account URL.

    ``AZURE_STORAGE_CONNECTION_STRING`` wins when set (that is how Azurite and
    key-based accounts are reached); otherwise ``account_url`` is used with
    ``DefaultAzureCredential`` (``az login``, managed identity, ...).
    """
    conn = os.environ.get(CONNECTION_STRING_ENV, "").strip()
    if conn:
        try:
            return ContainerClient.from_connection_string(conn, container, **client_options())
        except ValueError as exc:
            # The SDK's message may quote the string; say only which variable is wrong.
            raise StorageError(
                f"{CONNECTION_STRING_ENV} is not a valid storage connection string",
                hint="copy it again from the portal (Access keys) or unset it to use `az login`",
            ) from exc
    if account_url:
        # Imported here: azure.identity is slow to import and not needed with a key or SAS.
        from azure.identity import DefaultAzureCredential

        return ContainerClient(
            account_url=account_url,
            container_name=container,
            credential=DefaultAzureCredential(),
            **client_options(),
        )
    raise StorageError(
        f"no storage account configured for container {container!r}",
        hint=f"set {CONNECTION_STRING_ENV} or give the account URL (preset `account_url`)",
    )


def container_client_from_url(url: str) -> ContainerClient:
    """A client for a container URL, usually carrying a SAS token (as Azure Batch hands out)."""
    try:
        return ContainerClient.from_container_url(url, **client_options())
    except ValueError as exc:
        raise StorageError(
            f"not a blob container URL: {redact(public_url(url))}",
            hint="expected https://<account>.blob.core.windows.net/<container>?<sas>",
        ) from exc


def ensure_container(client: ContainerClient) -> None:
    """Create the container unless it exists already (a race with another creator is fine)."""
    with storage_errors("creating container", client=client), suppress(ResourceExistsError):
        client.create_container()


def describe(client: ContainerClient | None) -> tuple[str, str]:
    """(endpoint, container) of ``client`` for messages, without any SAS token."""
    if client is None:
        return "the storage account", "?"
    return endpoint_of(client.url, client.container_name), client.container_name


@contextmanager
def storage_errors(
    what: str, *, client: ContainerClient | None = None, blob: str | None = None
) -> Iterator[None]:
    """Map azure-core exceptions raised inside the block to one-line :class:`StorageError`.

    ``what`` says what was being done ("uploading assets"); ``client`` and
    ``blob`` name the endpoint, container and blob in the message.
    """
    endpoint, container = describe(client)
    with translating(what, BLOB, endpoint, container, blob):
        yield
