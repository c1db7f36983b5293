"""Run Azurite, the Azure Storage emulator, on 127.0.0.1 for the demo and the tests.

>>> with AzuriteServer.start() as server:          # doctest: +SKIP
...     os.environ["AZURE_STORAGE_CONNECTION_STRING"] = server.connection_string

Each start uses a free port and a fresh data folder, which is deleted on stop:
no state leaks from one run into the next. The executable is found in
``$AZRENDER_AZURITE``, the project's ``.tools/azurite`` (installed by
``scripts/setup.sh``) or ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from azrender.closing import Closes
from azrender.errors import StorageError
from azrender.local.tools import find_tool
from azrender.storage.account import key_connection_string

# Azurite's documented development account. It is public and only ever valid
# against the emulator, so it is not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

def find_azurite() -> str:
    """Path of the ``azurite-blob`` executable, or a clear error saying how to get it."""
    found = find_tool("AZRENDER_AZURITE", "azurite/node_modules/.bin/azurite-blob", "azurite-blob")
    if found is not None:
        return found
    raise StorageError(
        "Azurite (azurite-blob) was not found",
        hint="run `bash scripts/setup.sh` or `npm install -g azurite`, or set AZRENDER_AZURITE",
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _wait_for_port(host: str, port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StorageError(f"Azurite exited at start with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise StorageError(f"Azurite did not listen on {host}:{port} within {timeout:.0f}s")


@dataclass
class AzuriteServer(Closes):
    """A running Azurite blob service bound to loopback with its own data folder."""

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    _owns_data: bool = field(default=True, repr=False)

    @classmethod
    def start(cls, *, timeout: float = 30.0, log_file: Path | None = None) -> AzuriteServer:
        exe = find_azurite()
        host = "127.0.0.1"
        port = free_port(host)
        data_dir = Path(tempfile.mkdtemp(prefix="azrender-azurite-"))
        log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
        args = [
            exe,
            "--blobHost", host,
            "--blobPort", str(port),
            "--location", str(data_dir),
            "--skipApiVersionCheck",
            "--loose",
            "--disableProductStyleUrl",
        ]
        proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        server = cls(port=port, data_dir=data_dir, process=proc, host=host)
        try:
            _wait_for_port(host, port, proc, timeout)
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{DEV_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return key_connection_string(DEV_ACCOUNT, DEV_KEY, self.blob_endpoint)

    def stop(self) -> None:
        if self.process.poll() is None:
            # Azurite ignores SIGTERM while it flushes nothing worth keeping (its data
            # folder is deleted next), so SIGINT, a short wait, then SIGKILL.
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._owns_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def close(self) -> None:
        """The same as :meth:`stop` (so ``with AzuriteServer() as server:`` stops it)."""
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m azrender.local.azurite CMD ARGS...``: run CMD with a private Azurite.

    The command sees ``AZURE_STORAGE_CONNECTION_STRING``; Azurite and its data
    folder are gone when it returns, whatever happened.
    """
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m azrender.local.azurite CMD [ARGS...]", file=sys.stderr)
        return 2
    try:
        server = AzuriteServer.start()
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with server:
        env = dict(os.environ, AZURE_STORAGE_CONNECTION_STRING=server.connection_string)
        print(f"azurite: blob service on {server.blob_endpoint}", file=sys.stderr)
        try:
            return subprocess.call(args, env=env)
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    raise SystemExit(main())
