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

``bytes_per_s`` throttles every connection (for kill-midway tests).
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
    ) -> None:
        self.target_port = target_port
        self.faults = faults
        self.rate = rate
        self.max_faults = max_faults
        self.stall_s = stall_s
        self.bytes_per_s = bytes_per_s
        self.max_offset = max_offset
        self.injected: Counter[str] = Counter()
        self.connections = 0
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
                if self.bytes_per_s:
                    time.sleep(len(data) / self.bytes_per_s)
        except OSError:
            pass
        state["dead"] = True
        _close(client)
        _close(upstream)


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
