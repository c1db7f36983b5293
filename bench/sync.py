"""Sync benchmark against a private Azurite, printing ratios (run: .venv/bin/python bench/sync.py).

(a) cold upload of ~2,000 files of 1-512 KB plus a few 64 MB files, azrender vs a plain
    azure-storage-blob loop (upload_blob(max_concurrency=8) on a thread pool)      aim <= 1.0
(b) no-change resubmit of 10,000 files vs the cold upload of the same tree         aim <= 2 %, < 1 s
(c) hashing throughput vs `cat > /dev/null` of the same files                     aim >= 0.7
(d) the same tree through the `deadline` package's manifest snapshot (AWS Deadline Cloud
    job attachments) vs azrender hashing the tree                                  printed
(e) peak memory of building, writing and parsing a 100,000-file job manifest       aim < 300 MB

``--small`` shrinks every size for a quick check. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.storage.blob import ContainerClient

from azrender.local.azurite import AzuriteServer
from azrender.storage.client import client_options
from azrender.storage.hashing import HashCache, IndexEntry, hash_file
from azrender.storage.manifest import JobManifest
from azrender.storage.upload import UploadItem, upload_files

KB, MB = 1 << 10, 1 << 20


def make_tree(root: Path, count: int, big: int, big_size: int, seed: int = 1) -> list[Path]:
    rng = random.Random(seed)
    files = []
    for i in range(count):
        p = root / f"d{i % 50:02d}" / f"f{i:05d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(rng.randint(1 * KB, 512 * KB)))
        files.append(p)
    for i in range(big):
        p = root / "big" / f"cache{i}.abc"
        p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "wb") as f:
            for _ in range(big_size // MB):
                f.write(os.urandom(MB))
        files.append(p)
    return files


def client_for(conn: str, name: str) -> ContainerClient:
    """A container client built the way azrender builds its own (``client_options()``)."""
    c = ContainerClient.from_connection_string(conn, name, **client_options())
    c.create_container()
    return c


def plain_client_for(conn: str, name: str) -> ContainerClient:
    """The peer's client: the SDK's own transport, with the same timeouts and retry policy
    as azrender's (what the peer has always had here)."""
    c = ContainerClient.from_connection_string(conn, name, **peer_options())
    c.create_container()
    return c


def peer_options() -> dict[str, object]:
    """``client_options()`` less azrender's own transport: the plain loop gets the SDK default."""
    return {k: v for k, v in client_options().items() if k != "transport"}


def timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def plain_upload(client: ContainerClient, root: Path, files: list[Path]) -> None:
    def one(p: Path) -> None:
        with open(p, "rb") as f:
            client.upload_blob(p.relative_to(root).as_posix(), f, overwrite=True, max_concurrency=8)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, files))


def items(root: Path, files: list[Path]) -> list[UploadItem]:
    return [UploadItem(p, p.relative_to(root).as_posix()) for p in files]


def fresh_azurite() -> AzuriteServer:
    """A new Azurite, warmed up (outside any timing) by the same requests whichever side
    is measured next: Node compiles its hot paths during the first few hundred requests."""
    az = AzuriteServer.start()
    try:
        warm = ContainerClient.from_connection_string(az.connection_string, "warmup", **peer_options())
        warm.create_container()
        body = os.urandom(4 * KB)
        meta = {"xxh3": "0" * 32, "mtime_ns": "0"}

        def one(i: int) -> None:
            if i % 2:
                warm.upload_blob(f"w{i}", body, overwrite=True)
            else:
                warm.upload_blob(f"w{i}", body, overwrite=True, metadata=meta, validate_content=True)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(400)))
        blob = warm.get_blob_client("blocks")
        ids = [f"{i:08d}" for i in range(8)]
        for bid in ids:
            blob.stage_block(bid, body, validate_content=True)
        blob.get_block_list("all")
        blob.commit_block_list(ids, metadata=meta)
    except BaseException:
        az.stop()
        raise
    return az


def bench_a(work: Path, n: int, big: int, big_size: int, repeat: int) -> float:
    """Best of ``repeat`` for each side, alternating which goes first.

    Every timed run gets a fresh, warmed-up Azurite (started and stopped outside
    the timing): one emulator kept for all runs grows its blob database and extent
    files with every run (it rewrites the whole database every 5 s), so later runs
    were slower than earlier ones whichever side made them.
    """
    root = work / "a"
    files = make_tree(root, n, big, big_size)
    total = sum(p.stat().st_size for p in files)
    todo = items(root, files)
    plain_times: list[float] = []
    our_times: list[float] = []

    def ours(r: int) -> float:
        cache = HashCache(work / f"a-hashes-{r}.sqlite")  # cold: nothing hashed yet
        try:
            with fresh_azurite() as az:
                client = client_for(az.connection_string, f"ours-a{r}")
                return timed(lambda: upload_files(client, todo, cache=cache))
        finally:
            cache.close()

    def plain(r: int) -> float:
        with fresh_azurite() as az:
            client = plain_client_for(az.connection_string, f"plain-a{r}")
            return timed(lambda: plain_upload(client, root, files))

    for r in range(repeat):
        if r % 2 == 0:
            plain_times.append(plain(r))
            our_times.append(ours(r))
        else:
            our_times.append(ours(r))
            plain_times.append(plain(r))
    theirs, best = min(plain_times), min(our_times)
    ratio = best / theirs
    print(
        f"(a) cold upload {len(files)} files, {total / MB:.0f} MB, best of {repeat}: azrender {best:.2f}s, "
        f"plain SDK loop {theirs:.2f}s -> ratio {ratio:.2f} (aim <= 1.0)"
    )
    print(
        "    all runs: azrender "
        + " ".join(f"{t:.2f}" for t in our_times)
        + "; plain "
        + " ".join(f"{t:.2f}" for t in plain_times)
    )
    return ratio


def bench_b(conn: str, work: Path, n: int) -> tuple[float, float]:
    root = work / "b"
    files = make_tree(root, n, 0, 0, seed=2)
    client = client_for(conn, "ours-b")
    cache = HashCache(work / "b-hashes.sqlite")
    todo = items(root, files)  # the scan's output: not part of the upload's time
    cold = timed(lambda: upload_files(client, todo, cache=cache))
    warm = min(timed(lambda: upload_files(client, todo, cache=cache)) for _ in range(3))
    cache.close()
    print(
        f"(b) no-change resubmit of {len(files)} files (best of 3): {warm:.2f}s vs cold {cold:.2f}s -> "
        f"{100 * warm / cold:.1f} % (aim <= 2 % and < 1 s)"
    )
    return warm / cold, warm


def bench_c(work: Path) -> float:
    files = sorted((work / "a").rglob("*.bin")) + sorted((work / "a").rglob("*.abc"))
    # Both runs read from the page cache (warmed by the tree's creation and a first pass).
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    cat = timed(
        lambda: subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    )
    ours = timed(lambda: [hash_file(p) for p in files])
    ratio = cat / ours
    print(f"(c) hashing throughput vs cat > /dev/null: {ratio:.2f} (aim >= 0.7)")
    return ratio


def bench_d(work: Path) -> None:
    root = work / "b"
    try:
        from deadline.job_attachments.upload import S3AssetManager  # noqa: F401
    except Exception as exc:  # not installed, or an incompatible version
        print(f"(d) deadline manifest snapshot: peer unavailable ({type(exc).__name__}: {exc})")
        return
    script = (
        "import sys, time\n"
        "from deadline.job_attachments.api.manifest import _manifest_snapshot\n"
        "t = time.perf_counter()\n"
        "_manifest_snapshot(root=sys.argv[1], destination=sys.argv[2], name='bench')\n"
        "print(time.perf_counter() - t)\n"
    )
    out = work / "d-out"
    out.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root), str(out)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"(d) deadline manifest snapshot: peer unavailable ({last})")
        return
    theirs = float(proc.stdout.strip().splitlines()[-1])
    files = sorted(root.rglob("*.bin"))
    ours = timed(lambda: [hash_file(p) for p in files])  # cold cache: both hash every byte
    print(
        f"(d) manifest of {len(files)} files: azrender {ours:.2f}s, deadline snapshot "
        f"{theirs:.2f}s -> ratio {ours / theirs:.2f}"
    )


def bench_e(n: int) -> float:
    tracemalloc.start()
    assets = {
        f"P/show/seq/shot{i // 1000:03d}/tex/file_{i:06d}.exr": IndexEntry(
            f"{i:032x}", i * 7, 1_700_000_000_000_000_000 + i
        )
        for i in range(n)
    }
    manifest = JobManifest("bench", assets)
    body = json.dumps(manifest.to_json(), indent=1).encode()
    parsed = JobManifest.from_json(json.loads(body))
    assert len(parsed.assets) == n
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"(e) peak memory for a {n}-file manifest: {peak / MB:.0f} MB (aim < 300 MB)")
    return peak / MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes, for a quick check")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side in (a), best kept")
    parser.add_argument("--only", default="abcde", help="which measurements to run, e.g. 'a'")
    args = parser.parse_args()
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    n_a, big, big_size, n_b, n_e = (2000, 3, 64 * MB, 10_000, 100_000)
    if args.small:
        n_a, big, big_size, n_b, n_e = (200, 1, 8 * MB, 500, 10_000)
    with tempfile.TemporaryDirectory(prefix="azrender-bench-") as tmp:
        work = Path(tmp)
        os.environ["AZRENDER_CACHE_DIR"] = str(work / "cache")
        if "a" in args.only:
            bench_a(work, n_a, big, big_size, max(1, args.repeat))
        if "b" in args.only:
            with AzuriteServer.start() as az:
                bench_b(az.connection_string, work, n_b)
        if "c" in args.only and "a" in args.only:  # hashes the tree (a) made
            bench_c(work)
        if "d" in args.only and "b" in args.only:  # snapshots the tree (b) made
            bench_d(work)
    if "e" in args.only:
        bench_e(n_e)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
