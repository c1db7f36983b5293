"""Job preparation and release on a render node: fetch what a job needs, clean up after it.

On the node (Batch or the local emulated node)::

    python3 -m azrender.node sync --job shot010-v3      # job preparation task
    python3 -m azrender.node release --job shot010-v3   # job release task

or in-process::

    summary = sync_job("shot010-v3", client=client, shared_dir=Path("/node/shared"))
    print(summary.line())   # sync: 120 files, 3 downloaded (1048576 bytes), 117 unchanged

Assets land in ``$AZ_BATCH_NODE_SHARED_DIR/assets/<blob>`` and are kept between
jobs; ``assets/.azrender-node-index.json`` records the hash, size and mtime of
each local copy so the next job on this node downloads only the assets whose
hash changed (or whose local copy was touched). Job files land in
``$AZ_BATCH_NODE_SHARED_DIR/jobs/<job>/`` and are removed by ``release``.
Every download is verified against the manifest's xxh3-128 hash.

The cache is evicted least recently used first (by the last job that used each
asset, ``assets/.azrender-node-use.json``) when the job would not fit the disk,
or when it would grow past ``AZRENDER_NODE_CACHE_GIB`` (``storage.node_cache_gib``;
unset or 0: only what the disk needs). Assets of a job whose folder is still on the
node (``jobs/<job>/.azrender-assets.json``, until its release) are never evicted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from azure.storage.blob import ContainerClient

from azrender.errors import StorageError
from azrender.node.contract import (
    ASSETS_FOLDER,
    ENV_ACCOUNT_URL,
    ENV_CACHE_LIMIT,
    ENV_CONTAINER,
    ENV_CONTAINER_URL,
    ENV_SHARED_DIR,
    JOBS_FOLDER,
)
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import container_client, container_client_from_url
from azrender.storage.download import download_to, load_record, safe_join, save_record
from azrender.storage.hashing import IndexEntry
from azrender.storage.manifest import check_job_id, job_file_blob, read_job
from azrender.storage.parallel import run_parallel

NODE_INDEX_NAME = ".azrender-node-index.json"

ENV_CONNECTION_STRING = "AZURE_STORAGE_CONNECTION_STRING"
#: Free space a sync leaves on the node's disk for the frames and the renderer's temp files.
DISK_RESERVE_BYTES = 1 << 30
NODE_USE_NAME = ".azrender-node-use.json"
JOB_ASSETS_NAME = ".azrender-assets.json"


@dataclass
class SyncSummary:
    files: int
    downloaded_files: int
    downloaded_bytes: int
    unchanged_files: int

    def line(self) -> str:
        """The one line the preparation task prints (it ends up in the node's stdout.txt)."""
        return (
            f"sync: {self.files} files, {self.downloaded_files} downloaded "
            f"({self.downloaded_bytes} bytes), {self.unchanged_files} unchanged"
        )

    def to_json(self) -> dict[str, int]:
        return asdict(self)


def node_client(env: Mapping[str, str] | None = None) -> ContainerClient:
    """The assets container as the node reaches it, from the environment Batch sets.

    In order: a SAS container URL (``AZRENDER_ASSETS_CONTAINER_URL``); a
    connection string plus container name; an account URL plus container name
    with ``DefaultAzureCredential`` (the pool's managed identity).
    """
    env = os.environ if env is None else env
    url = env.get(ENV_CONTAINER_URL, "").strip()
    if url:
        return container_client_from_url(url)
    container = env.get(ENV_CONTAINER, "").strip()
    if not container:
        raise StorageError(
            "the node has no assets container",
            hint=f"set {ENV_CONTAINER_URL} (SAS URL) or {ENV_CONTAINER} on the job",
        )
    if env.get(ENV_CONNECTION_STRING, "").strip():
        return container_client(container)
    account_url = env.get(ENV_ACCOUNT_URL, "").strip()
    if account_url:
        return container_client(container, account_url=account_url)
    raise StorageError(
        f"the node has no credentials for container {container!r}",
        hint=f"set {ENV_CONTAINER_URL}, {ENV_CONNECTION_STRING} or {ENV_ACCOUNT_URL} on the job",
    )


def node_shared_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    shared = env.get(ENV_SHARED_DIR, "").strip()
    if not shared:
        raise StorageError(
            f"{ENV_SHARED_DIR} is not set",
            hint="run this as a Batch job preparation/release task or on the local node",
        )
    return Path(shared)


def _load_node_index(path: Path) -> dict[str, IndexEntry]:
    index: dict[str, IndexEntry] = {}
    for blob, raw in load_record(path).items():
        try:
            index[blob] = IndexEntry.from_json(raw)
        except ValueError:
            continue  # a damaged entry just means that file is fetched again
    return index


def _local_copy_current(target: Path, want: IndexEntry, have: IndexEntry | None) -> bool:
    """True if the local copy is the one the index describes and that matches the manifest."""
    if have is None or have.hash != want.hash or have.size != want.size:
        return False
    try:
        st = target.stat()
    except OSError:
        return False
    return st.st_size == have.size and st.st_mtime_ns == have.mtime_ns


def _fetch_verified(
    client: ContainerClient, blob: str, target: Path, want: IndexEntry, progress: Progress
) -> IndexEntry:
    size, _ = download_to(client, blob, target, expected_hash=want.hash, progress=progress)
    st = target.stat()
    return IndexEntry(hash=want.hash, size=size, mtime_ns=st.st_mtime_ns)


def sync_job(
    job_id: str,
    *,
    client: ContainerClient | None = None,
    shared_dir: Path | None = None,
    progress: Progress = NO_PROGRESS,
    max_workers: int = 8,
    reserve_bytes: int = DISK_RESERVE_BYTES,
    cache_limit: int | None = None,
) -> SyncSummary:
    """Bring the node's asset cache and job folder up to date with the job's manifest.

    ``client`` and ``shared_dir`` default to what the environment says
    (:func:`node_client`, :func:`node_shared_dir`). Before any download the
    node's free disk space is checked against what is to come plus
    ``reserve_bytes`` (the renders need room too), after evicting what the cache may
    lose (``cache_limit`` bytes, default :func:`cache_limit_bytes`). With a content-addressed
    manifest the blobs are ``cas/<hash>`` and land under their paths all the same.
    """
    check_job_id(job_id)
    shared = shared_dir if shared_dir is not None else node_shared_dir()
    client = client if client is not None else node_client()
    manifest = read_job(client, job_id)

    assets_dir = shared / ASSETS_FOLDER
    job_dir = shared / JOBS_FOLDER / job_id
    index_path = assets_dir / NODE_INDEX_NAME
    index = _load_node_index(index_path)

    work: list[tuple[str, Path, IndexEntry, str | None]] = []
    # (source blob, target, wanted entry, node-index key or None for job files).
    for key, entry in sorted(manifest.assets.items()):
        target = safe_join(assets_dir, key)
        if target == index_path:
            raise StorageError(f"refusing asset path {key!r}: it collides with {NODE_INDEX_NAME}")
        work.append((manifest.blob_for(key, entry), target, entry, key))
    for name, entry in sorted(manifest.job_files.items()):
        work.append((job_file_blob(job_id, name), job_dir / name, entry, None))

    # Job files are always fetched: the job folder is new for every job.
    todo = [
        w
        for w in work
        if w[3] is None or not _local_copy_current(w[1], w[2], index.get(w[3]))
    ]
    keys = set(manifest.assets)
    save_record(job_dir / JOB_ASSETS_NAME, {"assets": {"keys": sorted(keys)}})  # in use until release
    evicted = evict_cache(
        shared, index, need=todo, reserve=reserve_bytes,
        limit_bytes=cache_limit_bytes() if cache_limit is None else cache_limit,
    )  # fmt: skip
    if evicted:
        progress.note(f"sync: evicted {len(evicted)} cached assets no job on this node uses")
    check_free_space(shared, sum(w[2].size for w in todo), reserve=reserve_bytes)
    lock = threading.Lock()
    fresh: dict[str, IndexEntry] = {}

    def record(job: tuple[str, Path, IndexEntry, str | None], got: IndexEntry) -> None:
        if job[3] is not None:
            with lock:
                fresh[job[3]] = got

    progress.begin("sync", total=sum(w[2].size for w in todo), unit="B")
    try:
        run_parallel(
            lambda w: _fetch_verified(client, w[0], w[1], w[2], progress),
            todo,
            max_workers=max_workers,
            on_done=record,
        )
    finally:
        progress.end()
        # Saved after a failure too: what did arrive is not fetched again.
        if fresh:
            _save_node_index(index_path, fresh)
        _mark_used(assets_dir / NODE_USE_NAME, keys, {k: e.size for k, e in manifest.assets.items()})
    return SyncSummary(
        files=len(work),
        downloaded_files=len(todo),
        downloaded_bytes=sum(w[2].size for w in todo),
        unchanged_files=len(work) - len(todo),
    )


def cache_limit_bytes(env: Mapping[str, str] | None = None) -> int:
    """``AZRENDER_NODE_CACHE_GIB`` in bytes; 0 (no limit but the disk) when unset or not a number."""
    raw = (os.environ if env is None else env).get(ENV_CACHE_LIMIT, "").strip()
    try:
        return max(0, int(float(raw) * (1 << 30))) if raw else 0
    except ValueError:
        return 0


def _in_use(shared: Path) -> set[str]:
    """Asset keys of every job whose folder is still on the node (not yet released)."""
    keys: set[str] = set()
    for record in (shared / JOBS_FOLDER).glob(f"*/{JOB_ASSETS_NAME}"):
        listed = load_record(record).get("assets", {}).get("keys", [])
        if isinstance(listed, list):
            keys.update(k for k in listed if isinstance(k, str))
    return keys


def _last_used(record: Mapping[str, Mapping[str, object]], key: str) -> float:
    value = record.get(key, {}).get("used", 0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def evict_cache(
    shared: Path,
    index: dict[str, IndexEntry],
    *,
    need: list[tuple[str, Path, IndexEntry, str | None]],
    reserve: int,
    limit_bytes: int,
) -> list[str]:
    """Remove cached assets, least recently used first, until the downloads in ``need`` fit
    the disk (with ``reserve``) and the cache stays within ``limit_bytes`` (0: no limit).

    Only assets no unreleased job lists are candidates. Returns the evicted keys (also
    dropped from ``index`` and the node index file).
    """
    assets_dir = shared / ASSETS_FOLDER
    incoming = sum(w[2].size for w in need)
    replaced = {w[3] for w in need if w[3] is not None}
    cached = {k: e.size for k, e in index.items() if k not in replaced}
    total = sum(cached.values()) + incoming
    assets_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(assets_dir).free
    protected = _in_use(shared)
    used = load_record(assets_dir / NODE_USE_NAME)
    candidates = sorted(
        (k for k in cached if k not in protected),
        key=lambda k: (_last_used(used, k), k),
    )
    evicted: list[str] = []
    for key in candidates:
        over_disk = incoming + reserve > free
        over_limit = bool(limit_bytes) and total > limit_bytes
        if not (over_disk or over_limit):
            break
        with contextlib.suppress(FileNotFoundError):
            safe_join(assets_dir, key).unlink()
        free += cached[key]
        total -= cached[key]
        index.pop(key, None)
        evicted.append(key)
    if evicted:
        _drop_from_index(assets_dir / NODE_INDEX_NAME, evicted)
    return evicted


def _drop_from_index(path: Path, keys: list[str]) -> None:
    record = load_record(path)
    for key in keys:
        record.pop(key, None)
    save_record(path, record)


def _mark_used(path: Path, keys: set[str], sizes: Mapping[str, int]) -> None:
    """Record that a job used ``keys`` now (the LRU order of :func:`evict_cache`)."""
    record = load_record(path)
    now = time.time()
    for key in keys:
        record[key] = {"used": now, "size": sizes.get(key, 0)}
    save_record(path, record)


def check_free_space(folder: Path, needed: int, *, reserve: int = DISK_RESERVE_BYTES) -> None:
    """Raise :class:`StorageError` unless ``folder``'s disk has ``needed + reserve`` bytes free."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed + reserve > free:
        raise StorageError(
            f"not enough disk space on the node: the job needs {_gib(needed)} more in {folder} "
            f"(plus {_gib(reserve)} kept free for renders) but only {_gib(free)} is free",
            hint="use a VM size with a larger temporary disk, or fewer/smaller assets per job",
        )


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def _save_node_index(path: Path, fresh: dict[str, IndexEntry]) -> None:
    # Re-read and merge only our entries: another job's preparation task on this
    # node may have updated other files of the shared cache meanwhile.
    merged = load_record(path)
    merged.update({blob: e.to_json() for blob, e in fresh.items()})
    save_record(path, merged)


def release_job(job_id: str, *, shared_dir: Path | None = None) -> bool:
    """Remove the job's own folder; the asset cache stays for the next job. True if removed."""
    check_job_id(job_id)
    shared = shared_dir if shared_dir is not None else node_shared_dir()
    job_dir = shared / JOBS_FOLDER / job_id
    if not job_dir.exists():
        return False
    shutil.rmtree(job_dir)
    return True
