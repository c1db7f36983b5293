"""A loopback TCP proxy that breaks connections on purpose: resets, stalls, cut bodies.

::

    with FaultProxy(azurite.port, faults=("reset", "stall", "cut"), rate=0.3, max_faults=10) as proxy:
        conn = proxy.connection_string(azurite.connection_string)
        ...                                      # talk to Azurite through 127.0.0.1:proxy.port
    proxy.injected                               # Counter({"reset": 4, "cut": 3, "stall": 3})

Each accepted connection is picked for a fault with probability ``rate``
(seeded, so a run is repeatable) until ``max_faults`` have been injected; the
fault fires after a random number of bytes in a random direction:

- ``reset``: the client sees a TCP RST (``SO_LINGER`` 0) mid-request or mid-response;
- ``stall``: the data stops for ``stall_s`` seconds, then the connection closes;
- ``cut``: the server's answer is forwarded only in part, then closed (a short body).

``bytes_per_s`` throttles every connection (for kill-midway tests);
``bytes_down`` counts what the server sent through the proxy.

Response-side cuts aimed at one kind of request: ``response_cuts`` reads the
HTTP requests going up (the SDK never pipelines: the next answer on a
connection belongs to the last request), and for a request of one of
``cut_kinds`` (:func:`request_kind`: ``index`` GET, ``block`` PUT, ``commit``,
``range`` GET, ``put`` blob, ``list``) it cuts the answer either inside its status
line and headers (``head``) or inside its body (``body``; an answer without
a body is cut in its headers instead): the first answers of each kind get
each cut once, later ones are cut with probability ``rate``, at most
``max_faults`` per kind::

    with FaultProxy(port, response_cuts=("head", "body"), cut_kinds=("index", "range"),
                    rate=0.3, max_faults=6) as proxy: ...
    proxy.injected      # Counter({"index:head": 3, "range:body": 5, ...})

Everything is bounded: faults by ``max_faults``, stalls by ``stall_s``.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from types import TracebackType


class FaultProxy:
    def __init__(
        self,
        target_port: int,
        *,
        faults: tuple[str, ...] = (),
        rate: float = 0.0,
        max_faults: int = 0,
        stall_s: float = 1.5,
        seed: int = 0,
        bytes_per_s: float | None = None,
        max_offset: int = 300_000,
        response_cuts: tuple[str, ...] = (),
        cut_kinds: tuple[str, ...] = ("index", "block", "commit", "range", "put", "list"),
    ) -> None:
        self.target_port = target_port
        self.faults = faults
        self.rate = rate
        self.max_faults = max_faults
        self.stall_s = stall_s
        self.bytes_per_s = bytes_per_s
        self.max_offset = max_offset
        self.response_cuts = response_cuts
        self.cut_kinds = cut_kinds
        self.injected: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.connections = 0
        self.bytes_down = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FaultProxy:
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            _close(s)

    def connection_string(self, azurite_connection_string: str) -> str:
        """The same account, reached through this proxy."""
        return azurite_connection_string.replace(f":{self.target_port}/", f":{self.port}/")

    # ------------------------------------------------------------------ plumbing

    def _plan(self) -> tuple[str, int, str] | None:
        """(fault, byte offset, direction) for a new connection, or None."""
        with self._lock:
            self.connections += 1
            if not self.faults or sum(self.injected.values()) >= self.max_faults:
                return None
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.faults)
            self.injected[kind] += 1
            direction = "down" if kind == "cut" else self._rng.choice(("up", "down"))
            return kind, self._rng.randrange(0, self.max_offset), direction

    def _accept_loop(self) -> None:
        self._server.settimeout(0.2)
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._socks += [client, upstream]
            if self.response_cuts:
                _HttpCutter(self, client, upstream).start()
                continue
            plan = self._plan()
            state = {"dead": False}
            for src, dst, direction in ((client, upstream, "up"), (upstream, client, "down")):
                fault = plan if plan is not None and plan[2] == direction else None
                t = threading.Thread(
                    target=self._pump, args=(src, dst, client, upstream, fault, state), daemon=True
                )
                t.start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        client: socket.socket,
        upstream: socket.socket,
        fault: tuple[str, int, str] | None,
        state: dict[str, bool],
    ) -> None:
        sent = 0
        try:
            while not state["dead"]:
                data = src.recv(65536)
                if not data:
                    break
                if fault is not None and sent + len(data) > fault[1]:
                    kind, offset, _ = fault
                    keep = max(0, offset - sent)
                    if keep:
                        dst.sendall(data[:keep])
                    if kind == "stall":
                        time.sleep(self.stall_s)
                    state["dead"] = True
                    if kind == "reset":
                        _reset(client)
                    _close(client)
                    _close(upstream)
                    return
                dst.sendall(data)
                sent += len(data)
                if src is upstream:
                    with self._lock:
                        self.bytes_down += len(data)
                if self.bytes_per_s:
                    time.sleep(len(data) / self.bytes_per_s)
        except OSError:
            pass
        state["dead"] = True
        _close(client)
        _close(upstream)


    def _pick_cut(self, kind: str) -> str | None:
        """The cut for the answer to a request of ``kind``, or None.

        The first answers of each kind get every cut in turn (so a rare
        request, like the one commit of a file, is always hit); after that
        each is cut with probability ``rate``, at most ``max_faults`` per kind.
        """
        with self._lock:
            seen = self.requests[kind]
            self.requests[kind] += 1
            if kind not in self.cut_kinds:
                return None
            done = sum(n for k, n in self.injected.items() if k.startswith(f"{kind}:"))
            if done >= self.max_faults:
                return None
            if seen < len(self.response_cuts):
                return self.response_cuts[seen]
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.response_cuts)

    def _count(self, fault: str) -> None:
        with self._lock:
            self.injected[fault] += 1

    def _randrange(self, lo: int, hi: int) -> int:
        with self._lock:
            return self._rng.randrange(lo, hi)


def request_kind(head: bytes) -> str:
    """What a blob request does, from its request line and headers.

    >>> request_kind(b"PUT /acct/c/a.exr?comp=block&blockid=x HTTP/1.1\\r\\n")
    'block'
    >>> request_kind(b"GET /acct/c/.azrender/index.json HTTP/1.1\\r\\nx-ms-range: bytes=0-33554431\\r\\n")
    'index'
    """
    line, _, rest = head.partition(b"\r\n")
    method, _, target = line.partition(b" ")
    path, _, query = target.split(b" ")[0].partition(b"?")
    lower = rest.lower()
    if method == b"PUT":
        if b"comp=blocklist" in query:
            return "commit"
        if b"comp=block" in query:
            return "block"
        return "put" if not query or b"comp=" not in query else "other"
    if method == b"GET" and b"comp=list" in query:
        return "list"
    if method == b"GET" and b"comp=" not in query and b"restype=" not in query:
        if path.endswith(b"/.azrender/index.json"):
            return "index"
        if b"\r\nx-ms-range:" in b"\r\n" + lower or b"\r\nrange:" in b"\r\n" + lower:
            return "range"
    return "other"


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


class _HttpCutter:
    """One proxied connection that reads requests going up and cuts chosen answers."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.armed: str | None = None  # "<kind>:<cut>" for the next answer
        self.lock = threading.Lock()
        self.dead = False

    def start(self) -> None:
        for target in (self._up, self._down):
            threading.Thread(target=target, daemon=True).start()

    def _kill(self) -> None:
        self.dead = True
        _close(self.client)
        _close(self.upstream)

    def _up(self) -> None:
        buf = b""
        body_left = 0
        try:
            while not self.dead:
                data = self.client.recv(65536)
                if not data:
                    break
                # Arm before forwarding: a quick server answers as soon as the
                # request is up, and an answer read before its cut is armed
                # would pass whole (and the cut land on the next one).
                buf += data
                while True:
                    if body_left:
                        take = min(body_left, len(buf))
                        buf, body_left = buf[take:], body_left - take
                        if body_left:
                            break
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head, buf = buf[: end + 4], buf[end + 4 :]
                    kind = request_kind(head)
                    body_left = _content_length(head)
                    cut = self.proxy._pick_cut(kind)
                    with self.lock:
                        self.armed = f"{kind}:{cut}" if cut else None
                self.upstream.sendall(data)
        except OSError:
            pass
        self._kill()

    def _down(self) -> None:
        pending = b""  # bytes of an armed answer held until its headers are complete
        try:
            while not self.dead:
                data = self.upstream.recv(65536)
                if not data:
                    break
                with self.proxy._lock:
                    self.proxy.bytes_down += len(data)
                with self.lock:
                    armed = self.armed
                if armed is None:
                    self.client.sendall(data)
                    continue
                pending += data
                end = pending.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = pending[: end + 4]
                body = _content_length(head)
                if b"transfer-encoding: chunked" in head.lower():
                    body = max(1, len(pending) - end - 4)  # cut within what has come so far
                kind, cut = armed.split(":")
                if cut == "body" and body > 0:
                    keep = end + 4 + self.proxy._randrange(0, body)
                else:
                    cut = "head"
                    keep = self.proxy._randrange(1, end + 2)  # never the blank line that ends them
                self.proxy._count(f"{kind}:{cut}")
                self.client.sendall(pending[:keep])
                break
        except OSError:
            pass
        self._kill()


def _reset(sock: socket.socket) -> None:
    """Make the coming close send RST, and wake a thread blocked reading it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
        sock.close()
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    # shutdown wakes the pump thread blocked in recv() on this socket; close alone does not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
