"""A download killed with SIGKILL at ~97 % is finished by a rerun that fetches only what was missing.

Finished files are journalled as they land, half-fetched ones resume from their
part files; the bytes the rerun pulls through the proxy are compared with what
was really missing on disk when the process died.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient
from fault_proxy import FaultProxy
from tests.core.killing import kill_when

from azrender.local.azurite import AzuriteServer
from azrender.storage.client import client_options, ensure_container
from azrender.storage.download import JOURNAL_NAME, TEMP_SUFFIX, download_prefix
from azrender.storage.ranges import load_state

pytestmark = pytest.mark.azurite

KiB, MiB = 1 << 10, 1 << 20

_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from azure.storage.blob import ContainerClient
    from azrender.storage.client import client_options
    from azrender.storage.download import download_prefix

    conn, container, dest = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    client = ContainerClient.from_connection_string(conn, container, **client_options())
    download_prefix(client, "j1/", dest, max_workers=6)
    print("finished")
    """
)


def _on_disk(dest: Path, blobs: dict[str, bytes]) -> int:
    """Bytes already right on disk (ground truth, whatever azrender recorded): whole
    files under their final name, plus the ranges of part files that hold the blob's bytes."""
    have = 0
    for p in dest.rglob("*"):
        if not p.is_file():
            continue
        if not p.name.startswith("."):
            if p.read_bytes() == blobs["j1/" + p.relative_to(dest).as_posix()]:
                have += p.stat().st_size
            continue
        if p.name.endswith(TEMP_SUFFIX):
            target = p.with_name(p.name[1 : -len(TEMP_SUFFIX)])
            data = blobs["j1/" + target.relative_to(dest).as_posix()]
            state = load_state(p, 4 * MiB)
            if state is None:
                continue
            part = p.read_bytes()
            for i in state.done:
                lo, hi = i * state.range_size, i * state.range_size + state.length(i)
                if part[lo:hi] == data[lo:hi]:
                    have += hi - lo
    return have


def test_sigkill_at_97_percent_then_rerun_fetches_only_what_was_missing(
    tmp_path: Path, azurite: AzuriteServer, storage_env: str
) -> None:
    container = f"dlk-{uuid.uuid4().hex[:16]}"
    direct = ContainerClient.from_connection_string(storage_env, container, **client_options())
    ensure_container(direct)
    blobs = {f"j1/frames/f{i:03d}.exr": os.urandom(300 * KiB + i) for i in range(60)}
    blobs |= {f"j1/cache/big{i}.vdb": os.urandom(9 * MiB + i) for i in range(2)}
    for name, data in blobs.items():
        direct.upload_blob(name, data)
    total = sum(len(data) for data in blobs.values())
    dest = tmp_path / "frames"

    with FaultProxy(azurite.port, bytes_per_s=1 * MiB) as proxy:
        conn = proxy.connection_string(storage_env)
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, conn, container, str(dest)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        kill_when(child, lambda: proxy.bytes_down >= 0.97 * total, timeout=120, poll=0.02)
        at_kill = proxy.bytes_down
        # Nothing under a final name is partial.
        for p in dest.rglob("*"):
            if p.is_file() and not p.name.startswith("."):
                assert p.read_bytes() == blobs["j1/" + p.relative_to(dest).as_posix()], p
        missing = total - _on_disk(dest, blobs)
        assert 0 < missing < 0.5 * total, (missing, total)  # ranges in flight count as missing

        proxy.bytes_per_s = None
        before = proxy.bytes_down
        again = download_prefix(ContainerClient.from_connection_string(conn, container, **client_options()),
                                "j1/", dest, max_workers=6)
        fetched = proxy.bytes_down - before
    assert fetched <= missing + 0.01 * total, (fetched, missing, total, at_kill)
    assert again.files == len(blobs)
    for name, data in blobs.items():
        assert (dest / name.removeprefix("j1/")).read_bytes() == data, name
    assert [p for p in dest.rglob("*") if TEMP_SUFFIX in p.name] == []
    assert not (dest / JOURNAL_NAME).exists()  # folded into the record at the normal end
