"""Benchmark `azrender scan` against `bat list`, blender-asset-tracer and opening the scene in Blender.

Run by hand (several minutes; ``--quick`` for well under a minute; ``--maya`` for the .ma part only)::

    .venv/bin/python bench/scan.py [--quick] [--maya]

Every measurement runs in a fresh process of its own, so no side gets another's
imports, caches or monkey-patches (azrender patches parts of BAT in its own
process; here BAT runs unpatched, as ``bat list`` would). Two kinds of sides:

* **whole process**, what a user waits for: ``azrender scan --json --no-cache
  SCENE`` (the console script), the same with the scan cache warm (``cached``:
  an unchanged rescan), and ``bat list --json SCENE`` (BAT's own console
  script), timed by the parent from start to exit, interpreter start-up included;
* **in process**, the scan call alone: a ``python -c`` child that times only
  ``adapter_for_scene(scene).scan(scene)`` (``azrender``), the same answered by
  the scan cache (``cached``: ``ScanCache().scan``, after one call that fills
  it and keeps the entry decoded in the process, as in the artist's session;
  ``file``: the entry read back from its file, as a new process reads it), BAT's tracer ``trace.deps`` (the engine of ``bat list``), and
  ``bpy.ops.wm.open_mainfile`` + ``bpy.utils.blend_paths`` (``bpy``, the ground truth).

Each side is best of 3 (2 with ``--quick``), the sides in alternating order
(a, b, c; c, b, a; ...), and every ratio is of times from this same run
(azrender / peer: below 1 is faster). The parent reads each child's peak
resident memory with ``os.wait4`` (``ru_maxrss``, interpreter and imports
included; an in-process child also reports its ``ru_maxrss`` before the scan,
printed as ``+growth``). Linux starts a child's ``ru_maxrss`` at its parent's
high-water mark, so the parent stays small: it writes the generated scenes in
child processes too (bench/scan_scenes.py) and prints its own high-water mark,
the floor of every column.

The cases: every real .blend in ``../shared/fixtures/real`` that both azrender
and ``bat list`` read (the four smallest with ``--quick``), then generated
.blend scenes with growing numbers of image files. The generated files are
dated a minute back: the scan cache keeps no result of a file changed within
its racy window (azrender.scan.cache.RACY_NS).

Maya files have no headless peer: the bench prints the MB/s of scanning generated
.ma files, one made of many small statements and one large file as Maya writes
meshes (long ``setAttr`` value lists) with thousands of file textures. Aim: >= 20 MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scan_scenes import generate

BIN = Path(sys.executable).parent
REAL = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real"

# The in-process sides, each run as `python -c <code> <scene>`. Each prints one line
# "AZR-BENCH [seconds, count, ru_maxrss KiB before the scan]": only the scan is timed.
_AZRENDER = r"""
import json, resource, sys, time
from pathlib import Path
from azrender.apps import adapter_for_scene
scene = Path(sys.argv[-1])
adapter = adapter_for_scene(scene)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
result = adapter.scan(scene)
print("AZR-BENCH " + json.dumps([time.perf_counter() - t, len(result.assets), base]))
"""

_CACHED = r"""
import json, resource, sys, time
from pathlib import Path
from azrender.apps import adapter_for_scene
from azrender.scan.cache import ScanCache
scene = Path(sys.argv[-1])
adapter = adapter_for_scene(scene)
cache = ScanCache()
cache.scan(adapter, scene)  # fills the cache unless the whole-process side already did
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
result = cache.scan(adapter, scene)
print("AZR-BENCH " + json.dumps([time.perf_counter() - t, len(result.assets), base]))
"""

# The same, the entry read back from its file as a new process would (not this process's decoded one).
_CACHED_FILE = _CACHED.replace("base = resource", "from azrender.scan import kept\nkept.RECENT.clear()\nbase = resource")

_BAT = r"""
import json, resource, sys, time
from pathlib import Path
from blender_asset_tracer import trace
scene = Path(sys.argv[-1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
count = sum(1 for _ in trace.deps(scene))
print("AZR-BENCH " + json.dumps([time.perf_counter() - t, count, base]))
"""

_BPY = r"""
import json, resource, sys, time, bpy
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
paths = bpy.utils.blend_paths(absolute=True)
print("AZR-BENCH " + json.dumps([time.perf_counter() - t, len(paths), base]))
"""

IN_PROCESS = {"azrender": _AZRENDER, "cached": _CACHED, "cached file": _CACHED_FILE, "BAT": _BAT, "bpy": _BPY}
#: The whole-process sides: argv before the scene (each prints its JSON on stdout).
WHOLE = {
    "azrender scan": [str(BIN / "azrender"), "scan", "--json", "--no-cache"],
    "cached scan": [str(BIN / "azrender"), "scan", "--json"],
    "bat list": [str(BIN / "bat"), "list", "--json"],
}


@dataclass
class Run:
    """Best time over the runs, the count the side reported, peak memory (MiB) and its growth."""

    seconds: float = float("inf")
    count: int = -1
    peak: float = 0.0
    growth: float = 0.0

    def add(self, seconds: float, count: int, peak: float, base: float) -> None:
        self.seconds = min(self.seconds, seconds)
        self.count = count
        self.peak = max(self.peak, peak)
        self.growth = max(self.growth, peak - base)

    def memory(self) -> str:
        return f"{self.peak:.0f} (+{self.growth:.0f})"


class SideFailed(RuntimeError):
    """A side exited with an error (e.g. ``bat list`` on a file it cannot read)."""


def run_child(argv: list[str]) -> tuple[float, str, float]:
    """Run ``argv`` in a fresh process: (wall seconds, its stdout, its peak MiB)."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        # wait4, not wait: it also returns the child's own resource usage
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise SideFailed(f"{' '.join(argv[:3])}... exited with {proc.returncode}:\n{tail}")
    return seconds, out, usage.ru_maxrss / 1024


def run_side(side: str, scene: Path) -> tuple[float, int, float, float]:
    """One run of ``side`` on ``scene``: (seconds, files found, peak MiB, MiB before the scan)."""
    if side in WHOLE:
        seconds, out, peak = run_child([*WHOLE[side], str(scene)])
        doc = json.loads(out)  # azrender: {"assets": [...]}; bat list: {blend file: [its dependencies]}
        count = len(doc["assets"]) if "assets" in doc else len({d for deps in doc.values() for d in deps})
        return seconds, count, peak, 0.0
    _, out, peak = run_child([sys.executable, "-c", IN_PROCESS[side], str(scene)])
    line = next(ln for ln in out.splitlines() if ln.startswith("AZR-BENCH "))
    seconds, count, base = json.loads(line[len("AZR-BENCH ") :])
    return float(seconds), int(count), peak, base / 1024


def measure(scene: Path, sides: list[str], repeat: int) -> dict[str, Run]:
    """Best of ``repeat`` per side, each run a fresh process; the order alternates per round."""
    runs = {side: Run() for side in sides}
    for r in range(repeat):
        for side in sides if r % 2 == 0 else reversed(sides):
            runs[side].add(*run_side(side, scene))
    return runs


def age(folder: Path, seconds: float = 60.0) -> None:
    """Date every file and folder below ``folder`` ``seconds`` back (out of the cache's racy window)."""
    when = time.time() - seconds
    for path in [*folder.rglob("*"), folder]:
        os.utime(path, (when, when))


def real_cases(quick: bool) -> list[Path]:
    found = sorted(REAL.rglob("*.blend"), key=lambda p: (p.stat().st_size, str(p)))
    return found[:4] if quick else found


def bench_real(quick: bool, repeat: int) -> None:
    """Real .blend files: whole process vs `bat list`, scan call vs BAT's tracer."""
    sides = ["azrender scan", "bat list", "azrender", "BAT"]
    print(f"{'real .blend':>40} {'az s':>6} {'bat list s':>10} {'ratio':>6} {'az call s':>9}"
          f" {'BAT call s':>10} {'ratio':>6} {'az MiB':>7} {'bat MiB':>7}")
    whole, call, skipped = [], [], []
    for scene in real_cases(quick):
        try:
            runs = measure(scene, sides, repeat)
        except SideFailed:
            skipped.append(scene.name)
            continue
        az, bat, az_call, bat_call = (runs[s] for s in sides)
        whole.append(az.seconds / bat.seconds)
        call.append(az_call.seconds / bat_call.seconds)
        print(f"{scene.name[-40:]:>40} {az.seconds:>6.3f} {bat.seconds:>10.3f} {whole[-1]:>6.2f}"
              f" {az_call.seconds:>9.4f} {bat_call.seconds:>10.4f} {call[-1]:>6.2f}"
              f" {az.peak:>7.0f} {bat.peak:>7.0f}")
    if whole:
        print(f"{len(whole)} files; azrender / bat list, whole process: median {statistics.median(whole):.2f},"
              f" {min(whole):.2f}-{max(whole):.2f}; scan call / BAT's: median {statistics.median(call):.2f},"
              f" {min(call):.2f}-{max(call):.2f}")
    if skipped:
        print(f"skipped (a side failed to read them): {', '.join(skipped)}")


def bench_generated(root: Path, sizes: list[int], repeat: int) -> bool:
    """Generated .blend files with ``n`` images: every side, the unchanged rescan, memory."""
    sides = ["azrender scan", "cached scan", "bat list", "azrender", "cached", "cached file", "BAT", "bpy"]
    print(f"\n{'images':>7} {'az s':>7} {'bat list s':>10} {'ratio':>6} {'az call':>8} {'BAT call':>8}"
          f" {'vs BAT':>7} {'bpy s':>7} {'vs bpy':>7} {'cached/cold':>11} {'call':>6} {'file':>6}"
          f" {'az MiB':>10} {'BAT MiB':>10} {'bpy MiB':>10}  files az/BAT/bpy")
    ok = True
    for n in sizes:
        scene, _ = generate("make_blend", root / f"b{n}", n)
        age(scene.parent)
        run_side("cached scan", scene)  # fills the scan cache
        runs = measure(scene, sides, repeat)
        az, cached, bat = runs["azrender scan"], runs["cached scan"], runs["bat list"]
        call, call_cached, bat_call, bpy = runs["azrender"], runs["cached"], runs["BAT"], runs["bpy"]
        from_file = runs["cached file"]
        print(f"{n:>7} {az.seconds:>7.3f} {bat.seconds:>10.3f} {az.seconds / bat.seconds:>6.2f}"
              f" {call.seconds:>8.3f} {bat_call.seconds:>8.3f} {call.seconds / bat_call.seconds:>7.2f}"
              f" {bpy.seconds:>7.3f} {call.seconds / bpy.seconds:>7.2f}"
              f" {cached.seconds / az.seconds:>11.3f} {call_cached.seconds / call.seconds:>6.3f}"
              f" {from_file.seconds / call.seconds:>6.3f}"
              f" {call.memory():>10} {bat_call.memory():>10} {bpy.memory():>10}"
              f"  {call.count}/{bat_call.count}/{bpy.count}")
        ok = ok and call.count == call_cached.count == from_file.count == az.count == n + 1
    print("ratios: azrender / peer (whole process vs bat list; scan call vs BAT's tracer and vs bpy's"
          " open + blend_paths); cached/cold: an unchanged rescan, whole process, scan call (the entry"
          " decoded in the process) and scan call with the entry read from its file")
    return ok


def bench_maya(root: Path, quick: bool, repeat: int) -> bool:
    ma_sizes = [200, 1000] if quick else [1000, 10000, 50000]
    print(f"\n{'.ma nodes':>24} {'MB':>6} {'azrender s':>11} {'MB/s':>7} {'azrender MiB':>13} files")
    scenes = [(f"{5 * n} small nodes", *generate("make_ma", root / f"m{n}", n)) for n in ma_sizes]
    big, textures = generate("make_big_ma", root / "big", 5 if quick else 50)
    scenes.append((f"meshes, {textures} files", big, textures))
    ok = True
    for label, scene, files in scenes:
        az = measure(scene, ["azrender"], repeat)["azrender"]
        mb = scene.stat().st_size / 2**20
        print(f"{label:>24} {mb:>6.1f} {az.seconds:>11.4f} {mb / az.seconds:>7.1f} {az.memory():>13} {az.count}")
        ok = ok and az.count == files + 1
    return ok


def compile_checkout() -> None:
    """Byte-compile the checkout, as pip compiles an installed wheel: what a user's process loads.

    An editable install has no ``.pyc`` of its own, and where ``PYTHONDONTWRITEBYTECODE``
    is set every child would compile azrender from source while BAT (installed
    from a wheel) starts from bytecode (scripts/setup.sh does the same).
    """
    here = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(here / "core"), str(here / "plugins")],
                   check=True, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenes only")
    parser.add_argument("--maya", action="store_true", help="only the .ma measurements")
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else 3
    ok = True
    compile_checkout()
    with tempfile.TemporaryDirectory(prefix="azrender-bench-") as tmp:
        root = Path(tmp)
        # The bench's own scan cache: the cached sides fill it, the user's stays untouched.
        os.environ["AZRENDER_CACHE_DIR"] = str(root / "cache")
        print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.2f}\n")
        if not args.maya:
            if REAL.is_dir():
                bench_real(args.quick, repeat)
            ok = bench_generated(root, [50, 200] if args.quick else [1000, 10000], repeat)
        ok = bench_maya(root, args.quick, repeat) and ok
        print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process's own peak: {floor:.0f} MiB, the floor of every MiB column above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
