"""Sync benchmark against a private Azurite, printing ratios (run: .venv/bin/python bench/sync.py).

(a) cold upload of ~2,000 files of 1-512 KB plus a few 64 MB files, azrender vs a plain
    azure-storage-blob loop (upload_blob(max_concurrency=8) on a thread pool)      aim <= 0.9
    vs azcopy copy                                                                 aim <= 0.7
    client CPU vs a raw HTTP loop (bench/sync_peers.py)                            aim <= 2
(b) no-change resubmit of 10,000 files vs the cold upload of the same tree         aim <= 2 %, < 1 s
(c) hashing throughput vs `cat > /dev/null` of the same files                     aim >= 0.7
(d) the same tree through the `deadline` package's manifest snapshot (AWS Deadline Cloud
    job attachments) vs azrender hashing the tree                                  printed
(e) peak memory of building, writing and parsing a 100,000-file job manifest       aim < 300 MB
(f) resubmit of the (a)-sized small-file tree unchanged, then with one changed file,
    vs `azcopy sync`                                                               aim <= 1.0
(g) download of 500 x 1 MB blobs into an empty folder vs azcopy copy                 aim <= 1.0
    client CPU vs the raw HTTP loop                                                aim <= 2

Every side prints its best wall time and the client CPU of that run: this process's
CPU (time.process_time, all threads) plus its finished children's (azcopy), never
Azurite's. Each side is best of --repeat, in rotating order, a fresh Azurite per
timed run of (a) and (g).

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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.storage.blob import ContainerClient
from sync_peers import (
    RawLoop,
    azcopy_download,
    azcopy_path,
    azcopy_sync_up,
    azcopy_upload,
    measured,
    sas_url,
)

from azrender.local.azurite import AzuriteServer
from azrender.storage.client import client_options
from azrender.storage.download import download_prefix
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


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
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


def best_of(
    sides: dict[str, Callable[[int], tuple[float, float]]], repeat: int
) -> dict[str, list[tuple[float, float]]]:
    """Run every side ``repeat`` times, rotating which goes first; (wall, CPU) of each run."""
    names = list(sides)
    runs: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(sides[name](r))
    return runs


def report(label: str, runs: dict[str, list[tuple[float, float]]], aims: dict[str, str]) -> None:
    """Best wall time and its CPU per side, and azrender's ratios to each peer."""
    best = {n: min(rs) for n, rs in runs.items()}
    ours_t, ours_cpu = best["azrender"]
    print(f"{label}, best of {len(runs['azrender'])}:")
    for name, (t, cpu) in best.items():
        ratio = "" if name == "azrender" else (
            f"  -> azrender/{name} time {ours_t / t:.2f}, client CPU {ours_cpu / cpu:.2f}"
            + (f" (aim {aims[name]})" if name in aims else "")
        )
        print(f"    {name:<10} {t:6.2f} s, client CPU {cpu:6.2f} s{ratio}")
    print("    all runs (s): " + "; ".join(
        f"{n} " + " ".join(f"{t:.2f}" for t, _ in rs) for n, rs in runs.items()
    ))


def bench_a(work: Path, n: int, big: int, big_size: int, repeat: int) -> None:
    """Cold upload: azrender, the plain SDK loop, azcopy and the raw HTTP loop.

    Every timed run gets a fresh, warmed-up Azurite (started and stopped outside
    the timing): one emulator kept for all runs grows its blob database and extent
    files with every run (it rewrites the whole database every 5 s), so later runs
    were slower than earlier ones whichever side made them.
    """
    root = work / "a"
    files = make_tree(root, n, big, big_size)
    total = sum(p.stat().st_size for p in files)
    todo = items(root, files)

    def ours(r: int) -> tuple[float, float]:
        cache = HashCache(work / f"a-hashes-{r}.sqlite")  # cold: nothing hashed yet
        try:
            with fresh_azurite() as az:
                client = client_for(az.connection_string, f"ours-a{r}")
                return measured(lambda: upload_files(client, todo, cache=cache))
        finally:
            cache.close()

    def plain(r: int) -> tuple[float, float]:
        with fresh_azurite() as az:
            client = plain_client_for(az.connection_string, f"plain-a{r}")
            return measured(lambda: plain_upload(client, root, files))

    def by_azcopy(r: int) -> tuple[float, float]:
        with fresh_azurite() as az:
            url = sas_url(plain_client_for(az.connection_string, f"azcopy-a{r}"))
            return measured(lambda: azcopy_upload(url, root, work))

    def raw(r: int) -> tuple[float, float]:
        with fresh_azurite() as az:
            client = plain_client_for(az.connection_string, f"raw-a{r}")
            loop = RawLoop(sas_url(client), client.api_version)
            return measured(lambda: loop.upload(root, files))

    sides: dict[str, Callable[[int], tuple[float, float]]] = {"azrender": ours, "sdk loop": plain, "raw http": raw}
    if azcopy_path() is not None:
        sides["azcopy"] = by_azcopy
    report(
        f"(a) cold upload {len(files)} files, {total / MB:.0f} MB",
        best_of(sides, repeat),
        {"sdk loop": "<= 0.9", "azcopy": "<= 0.7", "raw http": "CPU <= 2"},
    )


def bench_f(work: Path, n: int, repeat: int) -> None:
    """A resubmit of an unchanged tree, then of a tree with one changed file, vs ``azcopy sync``."""
    root = work / "f"
    files = make_tree(root, n, 0, 0, seed=3)
    todo = items(root, files)
    if azcopy_path() is None:
        print("(f) resubmit vs azcopy sync: peer unavailable (no azcopy; run scripts/setup.sh)")
        return

    def change(r: int) -> None:
        p = files[(r * 37) % len(files)]
        p.write_bytes(os.urandom(p.stat().st_size))

    results: dict[str, dict[str, list[tuple[float, float]]]] = {"unchanged": {}, "one change": {}}
    with fresh_azurite() as az:
        cache = HashCache(work / "f-hashes.sqlite")
        client = client_for(az.connection_string, "ours-f")
        upload_files(client, todo, cache=cache)
        url = sas_url(plain_client_for(az.connection_string, "azcopy-f"))
        azcopy_upload(url, root, work)
        time.sleep(1.1)  # azcopy sync compares modification times (1 s granularity in places)
        sides = {
            "azrender": lambda: upload_files(client, todo, cache=cache),
            "azcopy": lambda: azcopy_sync_up(url, root, work),
        }
        for r in range(repeat):
            for name, fn in (sides.items() if r % 2 == 0 else reversed(sides.items())):
                results["unchanged"].setdefault(name, []).append(measured(fn))
        for r in range(repeat):
            change(r)  # the same change is seen by both sides
            for name, fn in (sides.items() if r % 2 == 0 else reversed(sides.items())):
                results["one change"].setdefault(name, []).append(measured(fn))
        cache.close()
    for what, runs in results.items():
        report(f"(f) resubmit of {n} files, {what}", runs, {"azcopy": "<= 1.0"})


def bench_g(work: Path, n: int, size: int, repeat: int) -> None:
    """Download of ``n`` blobs of ``size`` bytes into an empty folder: azrender, azcopy, raw HTTP."""
    src = work / "g-src"
    files = []
    for i in range(n):
        p = src / f"frames/f{i:05d}.exr"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        files.append(p)
    blobs = [p.relative_to(src).as_posix() for p in files]

    def seeded(r: int) -> tuple[AzuriteServer, ContainerClient]:
        az = fresh_azurite()
        try:
            client = plain_client_for(az.connection_string, f"down-g{r}")
            plain_upload(client, src, files)
        except BaseException:
            az.stop()
            raise
        return az, client

    def ours(r: int) -> tuple[float, float]:
        az, seed = seeded(r)
        with az:
            client = ContainerClient.from_connection_string(
                az.connection_string, seed.container_name, **client_options()
            )
            return measured(lambda: download_prefix(client, "", work / f"g-ours-{r}"))

    def by_azcopy(r: int) -> tuple[float, float]:
        az, seed = seeded(r)
        with az:
            return measured(lambda: azcopy_download(sas_url(seed), work / f"g-azcopy-{r}", work))

    def raw(r: int) -> tuple[float, float]:
        az, seed = seeded(r)
        with az:
            loop = RawLoop(sas_url(seed), seed.api_version)
            return measured(lambda: loop.download(blobs, work / f"g-raw-{r}"))

    sides: dict[str, Callable[[int], tuple[float, float]]] = {"azrender": ours, "raw http": raw}
    if azcopy_path() is not None:
        sides["azcopy"] = by_azcopy
    report(
        f"(g) download {n} x {size / MB:.1f} MB",
        best_of(sides, repeat),
        {"azcopy": "<= 1.0", "raw http": "CPU <= 2"},
    )


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
    parser.add_argument("--only", default="abcdefg", help="which measurements to run, e.g. 'a'")
    args = parser.parse_args()
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
    )
    n_a, big, big_size, n_b, n_e, n_g = (2000, 3, 64 * MB, 10_000, 100_000, 500)
    if args.small:
        n_a, big, big_size, n_b, n_e, n_g = (200, 1, 8 * MB, 500, 10_000, 50)
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
        if "f" in args.only:
            bench_f(work, n_a, max(1, args.repeat))
        if "g" in args.only:
            bench_g(work, n_g, MB, max(1, args.repeat))
    if "e" in args.only:
        bench_e(n_e)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
