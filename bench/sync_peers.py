"""The peers of bench/sync.py that are not the SDK: Microsoft's azcopy, and a raw HTTP loop.

azcopy is the binary scripts/setup.sh installs (``.tools/azcopy/azcopy``, found as
the emulated node finds it), run against Azurite with a container SAS, as
tests/core/test_azcopy.py does. Its client CPU is the child's user + system time
(``resource.getrusage(RUSAGE_CHILDREN)`` around the run; Azurite, also a child,
is still running then and not counted).

The raw HTTP loop is the least a client can do per blob: one keep-alive
``http.client`` connection per thread, a SAS on the URL (nothing signed per
request), ``Put Blob`` with only ``x-ms-blob-type`` and ``x-ms-version``, no
hashing at all ("Put Blob" / "Get Blob", learn.microsoft.com/rest/api/storageservices).
It is written here, not taken from azrender, so it is the yardstick and not our code.
"""

from __future__ import annotations

import http.client
import os
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from azure.storage.blob import ContainerClient, ContainerSasPermissions, generate_container_sas

from azrender.local.node import find_azcopy

WORKERS = 8


def sas_url(client: ContainerClient) -> str:
    """The container's URL with a one-hour read/write/list SAS (Azurite's well-known key)."""
    key = getattr(client.credential, "account_key", None)
    assert isinstance(key, str), "needs a key-based client (Azurite's connection string)"
    sas = generate_container_sas(
        client.account_name or "",
        client.container_name,
        account_key=key,
        permission=ContainerSasPermissions(read=True, write=True, list=True, create=True, add=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    return f"{client.url}?{sas}"


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) of ``fn``: this process's CPU plus its finished children's."""
    t, cpu, kids = time.perf_counter(), time.process_time(), child_cpu()
    fn()
    return time.perf_counter() - t, (time.process_time() - cpu) + (child_cpu() - kids)


# ---------------------------------------------------------------- azcopy


def azcopy_path() -> str | None:
    return find_azcopy()


def azcopy(args: list[str], work: Path) -> None:
    """Run azcopy quietly, its logs and job plans under ``work``; a failure stops the bench."""
    exe = azcopy_path()
    assert exe is not None
    env = {
        **os.environ,
        "AZCOPY_LOG_LOCATION": str(work / "azcopy-logs"),
        "AZCOPY_JOB_PLAN_LOCATION": str(work / "azcopy-plans"),
    }
    proc = subprocess.run(
        [exe, *args, "--output-level=essential", "--log-level=ERROR"],
        env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"azcopy {args[0]} failed: {(proc.stdout + proc.stderr)[-500:]}")


def azcopy_upload(url: str, root: Path, work: Path) -> None:
    azcopy(["copy", f"{root}/*", url, "--recursive", "--from-to=LocalBlob"], work)


def azcopy_sync_up(url: str, root: Path, work: Path) -> None:
    """``azcopy sync``: sends only files newer than their blob (what a resubmit would use)."""
    azcopy(["sync", str(root), url, "--recursive", "--from-to=LocalBlob"], work)


def azcopy_download(url: str, dest: Path, work: Path) -> None:
    azcopy(["copy", url, str(dest), "--recursive", "--from-to=BlobLocal", "--as-subdir=false"], work)


# ---------------------------------------------------------------- the raw HTTP loop


class RawLoop:
    """Put Blob / Get Blob over one keep-alive http.client connection per thread, SAS-authorized."""

    def __init__(self, url: str, api_version: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port
        self.path, self.query = parts.path, parts.query
        self.version = api_version
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return conn

    def _call(self, method: str, blob: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        conn = self._conn()
        conn.request(method, f"{self.path}/{quote(blob)}?{self.query}", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {blob}: {resp.status} {resp.reason}")
        return data

    def put(self, blob: str, path: Path) -> None:
        body = path.read_bytes()
        self._call("PUT", blob, body, {"x-ms-blob-type": "BlockBlob", "x-ms-version": self.version})

    def get(self, blob: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self._call("GET", blob, None, {"x-ms-version": self.version}))

    def upload(self, root: Path, files: list[Path]) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(lambda p: self.put(p.relative_to(root).as_posix(), p), files))

    def download(self, blobs: list[str], dest: Path) -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(lambda b: self.get(b, dest / b), blobs))
