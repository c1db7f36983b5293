"""The fault proxy's own contract: which answers it cuts, and where.

The sync fault tests lean on it ("the first answers of each kind get each cut
once"), so it is held here against a server that answers at once: the
quickest answer is where a cut armed too late would let an answer pass whole.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from fault_proxy import FaultProxy

BODY = b"<EnumerationResults>" + b"x" * 4000 + b"</EnumerationResults>"
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
    + b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
LIST = b"GET /devstoreaccount1/c?restype=container&comp=list HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
def quick_server() -> Iterator[int]:
    """A loopback server that answers every request head the moment it has it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    closing = threading.Event()

    def serve(conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    _, _, buf = buf.partition(b"\r\n\r\n")
                    try:
                        conn.sendall(ANSWER)
                    except OSError:
                        return

    def accept() -> None:
        while not closing.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield int(server.getsockname()[1])
    closing.set()
    server.close()


def _ask(sock: socket.socket) -> bytes:
    """Send one listing request and read its answer until it is whole or the line closes."""
    sock.sendall(LIST)
    got = b""
    while len(got) < len(ANSWER):
        data = sock.recv(65536)
        if not data:
            break
        got += data
    return got


def test_the_first_answers_of_a_kind_get_each_cut_in_turn(quick_server: int) -> None:
    for _ in range(20):  # bounded; each round is a fresh proxy and a few loopback requests
        with FaultProxy(
            quick_server, response_cuts=("head", "body"), cut_kinds=("list",), rate=0.0, max_faults=6
        ) as proxy:
            answers = []
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
                    answers.append(_ask(sock))
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
                whole = [_ask(sock) for _ in range(3)]  # rate 0: kept-alive answers pass whole
        head_end = ANSWER.index(b"\r\n\r\n")
        assert 0 < len(answers[0]) < head_end + 2, answers[0][:80]
        assert head_end + 4 <= len(answers[1]) < len(ANSWER)
        assert whole == [ANSWER] * 3
        assert proxy.injected == {"list:head": 1, "list:body": 1}
        assert proxy.requests["list"] == 5
