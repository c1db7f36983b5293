"""A lean HTTP path for the per-file blob requests: Put Blob, a ranged Get Blob, List Blobs, blocks.

Through the SDK each small blob cost about 2.7 ms of client CPU (profiled with
yappi on 2,000 files of 1-16 KB, bench/README.md): ~40 % building the request
(a ``BlobClient`` and its generated client per blob, the pipeline's policies,
signing, deserializing the answer's headers), ~15 % requests' request
preparation, ~25 % urllib3 and http.client, the rest ours; a listing's XML
went through the SDK's generated deserializer at ~7 ms per blob. Here the
very request the SDK would send goes over one keep-alive ``http.client``
connection per thread (:mod:`azrender.storage.transport`), so little more than
http.client's own work is left::

    rest = BlobRest.of(container_client)        # None: use the SDK (proxy, unknown credential)
    rest.put_blob("P/show/a.png", data, {"xxh3": entry.hash, "mtime_ns": "..."})
    got = rest.get_range("J/frames/0001.exr", 0, RANGE_SIZE, etag=None)
    listed = rest.list_blobs("J/frames/")
    rest.put_block("P/show/big.abc", block_id, data); rest.put_block_list("P/show/big.abc", ids, meta)

The requests are those of the REST reference ("Put Blob", "Get Blob", "List
Blobs", "Put Block", "Put Block List", "Get Block List",
learn.microsoft.com/rest/api/storageservices) as azure-storage-blob
12.x sends them (block ids Base64-encoded, as the SDK's ``stage_block`` and
``commit_block_list`` encode them, and decoded again from a block list): ``x-ms-version`` (the client's ``api_version``),
``x-ms-date``, ``x-ms-blob-type: BlockBlob``, a checksum of the body that the
service checks (:func:`body_checksum`: ``x-ms-content-crc64`` or ``Content-MD5``;
a body that does not match is refused with 400 ``Crc64Mismatch`` or
``Md5Mismatch``), ``x-ms-meta-*``; a range of at most 4 MiB with
``x-ms-range-get-content-md5: true``, whose ``Content-MD5`` answer is checked here.

Failures come out as the SDK's own exceptions (``ResourceNotFoundError``,
``ClientAuthenticationError``, ``ServiceRequestError``, ... with
``status_code`` and ``error_code``), so :func:`azrender.storage.retry.with_retries`
and the translator in :mod:`azrender.storage.account` treat them exactly as
before; each request is also retried like the SDK's policy would
(:data:`~azrender.storage.client.RETRY_TOTAL` times on a connection failure
or a 408/5xx), so retry counts match the SDK path.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import random
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate
from typing import NamedTuple
from urllib.parse import quote, urlencode, urlsplit
from xml.etree import ElementTree

import requests
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import ContainerClient

from azrender.storage.client import RETRY_TOTAL, cut_headers_problem
from azrender.storage.transport import STALE_ERRORS, Connections, Signer, signer_for, tls_context

try:
    # Azure Storage's CRC-64 in C, the package azure-storage-blob's own ``validate_content="crc64"``
    # computes it with (its ``ext-checksums`` extra): about 1.8x the speed of MD5 here (it holds the
    # GIL, which at 1.4 GB/s per thread is no limit on any link).
    from azure.storage.extensions.checksums import crc64 as _crc64
except ImportError:  # no wheel of it for this platform (Intel macOS): Content-MD5, as the SDK sends
    _CRC64_COMPUTE: Callable[[bytes, int], int] | None = None
else:
    _CRC64_COMPUTE = _crc64.compute

__all__ = ["BlobRest", "Listed", "Range", "body_checksum"]

#: The SDK's storage retry treats these as "try again" (azure/storage/blob/_shared/policies.py, is_retry).
_SDK_RETRY_STATUS = frozenset({408}) | (frozenset(range(500, 600)) - {501, 505})

_ERRORS: dict[int, type[HttpResponseError]] = {
    401: ClientAuthenticationError,
    403: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    412: ResourceModifiedError,
}
_MESSAGE = re.compile(rb"<Message>([^<\r\n]*)")


class Listed(NamedTuple):
    """One blob of a listing: its name, size and ETag (without quotes)."""

    name: str
    size: int
    etag: str


@dataclass(frozen=True)
class Range:
    """One answered range: its bytes, the blob's whole size and its ETag (without quotes)."""

    data: bytearray
    total: int
    etag: str


def _md5_b64(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def body_checksum(data: bytes) -> tuple[str, str]:
    """The request header by which the service refuses ``data`` damaged on the way, and its value.

    ``x-ms-content-crc64`` (Put Blob, Put Block: "Optional. A CRC64 hash of the
    blob content ... If the two hashes do not match, the operation fails with
    error code 400", versions 2019-02-02 and later; both it and Content-MD5 in
    one request are refused with 400, learn.microsoft.com/rest/api/storageservices/put-blob)
    is Base64 of the 8 little-endian bytes of Azure's CRC-64 (the CRC-64/NVME
    polynomial), as azure-storage-blob's ``calculate_crc64_bytes`` sends it.
    Where azure-storage-extensions is not installed, ``Content-MD5``. Either way
    Put Blob still stores the service's own MD5 of the blob ("When omitted ...
    the Blob service generates an MD5 hash"), which the node's azcopy checks::

        >>> body_checksum(b"123456789")[0] in {"x-ms-content-crc64", "Content-MD5"}
        True
    """
    if _CRC64_COMPUTE is None:
        return "Content-MD5", _md5_b64(data)
    crc = _CRC64_COMPUTE(data, 0)
    return "x-ms-content-crc64", base64.b64encode(crc.to_bytes(8, "little")).decode("ascii")


def _block_name(block_id: str) -> str:
    """A block id as the service takes it: Base64 of its UTF-8 bytes (the SDK's ``encode_base64``)."""
    return base64.b64encode(block_id.encode("utf-8")).decode("ascii")


def _block_id(name: str) -> str:
    """A listed block's id: its name Base64-decoded, or the name itself where that is not
    Base64 of UTF-8 text (another tool's ids; the SDK's ``BlobBlock._from_generated`` does the same)."""
    try:
        return base64.b64decode(name, validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return name


_CACHE: weakref.WeakKeyDictionary[ContainerClient, BlobRest | None] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()

class BlobRest:
    """Put Blob, ranged Get Blob, List Blobs and the block requests on one container,
    one keep-alive connection per thread."""

    def __init__(
        self,
        container_url: str,
        api_version: str,
        signer: Signer | None,
        *,
        verify: str | bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(container_url)
        self.path = parts.path.rstrip("/")
        self.query = f"?{parts.query}" if parts.query else ""
        self.api_version = api_version
        self.signer = signer
        self.sleep = sleep
        context = tls_context(verify) if parts.scheme == "https" else None
        self._conns = Connections(parts.scheme, parts.hostname or "", parts.port, context)
        self._date = (0, "")

    @classmethod
    def for_client(cls, client: ContainerClient) -> BlobRest | None:
        """The lean path for ``client``, or None where only the SDK will do: a proxy
        configured for its host, or a credential this module does not sign with."""
        served, signer = signer_for(client)
        if not served or requests.utils.get_environ_proxies(client.url):
            return None
        env = requests.Session().merge_environment_settings(client.url, {}, None, None, None)
        return cls(client.url, client.api_version, signer, verify=env.get("verify", True))

    @classmethod
    def of(cls, client: ContainerClient) -> BlobRest | None:
        """:meth:`for_client`, built once per ``client`` (and dropped with it), so callers
        that take only a client, one file at a time, share its connections."""
        with _CACHE_LOCK:
            if client not in _CACHE:
                _CACHE[client] = cls.for_client(client)
            return _CACHE[client]

    def close(self) -> None:
        """Close every connection (each thread opens its own when it is next used)."""
        self._conns.close()

    # ------------------------------------------------------------ the requests

    def put_blob(self, blob: str, data: bytes, metadata: dict[str, str]) -> None:
        """Put Blob of ``data`` (one request, overwriting), checked by the service (:func:`body_checksum`)."""
        checksum, value = body_checksum(data)
        headers = {
            "Content-Length": str(len(data)),
            checksum: value,
            "Content-Type": "application/octet-stream",
            "x-ms-blob-type": "BlockBlob",
            **{f"x-ms-meta-{k}": v for k, v in metadata.items()},
        }
        self._request("PUT", blob, headers, body=data)

    def get_range(self, blob: str, offset: int, length: int, etag: str | None) -> Range:
        """``length`` bytes of ``blob`` from ``offset`` (at most 4 MiB: the service sends
        their MD5, checked here); with ``etag``, only if the blob still has it (else 412)."""
        headers = {
            "x-ms-range": f"bytes={offset}-{offset + length - 1}",
            "x-ms-range-get-content-md5": "true",
        }
        if etag is not None:
            headers["If-Match"] = f'"{etag}"'
        try:
            data, got = self._request("GET", blob, headers)
        except HttpResponseError as exc:
            if exc.status_code != 416 or offset != 0:
                raise
            # An empty blob has no range 0: ask for the whole (empty) blob.
            del headers["x-ms-range"], headers["x-ms-range-get-content-md5"]
            data, got = self._request("GET", blob, headers)
        tail = str(got.get("Content-Range", "")).rpartition("/")[2]
        total = int(tail) if tail.isdigit() else len(data)
        expected = got.get("Content-MD5")
        if expected is not None and expected != _md5_b64(data):
            # What the SDK raises for a body that does not match its MD5 (validate_content).
            raise AzureError(
                f"MD5 mismatch. Expected value is '{expected}', computed value is '{_md5_b64(data)}'."
            )
        return Range(data, total, str(got.get("ETag", "")).strip('"'))

    def list_page(
        self, prefix: str | None, marker: str | None, page_size: int | None = None
    ) -> tuple[list[Listed], str | None]:
        """One page of List Blobs (flat, up to ``page_size`` names: the service's default and
        most is 5,000, "List Blobs", ``maxresults``) and the marker of the next, if any.

        The answer's XML ("List Blobs": ``Blobs/Blob/Name``, ``Properties/Content-Length``,
        ``Properties/Etag``, ``NextMarker``) is read with the standard library's
        C parser: the SDK's generated deserializer took ~7 ms of CPU per blob.
        """
        params = {"comp": "list", "restype": "container"}
        if prefix:
            params["prefix"] = prefix
        if marker:
            params["marker"] = marker
        if page_size is not None:
            params["maxresults"] = str(page_size)
        data, _ = self._request("GET", None, {}, params=params)
        try:
            root = ElementTree.fromstring(bytes(data))
            listed = [
                Listed(
                    name=str(b.findtext("Name")),
                    size=int(b.findtext("Properties/Content-Length") or 0),
                    etag=str(b.findtext("Properties/Etag") or "").strip('"'),
                )
                for b in root.iterfind("Blobs/Blob")
            ]
        except (ElementTree.ParseError, ValueError) as exc:  # a body cut short: try again
            raise ServiceResponseError(f"listing cut short: {exc}") from exc
        return listed, root.findtext("NextMarker") or None

    def list_blobs(self, prefix: str | None, page_size: int | None = None) -> list[Listed]:
        """Every blob under ``prefix``, page after page (each page retried like any request)."""
        out: list[Listed] = []
        marker: str | None = None
        while True:
            page, marker = self.list_page(prefix, marker, page_size)
            out.extend(page)
            if marker is None:
                return out

    def put_block(self, blob: str, block_id: str, data: bytes) -> None:
        """Put Block: stage ``data`` as block ``block_id`` of ``blob``, checked by the service
        (:func:`body_checksum`)."""
        checksum, value = body_checksum(data)
        headers = {"Content-Length": str(len(data)), checksum: value, "Content-Type": "application/octet-stream"}
        self._request("PUT", blob, headers, body=data, params={"blockid": _block_name(block_id), "comp": "block"})

    def put_block_list(self, blob: str, block_ids: list[str], metadata: dict[str, str]) -> None:
        """Put Block List: ``blob`` becomes ``block_ids`` in order (each the latest staged or
        committed block of that id) with ``metadata``; blocks not listed are deleted."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n<BlockList>'
            + "".join(f"<Latest>{_block_name(b)}</Latest>" for b in block_ids)
            + "</BlockList>"
        ).encode("ascii")
        headers = {
            "Content-Length": str(len(body)),
            "Content-MD5": _md5_b64(body),
            "Content-Type": "application/xml",
            **{f"x-ms-meta-{k}": v for k, v in metadata.items()},
        }
        self._request("PUT", blob, headers, body=body, params={"comp": "blocklist"})

    def block_sizes(self, blob: str) -> dict[str, int]:
        """Get Block List (committed and uncommitted): block id -> size; ``{}`` for no such blob."""
        try:
            data, _ = self._request("GET", blob, {}, params={"blocklisttype": "all", "comp": "blocklist"})
        except ResourceNotFoundError:
            return {}
        try:
            root = ElementTree.fromstring(bytes(data))
            return {
                _block_id(str(b.findtext("Name"))): int(b.findtext("Size") or 0) for b in root.iterfind("*/Block")
            }
        except (ElementTree.ParseError, ValueError) as exc:  # a body cut short: try again
            raise ServiceResponseError(f"block list cut short: {exc}") from exc

    # ------------------------------------------------------------ one request, retried like the SDK

    def _request(
        self,
        method: str,
        blob: str | None,
        headers: dict[str, str],
        body: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[bytearray, Message]:
        for attempt in range(RETRY_TOTAL + 1):
            try:
                return self._once(method, blob, headers, body, params)
            except (ServiceRequestError, ServiceResponseError, HttpResponseError) as exc:
                again = not isinstance(exc, HttpResponseError) or exc.status_code in _SDK_RETRY_STATUS
                if not again or attempt >= RETRY_TOTAL:
                    raise
            # ExponentialRetry(initial_backoff=1, increment_base=1, random_jitter_range=1)
            # as client_options() sets it: about 1 s, then 2 s, each +- 1 s.
            back = 1 + min(attempt, 1)
            self.sleep(random.uniform(back - 1, back + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _x_ms_date(self) -> str:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True))
        return self._date[1]

    def _once(
        self,
        method: str,
        blob: str | None,
        headers: dict[str, str],
        body: bytes | None,
        params: dict[str, str] | None = None,
    ) -> tuple[bytearray, Message]:
        path = self.path if blob is None else f"{self.path}/{quote(blob, safe='~/')}"
        sent = {**headers, "x-ms-date": self._x_ms_date(), "x-ms-version": self.api_version}
        if self.signer is not None:
            self.signer(method, path, sent, params)
        url = path + self.query
        if params:
            url += ("&" if self.query else "?") + urlencode(params, quote_via=quote)
        conn, reused = self._conns.get()
        try:
            try:
                response = _exchange(conn, method, url, body, sent)
            except STALE_ERRORS:
                if not reused:
                    raise
                self._conns.drop()  # closed by the service while idle: once more, on a new one
                conn, _ = self._conns.get()
                response = _exchange(conn, method, url, body, sent)
            problem = cut_headers_problem(method, response.status, response.msg, response)
            if problem is not None:
                raise ServiceResponseError(problem)
            data = _read_body(response)
        except ServiceRequestError:
            raise
        except (ServiceResponseError, http.client.HTTPException, OSError) as exc:
            self._conns.drop()
            if isinstance(exc, ServiceResponseError):
                raise
            raise ServiceResponseError(exc, error=exc) from exc
        if response.status >= 300:
            raise _status_error(response.status, response.reason or "", response.msg, data)
        return data, response.msg


def _exchange(
    conn: http.client.HTTPConnection, method: str, url: str, body: bytes | None, headers: dict[str, str]
) -> http.client.HTTPResponse:
    conn.request(method, url, body=body, headers=headers)
    return conn.getresponse()


def _read_body(response: http.client.HTTPResponse) -> bytearray:
    """The whole body, read into one buffer of its announced length (no chunk copies)."""
    if response.length is None:  # chunked: not what Blob storage sends for these requests
        return bytearray(response.read())  # read() to the end closes the response
    buf = bytearray(response.length)
    view = memoryview(buf)
    got = 0
    while got < len(buf):
        n = response.readinto(view[got:])
        if not n:
            raise ServiceResponseError(f"body cut short: {got} of {len(buf)} bytes")
        got += n
    response.close()  # all read: the connection takes the next request (http.client's rule)
    return buf


def _status_error(status: int, reason: str, headers: Message, body: bytearray) -> HttpResponseError:
    """The SDK's exception for an error answer, with ``status_code`` and ``error_code``."""
    code = str(headers.get("x-ms-error-code", ""))
    found = _MESSAGE.search(bytes(body[:4096]))
    detail = found.group(1).decode("utf-8", "replace") if found else reason
    exc = _ERRORS.get(status, HttpResponseError)(message=f"{detail}\nErrorCode:{code}")
    exc.status_code = status
    exc.reason = reason
    exc.error_code = code  # type: ignore[attr-defined]  # what the SDK's storage errors carry
    return exc
