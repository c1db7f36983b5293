"""A fake Azure Files service, played through an azure-core transport.

Azurite has no File service, so the real ``ShareClient`` talks to this
in-memory share instead. It answers the REST subset the uploader uses, as the
service does (status codes, ``x-ms-error-code``, XML error bodies):

=================  =============================================  =========
operation          request                                        answer
=================  =============================================  =========
create share       ``PUT /share?restype=share``                   201 / 409
create directory   ``PUT /share/dir?restype=directory``           201 / 409 / 404
create file        ``PUT /share/path`` + ``x-ms-type: file``      201 / 404
put range          ``PUT /share/path?comp=range``                 201 / 404 / 416 / 400
rename             ``PUT /share/new?comp=rename``                 200 / 404 / 409
get properties     ``HEAD /share/path``                           200 / 404
get (download)     ``GET /share/path`` (+ ``x-ms-range``)         200 / 206 / 416 / 404
=================  =============================================  =========

Every request is checked: ``x-ms-version`` (the SDK's version, and one that
knows rename), ``x-ms-date``, an ``Authorization`` for the account,
``x-ms-file-request-intent: backup`` with a bearer token, the range header and
Content-MD5 of every range. A bad request is recorded in ``invalid`` and
answered 400. Names are case-insensitive and case-preserving, as on the service.

Faults a test can queue (all bounded, consumed as they are used):

- ``faults[op]``: statuses (503, 500, ...) to answer the next requests of ``op``
  with, before doing anything;
- ``path_faults[path]``: the same, for any request on that exact path (one
  file's part, say, while the others go through);
- ``drop_ranges``: the next N put-range requests are cut off before the
  service applies them (the client sees a dropped connection);
- ``lose_answers[op]``: the next N requests of ``op`` are applied, then the
  answer is lost on the way back.

``renames`` records every rename with whether every byte of the source had
been written: a file that becomes visible under its final name half-written
would show up there.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import requests
from azure.core.exceptions import ServiceResponseError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._requests_basic import (
    RestRequestsTransportResponse as RequestsTransportResponse,
)
from azure.storage.fileshare import ShareClient

ACCOUNT = "abcrender"
#: A syntactically valid connection string for the fake account (the key is not secret).
CONNECTION_STRING = (
    f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};"
    "AccountKey=ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktbm90LWEtc2VjcmV0;EndpointSuffix=core.windows.net"
)
#: The first version with Rename File.
MIN_API_VERSION = "2021-04-10"


def sdk_api_version() -> str:
    """The x-ms-version the installed SDK sends."""
    return str(ShareClient("https://x.file.core.windows.net", "s", credential="a2V5").api_version)


@dataclass
class FakeFile:
    name: str  # as created (case preserved)
    size: int
    data: bytearray
    metadata: dict[str, str]
    written: list[tuple[int, int]] = field(default_factory=list)  # [start, end) spans written
    etag: int = 1

    def complete(self) -> bool:
        """True when every byte was written by some Put Range."""
        covered = 0
        for start, end in sorted(self.written):
            if start > covered:
                return False
            covered = max(covered, end)
        return covered >= self.size


@dataclass
class Rename:
    source: str
    target: str
    complete: bool


class FakeFilesService(HttpTransport):  # type: ignore[misc]
    def __init__(self, share: str = "show-abc", *, exists: bool = True) -> None:
        self.share = share
        self.share_exists = exists
        self.api_version = sdk_api_version()
        self.dirs: dict[str, str] = {}  # casefolded path -> path as created
        self.files: dict[str, FakeFile] = {}  # casefolded path -> file
        self.requests: list[tuple[str, str]] = []  # (op, path)
        self.invalid: list[str] = []
        self.faults: dict[str, list[int]] = {}
        self.path_faults: dict[str, list[int]] = {}
        self.drop_ranges = 0
        self.lose_answers: dict[str, int] = {}
        self.renames: list[Rename] = []
        self.range_bytes = 0
        self._lock = threading.RLock()

    # -- what tests look at ---------------------------------------------------------------
    def file(self, path: str) -> FakeFile | None:
        return self.files.get(path.casefold())

    def content(self, path: str) -> bytes | None:
        f = self.file(path)
        return bytes(f.data) if f is not None else None

    def paths(self) -> set[str]:
        """Every file on the share by the name it was created with."""
        return {f.name for f in self.files.values()}

    def count(self, op: str) -> int:
        return sum(1 for o, _ in self.requests if o == op)

    # -- transport plumbing ---------------------------------------------------------------
    def __enter__(self) -> FakeFilesService:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: Any, **kwargs: Any) -> RequestsTransportResponse:
        parts = urlsplit(request.url)
        query = dict(parse_qsl(parts.query))
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = request.content if hasattr(request, "content") else request.body
        body = bytes(body) if isinstance(body, (bytes, bytearray)) else b""
        share, _, path = unquote(parts.path).lstrip("/").partition("/")
        path = path.strip("/")
        op = self._op(request.method.upper(), query, headers, path)
        with self._lock:
            self.requests.append((op, path))
            problem = self._check(op, headers, body, share)
            if problem:
                self.invalid.append(f"{op} {path}: {problem}")
                return self._error(request, 400, "InvalidHeaderValue", problem)
            queued = self.path_faults.get(path) or self.faults.get(op)
            if queued:
                status = queued.pop(0)
                return self._error(request, status, "ServerBusy", "injected failure")
            if op == "put_range" and self.drop_ranges > 0:
                self.drop_ranges -= 1
                raise ServiceResponseError("Connection reset by peer (injected: range dropped)")
            if not self.share_exists and op != "create_share":
                return self._error(
                    request, 404, "ShareNotFound", "The specified share does not exist."
                )
            status, out_headers, content = getattr(self, "op_" + op)(path, query, headers, body)
            if self.lose_answers.get(op, 0) > 0 and status < 300:
                self.lose_answers[op] -= 1
                raise ServiceResponseError("Connection reset by peer (injected: answer lost)")
        if status >= 400:
            code, message = out_headers.pop("code"), out_headers.pop("message")
            return self._error(request, status, code, message)
        return self._reply(request, status, out_headers, content)

    @staticmethod
    def _op(method: str, query: dict[str, str], headers: dict[str, str], path: str) -> str:
        restype, comp = query.get("restype"), query.get("comp")
        if method == "PUT" and restype == "share":
            return "create_share"
        if method == "PUT" and restype == "directory" and comp is None:
            return "create_directory"
        if method == "PUT" and comp == "range":
            return "put_range"
        if method == "PUT" and comp == "rename":
            return "rename"
        if method == "PUT" and comp is None and headers.get("x-ms-type", "").lower() == "file":
            return "create_file"
        if method == "HEAD" and not query:
            return "get_properties"
        if method == "GET" and not query:
            return "get_file"
        return f"unsupported {method} {sorted(query.items())}"

    def _check(self, op: str, headers: dict[str, str], body: bytes, share: str) -> str | None:
        if op.startswith("unsupported"):
            return f"the fake does not play {op}"
        if share != self.share:
            return f"request for share {share!r}, the fake plays {self.share!r}"
        version = headers.get("x-ms-version")
        if version != self.api_version or version < MIN_API_VERSION:
            return f"x-ms-version {version!r} (expected {self.api_version})"
        if "x-ms-date" not in headers:
            return "no x-ms-date"
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if headers.get("x-ms-file-request-intent") != "backup":
                return "OAuth on Files needs x-ms-file-request-intent: backup"
        elif not auth.startswith(f"SharedKey {ACCOUNT}:"):
            return f"no credential for account {ACCOUNT!r}"
        if op == "create_file" and not headers.get("x-ms-content-length", "").isdigit():
            return "create file without x-ms-content-length"
        if op == "put_range":
            if headers.get("x-ms-write") != "update":
                return "put range is not x-ms-write: update"
            span = _range(headers.get("x-ms-range"))
            if span is None or span[1] - span[0] != len(body):
                return f"x-ms-range {headers.get('x-ms-range')!r} does not match a {len(body)}-byte body"
            if len(body) > 4 << 20:
                return "a range may carry at most 4 MiB"
            md5 = headers.get("content-md5")
            if md5 is not None and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
                return "Content-MD5 does not match the body"
        if op == "rename" and "x-ms-file-rename-source" not in headers:
            return "rename without x-ms-file-rename-source"
        return None

    def _reply(
        self, request: Any, status: int, headers: dict[str, str], content: bytes = b""
    ) -> RequestsTransportResponse:
        response = requests.Response()
        response.status_code = status
        response._content = content
        response.headers.update(
            {
                "x-ms-version": self.api_version,
                "x-ms-request-id": "fake",
                "Date": format_datetime(datetime.now(timezone.utc), usegmt=True),
                **headers,
            }
        )
        response.headers.setdefault("Content-Length", str(len(content)))
        response.url = request.url
        response.reason = "fake"
        response._content_consumed = True
        return RequestsTransportResponse(request=request, internal_response=response)

    def _error(
        self, request: Any, status: int, code: str, message: str
    ) -> RequestsTransportResponse:
        xml = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ).encode()
        headers = {"x-ms-error-code": code, "Content-Type": "application/xml"}
        if request.method.upper() == "HEAD":
            xml = b""
        return self._reply(request, status, headers, xml)

    @staticmethod
    def _fail(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        return status, {"code": code, "message": message}, b""

    def _file_headers(self, f: FakeFile) -> dict[str, str]:
        return {
            "ETag": f'"0x{f.etag:016X}"',
            "Last-Modified": format_datetime(datetime.now(timezone.utc), usegmt=True),
            "x-ms-type": "File",
            "x-ms-server-encrypted": "true",
            **{f"x-ms-meta-{k}": v for k, v in f.metadata.items()},
        }

    def _parent_ok(self, path: str) -> bool:
        parent = path.rpartition("/")[0]
        return not parent or parent.casefold() in self.dirs

    # -- operations -----------------------------------------------------------------------
    def op_create_share(self, path: str, query: Any, headers: Any, body: bytes) -> Any:
        if self.share_exists:
            return self._fail(409, "ShareAlreadyExists", "The specified share already exists.")
        self.share_exists = True
        return 201, {"ETag": '"0x1"'}, b""

    def op_create_directory(self, path: str, query: Any, headers: Any, body: bytes) -> Any:
        key = path.casefold()
        if key in self.dirs or key in self.files:
            return self._fail(
                409, "ResourceAlreadyExists", "The specified resource already exists."
            )
        if not self._parent_ok(path):
            return self._fail(404, "ParentNotFound", "The specified parent path does not exist.")
        self.dirs[key] = path
        return 201, {"ETag": '"0x1"'}, b""

    def op_create_file(self, path: str, query: Any, headers: dict[str, str], body: bytes) -> Any:
        if not self._parent_ok(path):
            return self._fail(404, "ParentNotFound", "The specified parent path does not exist.")
        if path.casefold() in self.dirs:
            return self._fail(409, "ResourceTypeMismatch", "A directory has that name.")
        size = int(headers["x-ms-content-length"])
        meta = {k[len("x-ms-meta-") :]: v for k, v in headers.items() if k.startswith("x-ms-meta-")}
        old = self.files.get(path.casefold())
        self.files[path.casefold()] = FakeFile(
            path, size, bytearray(size), meta, etag=(old.etag + 1 if old else 1)
        )
        return 201, self._file_headers(self.files[path.casefold()]), b""

    def op_put_range(self, path: str, query: Any, headers: dict[str, str], body: bytes) -> Any:
        f = self.files.get(path.casefold())
        if f is None:
            return self._fail(404, "ResourceNotFound", "The specified resource does not exist.")
        start, end = _range(headers["x-ms-range"])  # type: ignore[misc]
        if end > f.size:
            return self._fail(416, "InvalidRange", "The range is beyond the end of the file.")
        f.data[start:end] = body
        f.written.append((start, end))
        f.etag += 1
        self.range_bytes += len(body)
        return 201, {"ETag": f'"0x{f.etag:016X}"'}, b""

    def op_rename(self, path: str, query: Any, headers: dict[str, str], body: bytes) -> Any:
        source_url = urlsplit(headers["x-ms-file-rename-source"])
        share, _, source = unquote(source_url.path).lstrip("/").partition("/")
        src = self.files.get(source.casefold())
        if share != self.share or src is None:
            return self._fail(404, "ResourceNotFound", "The specified source does not exist.")
        if not self._parent_ok(path):
            return self._fail(404, "ParentNotFound", "The specified parent path does not exist.")
        replace = headers.get("x-ms-file-rename-replace-if-exists") == "true"
        if path.casefold() in self.files and not replace:
            return self._fail(
                409, "ResourceAlreadyExists", "The specified resource already exists."
            )
        self.renames.append(Rename(src.name, path, src.complete()))
        del self.files[source.casefold()]
        src.name = path
        meta = {k[len("x-ms-meta-") :]: v for k, v in headers.items() if k.startswith("x-ms-meta-")}
        if meta:
            src.metadata = meta
        self.files[path.casefold()] = src
        return 200, self._file_headers(src), b""

    def op_get_properties(self, path: str, query: Any, headers: Any, body: bytes) -> Any:
        f = self.files.get(path.casefold())
        if f is None:
            return self._fail(404, "ResourceNotFound", "The specified resource does not exist.")
        return 200, {**self._file_headers(f), "Content-Length": str(f.size)}, b""

    def op_get_file(self, path: str, query: Any, headers: dict[str, str], body: bytes) -> Any:
        f = self.files.get(path.casefold())
        if f is None:
            return self._fail(404, "ResourceNotFound", "The specified resource does not exist.")
        wanted = headers.get("x-ms-range") or headers.get("range")
        if not wanted:
            return 200, self._file_headers(f), bytes(f.data)
        text = wanted.split("=", 1)[1]
        first, _, last = text.partition("-")
        start = int(first)
        if start >= f.size:
            return self._fail(416, "InvalidRange", "The range specified is invalid.")
        end = min(f.size, int(last) + 1) if last else f.size
        out = {**self._file_headers(f), "Content-Range": f"bytes {start}-{end - 1}/{f.size}"}
        return 206, out, bytes(f.data[start:end])


def _range(header: str | None) -> tuple[int, int] | None:
    """``bytes=0-4`` -> ``(0, 5)`` (end exclusive)."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[len("bytes=") :].partition("-")
    if not first.isdigit() or not last.isdigit():
        return None
    return int(first), int(last) + 1
