"""The remote index never claims content its blob does not hold.

Two uploaders (separate processes, separate clients and journals) write
different content to the same blob names at the same moment, 20 rounds; after
each round every index entry equals the xxh3 of its blob's bytes. A POSIX file
name with a backslash, which blob storage would fold onto another path, is
refused before anything moves. And Azurite answers conditional writes as the
Blob service documents (412 for a stale If-Match, 409 for If-None-Match: *).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError
from azure.storage.blob import ContainerClient

from azrender.errors import EXIT_USAGE, StorageError, UsageError
from azrender.storage.client import client_options, ensure_container
from azrender.storage.hashing import hash_bytes
from azrender.storage.index import DEFAULT_INDEX_BLOB, read_index
from azrender.storage.upload import UploadItem, UploadOptions, items_for_paths, upload_files

pytestmark = pytest.mark.azurite

ROUNDS = 20
FILES = 20
BLOCKS = UploadOptions(large_threshold=64 << 10, block_size=32 << 10, block_workers=2)


def _client(conn: str, name: str) -> ContainerClient:
    return ContainerClient.from_connection_string(conn, name, **client_options())


def _uploader(who: int, conn: str, container: str, root: str, start: Any, end: Any, out: Any) -> None:
    """One machine: each round, new content of its own for the same blob names."""
    os.environ["AZRENDER_CACHE_DIR"] = os.path.join(root, "cache")  # its own journal
    client = _client(conn, container)
    rng = random.Random(who)
    lost = 0
    for rnd in range(ROUNDS):
        folder = Path(root) / f"r{rnd}"
        folder.mkdir(parents=True)
        items = []
        for i in range(FILES):
            p = folder / f"t{i:02d}.png"
            p.write_bytes(f"{who}/{rnd}/{i}|".encode() + rng.randbytes(rng.randrange(10, 40_000)))
            items.append(UploadItem(p, f"show/tex/t{i:02d}.png"))
        big = folder / "cache.abc"  # goes up in blocks: their commits race too
        big.write_bytes(f"{who}/{rnd}|".encode() + rng.randbytes(200_000))
        items.append(UploadItem(big, "show/cache/cache.abc"))
        start.wait(timeout=120)
        try:
            upload_files(client, items, cache=None, max_workers=4, options=BLOCKS)
        except StorageError as exc:  # the other machine kept overwriting: said, not hidden
            assert "overwritten with other content" in str(exc), exc
            lost += 1
        end.wait(timeout=120)
    out.put((who, lost))


def test_two_concurrent_uploaders_never_leave_an_index_entry_that_disagrees(
    tmp_path: Path, storage_env: str
) -> None:
    container = f"race-{uuid.uuid4().hex[:16]}"
    direct = _client(storage_env, container)
    ensure_container(direct)
    ctx = multiprocessing.get_context("spawn")
    start, end, out = ctx.Barrier(3), ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=_uploader, args=(who, storage_env, container, str(tmp_path / f"m{who}"), start, end, out))
        for who in (0, 1)
    ]
    for p in procs:
        p.start()
    wrong: list[tuple[int, str]] = []
    try:
        for rnd in range(ROUNDS):
            start.wait(timeout=120)
            end.wait(timeout=300)
            index = read_index(direct)
            assert len(index) == FILES + 1, sorted(index)
            for name, entry in index.items():
                data = direct.download_blob(name).readall()
                if hash_bytes(data) != entry.hash or len(data) != entry.size:
                    wrong.append((rnd, name))
        results = dict(out.get(timeout=60) for _ in procs)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    assert wrong == []
    assert set(results) == {0, 1}


def test_a_backslash_in_a_posix_file_name_is_refused_before_anything_moves(
    tmp_path: Path, storage_env: str
) -> None:
    container = f"bs-{uuid.uuid4().hex[:16]}"
    client = _client(storage_env, container)
    ensure_container(client)
    (tmp_path / "a").mkdir()
    plain, odd = tmp_path / "a" / "b.png", tmp_path / "a\\b.png"
    plain.write_bytes(b"plain")
    odd.write_bytes(b"odd")
    # Blob storage folds the backslash onto a slash: the two would be one blob.
    client.upload_blob("probe\\x", b"1")
    assert [b.name for b in client.list_blobs()] == ["probe/x"]
    client.delete_blob("probe/x")

    with pytest.raises(UsageError, match="backslash") as info:
        upload_files(client, items_for_paths([plain, odd]), cache=None)
    assert str(odd) in str(info.value)
    assert list(client.list_blobs()) == []

    preset = tmp_path / "show.toml"
    preset.write_text(f'name = "show"\n[storage]\nassets_container = "{container}"\n')
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": storage_env}
    env.pop("AZRENDER_DEBUG", None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "azrender"), "upload", str(tmp_path / "a"), "--preset", str(preset)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    # The folder holds only the plain file: fine. The parent folder holds the odd one.
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [str(Path(sys.executable).parent / "azrender"), "upload", str(tmp_path), "--preset", str(preset)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == EXIT_USAGE and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and "backslash" in lines[0] and str(odd) in lines[0], lines
    assert {e for e in read_index(client)} == {items_for_paths([plain])[0].blob}


def test_azurite_honours_the_conditional_headers_the_index_relies_on(storage_env: str) -> None:
    """Documented in "Specifying conditional headers for Blob service operations"."""
    container = _client(storage_env, f"cond-{uuid.uuid4().hex[:16]}")
    ensure_container(container)
    client = container.get_blob_client(DEFAULT_INDEX_BLOB)
    first = client.upload_blob(b"{}", overwrite=True, match_condition=MatchConditions.IfMissing)
    with pytest.raises(ResourceExistsError):  # If-None-Match: * on a blob that exists: 409
        client.upload_blob(b"{1}", overwrite=True, match_condition=MatchConditions.IfMissing)
    second = client.upload_blob(
        b"{2}", overwrite=True, etag=first["etag"], match_condition=MatchConditions.IfNotModified
    )
    with pytest.raises(ResourceModifiedError):  # If-Match with a stale ETag: 412
        client.upload_blob(
            b"{3}", overwrite=True, etag=first["etag"], match_condition=MatchConditions.IfNotModified
        )
    assert second["etag"] != first["etag"]
    assert client.download_blob().readall() == b"{2}"
