"""How the lean REST path (:mod:`azrender.storage.rest`) reaches the service: who it says it is, over what.

Authorization, as the SDK's policies do it: Shared Key ("Authorize with Shared
Key", learn.microsoft.com/rest/api/storageservices: the string-to-sign of
version 2015-02-21 and later, the canonicalized resource ``/<account><encoded
path>`` and its query parameters, as azure-storage-blob's
``SharedKeyCredentialPolicy`` builds it), or a bearer token of a
``TokenCredential`` for the scope ``https://storage.azure.com/.default``
("Authorize access to blobs using Microsoft Entra ID"); a SAS needs nothing
here (it is in the URL).

Connections: one keep-alive ``http.client`` connection per thread, checked
before reuse as urllib3's pool does, with the SDK path's timeouts and CA bundle.
"""

from __future__ import annotations

import base64
import hmac
import http.client
import select
import socket
import ssl
import threading
import time
import weakref
from typing import Any, Protocol

from azure.core.exceptions import ServiceRequestError
from azure.storage.blob import ContainerClient

from azrender.storage.client import CONNECTION_TIMEOUT_S, READ_TIMEOUT_S

__all__ = [
    "STALE_ERRORS",
    "Bearer",
    "Connections",
    "SharedKey",
    "Signer",
    "StorageScope",
    "signer_for",
    "tls_context",
]

#: The OAuth scope of Azure Storage ("Authorize access to blobs using Microsoft Entra ID").
StorageScope = "https://storage.azure.com/.default"
#: A token is renewed this long before it expires (azure-core's bearer policy waits for 300 s too).
TOKEN_MARGIN_S = 300


class Signer(Protocol):
    def __call__(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, str] | None = None
    ) -> None: ...


class SharedKey:
    """Shared Key signing of the requests built here (their ``x-ms-*`` names sort alike
    by code point and by the service's collation: no ``-``/``_`` ties among them)."""

    def __init__(self, account: str, key: str) -> None:
        self.account = account
        self.key = base64.b64decode(key)

    def __call__(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, str] | None = None
    ) -> None:
        length = headers.get("Content-Length", "")
        query = "".join(f"\n{k.lower()}:{v}" for k, v in sorted((params or {}).items()))
        canonical = "".join(
            f"{name}:{headers[name]}\n" for name in sorted(h for h in headers if h.startswith("x-ms-"))
        )
        to_sign = (
            f"{method}\n\n\n{'' if length == '0' else length}\n{headers.get('Content-MD5', '')}\n"
            f"{headers.get('Content-Type', '')}\n\n\n{headers.get('If-Match', '')}\n"
            f"{headers.get('If-None-Match', '')}\n\n\n{canonical}/{self.account}{path}{query}"
        )
        digest = hmac.digest(self.key, to_sign.encode("utf-8"), "sha256")  # the one-shot C path
        headers["Authorization"] = f"SharedKey {self.account}:{base64.b64encode(digest).decode()}"


class Bearer:
    """A bearer token from a ``TokenCredential``, fetched again shortly before it expires."""

    def __init__(self, credential: Any) -> None:
        self.credential = credential
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def __call__(
        self, method: str, path: str, headers: dict[str, str], params: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            if self._token is None or self._token[1] - TOKEN_MARGIN_S < time.time():
                got = self.credential.get_token(StorageScope)
                self._token = (str(got.token), float(got.expires_on))
            token = self._token[0]
        headers["Authorization"] = f"Bearer {token}"


def signer_for(client: ContainerClient) -> tuple[bool, Signer | None]:
    """(whether this path can authorize requests to ``client``, how: None for a SAS in the URL)."""
    cred = client.credential
    if cred is None:
        return True, None  # a SAS in the URL, or anonymous access
    key, account = getattr(cred, "account_key", None), getattr(cred, "account_name", None)
    if isinstance(key, str) and isinstance(account, str):
        return True, SharedKey(account, key)
    if callable(getattr(cred, "get_token", None)):
        return True, Bearer(cred)
    return False, None  # AzureNamedKeyCredential, AzureSasCredential, ...: left to the SDK


def dropped(sock: socket.socket) -> bool:
    """True if an idle keep-alive connection was closed by the other end (it reads as ready)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Connections:
    """One keep-alive ``http.client`` connection per thread to one host; :meth:`close` ends all.

    A connection that sat idle may have been closed by the service: it is
    checked (one ``select``) before it is used again, as urllib3's pool does.
    """

    def __init__(self, scheme: str, host: str, port: int | None, context: ssl.SSLContext | None) -> None:
        self.scheme, self.host, self.port, self.context = scheme, host, port, context
        self._local = threading.local()
        #: Every open connection and the thread it belongs to (closed once that thread is gone).
        self._all: list[tuple[weakref.ref[threading.Thread], http.client.HTTPConnection]] = []
        self._lock = threading.Lock()

    def get(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it served a request before."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and not dropped(conn.sock):
            return conn, True
        if conn is not None:
            conn.close()
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=CONNECTION_TIMEOUT_S, context=self.context
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=CONNECTION_TIMEOUT_S)
        try:
            conn.connect()
        except OSError as exc:  # refused, unknown host, connect timeout, TLS handshake
            conn.close()
            raise ServiceRequestError(exc, error=exc) from exc
        assert conn.sock is not None
        conn.sock.settimeout(READ_TIMEOUT_S)
        self._local.conn = conn
        with self._lock:
            # A thread pool's threads end with each parallel run: their connections go too.
            for owner, old in self._all:
                if owner() is None:
                    old.close()
            self._all = [(o, c) for o, c in self._all if o() is not None]
            self._all.append((weakref.ref(threading.current_thread()), conn))
        return conn, False

    def drop(self) -> None:
        """Close this thread's connection (after a failure: never reuse a half-read one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        with self._lock:
            for _, conn in self._all:
                conn.close()
            self._all.clear()


def tls_context(verify: str | bool) -> ssl.SSLContext:
    """Certificates checked against requests' CA bundle (certifi, or REQUESTS_CA_BUNDLE), as the SDK path."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


#: Failures of a reused keep-alive connection that mean the service closed it while idle.
STALE_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
