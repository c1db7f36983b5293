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
list ranges        ``GET /share/path?comp=rangelist``             200 / 404
rename             ``PUT /share/new?comp=rename``                 200 / 404 / 409 / 400
get properties     ``HEAD /share/path``                           200 / 404
get (download)     ``GET /share/path`` (+ ``x-ms-range``)         200 / 206 / 416 / 404
=================  =============================================  =========

Rename File follows the REST reference: the source is the URL in
``x-ms-file-rename-source`` (same share); an existing destination is replaced
only with ``x-ms-file-rename-replace-if-exists: true`` (else 409
``ResourceAlreadyExists``), a read-only one only with
``x-ms-file-rename-ignore-readonly: true`` as well (else 409
``ReadOnlyAttribute``; ignore-readonly without replace-if-exists is 400
``InvalidHeaderValue``); a directory in the way is 409 ``ResourceTypeMismatch``,
a missing source 404 ``ResourceNotFound``, a missing target folder 404
``ParentNotFound``. The file keeps its data, properties and metadata unless
``x-ms-meta-*`` headers replace the metadata.

List Ranges answers the spans Put Range wrote, merged where they touch, as
``<Ranges><Range><Start/><End/></Range>…</Ranges>`` (inclusive ends), paged by
``maxresults`` and ``marker`` like the service.

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

- ``cut_after_ranges``: once that many more put-range requests were applied,
  every request fails as a broken connection (the uploader is gone midway)
  until the test sets it back to None.

``renames`` records every rename with whether every byte of the source had
been written: a file that becomes visible under its final name half-written
would show up there. With ``is_part`` (a predicate on paths naming the
uploader's temporary files), every state the share passes through is checked:
a file under any other name that is not complete or has no ``xxh3`` metadata
is recorded in ``exposed``.

:meth:`serve` plays the same share over real HTTP on 127.0.0.1, for an
uploader in another process (one a test can kill); ``range_delay`` slows each
put range down so it can be caught midway.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.sax.saxutils import escape

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
    read_only: bool = False

    def complete(self) -> bool:
        """True when every byte was written by some Put Range."""
        covered = 0
        for start, end in sorted(self.written):
            if start > covered:
                return False
            covered = max(covered, end)
        return covered >= self.size

    def spans(self) -> list[tuple[int, int]]:
        """The written spans, sorted and merged where they overlap or touch."""
        out: list[tuple[int, int]] = []
        for start, end in sorted(self.written):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        return out


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
        self.cut_after_ranges: int | None = None
        self.is_part: Callable[[str], bool] | None = None
        self.exposed: list[str] = []
        self.range_delay = 0.0
        self.in_flight = 0
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

    def _check_exposed(self, op: str) -> None:
        """Record every file outside a part name that is incomplete or undescribed."""
        if self.is_part is None:
            return
        for f in self.files.values():
            if self.is_part(f.name):
                continue
            if not f.complete() or "xxh3" not in f.metadata:
                self.exposed.append(
                    f"after {op}: {f.name} ({sum(e - s for s, e in f.spans())}/{f.size} bytes, "
                    f"metadata {sorted(f.metadata)})"
                )

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
        if op == "put_range" and self.range_delay:
            time.sleep(self.range_delay)
        with self._lock:
            if self.cut_after_ranges is not None and self.cut_after_ranges <= 0:
                raise ServiceResponseError("Connection refused (injected: the uploader is gone)")
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
            if op == "put_range" and status < 300 and self.cut_after_ranges is not None:
                self.cut_after_ranges -= 1
            self._check_exposed(op)
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
        if method == "GET" and comp == "rangelist":
            return "list_ranges"
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

    @staticmethod
    def _flag(headers: dict[str, str], name: str) -> bool | None:
        """A boolean header: None when absent, else its value (anything but true/false is 400)."""
        value = headers.get(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{name}: {value!r} is not true or false")
        return value.lower() == "true"

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
        try:
            replace = self._flag(headers, "x-ms-file-rename-replace-if-exists")
            ignore_ro = self._flag(headers, "x-ms-file-rename-ignore-readonly")
        except ValueError as exc:
            return self._fail(400, "InvalidHeaderValue", str(exc))
        if ignore_ro and not replace:
            return self._fail(
                400,
                "InvalidHeaderValue",
                "x-ms-file-rename-ignore-readonly requires x-ms-file-rename-replace-if-exists: true",
            )
        source_url = urlsplit(headers["x-ms-file-rename-source"])
        share, _, source = unquote(source_url.path).lstrip("/").partition("/")
        src = self.files.get(source.casefold()) if share == self.share else None
        if src is None:
            return self._fail(404, "ResourceNotFound", "The specified resource does not exist.")
        if not self._parent_ok(path):
            return self._fail(404, "ParentNotFound", "The specified parent path does not exist.")
        if path.casefold() in self.dirs:
            return self._fail(
                409, "ResourceTypeMismatch", "The specified resource type does not match."
            )
        dest = self.files.get(path.casefold())
        if dest is not None and dest is not src:
            if not replace:
                return self._fail(
                    409, "ResourceAlreadyExists", "The specified resource already exists."
                )
            if dest.read_only and not ignore_ro:
                return self._fail(409, "ReadOnlyAttribute", "The specified resource is read-only.")
        self.renames.append(Rename(src.name, path, src.complete()))
        del self.files[source.casefold()]
        src.name = path
        meta = {k[len("x-ms-meta-") :]: v for k, v in headers.items() if k.startswith("x-ms-meta-")}
        if meta:
            src.metadata = meta
        self.files[path.casefold()] = src
        return 200, self._file_headers(src), b""

    def op_list_ranges(self, path: str, query: dict[str, str], headers: Any, body: bytes) -> Any:
        f = self.files.get(path.casefold())
        if f is None:
            return self._fail(404, "ResourceNotFound", "The specified resource does not exist.")
        spans = f.spans()
        first = int(query.get("marker") or 0)
        limit = int(query.get("maxresults") or 5000)
        page = spans[first : first + limit]
        more = first + limit < len(spans)
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><Ranges>'
            + "".join(f"<Range><Start>{s}</Start><End>{e - 1}</End></Range>" for s, e in page)
            + (f"<NextMarker>{escape(str(first + limit))}</NextMarker>" if more else "")
            + "</Ranges>"
        ).encode()
        out = {
            "ETag": f'"0x{f.etag:016X}"',
            "Last-Modified": format_datetime(datetime.now(timezone.utc), usegmt=True),
            "x-ms-content-length": str(f.size),
            "Content-Type": "application/xml",
        }
        return 200, out, xml

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


class _Request:
    """The little of an azure-core request that :meth:`FakeFilesService.send` reads."""

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.url, self.headers, self.content = method, url, headers, body


def _handler(service: FakeFilesService, base: str) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client died mid-body: the service never sees it
                self.close_connection = True
                return
            with service._lock:
                service.in_flight += 1
            try:
                request = _Request(self.command, base + self.path, dict(self.headers), body)
                try:
                    response = service.send(request)
                except ServiceResponseError:
                    self.close_connection = True  # a dropped connection: no answer at all
                    return
                self.send_response(response.status_code)
                content = response.body()
                for key, value in response.headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)
            finally:
                with service._lock:
                    service.in_flight -= 1

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _any

    return Handler


@contextmanager
def serve(service: FakeFilesService) -> Iterator[str]:
    """Play ``service`` over HTTP on 127.0.0.1; yields a connection string for it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = _handler(service, base)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        key = CONNECTION_STRING.split("AccountKey=")[1].split(";")[0]
        yield f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};FileEndpoint={base}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _range(header: str | None) -> tuple[int, int] | None:
    """``bytes=0-4`` -> ``(0, 5)`` (end exclusive)."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[len("bytes=") :].partition("-")
    if not first.isdigit() or not last.isdigit():
        return None
    return int(first), int(last) + 1
