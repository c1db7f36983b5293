"""Benchmark `azrender scan` against blender-asset-tracer and against opening the scene in Blender.

Run by hand (several minutes; ``--quick`` for well under a minute; ``--maya`` for the .ma part only)::

    .venv/bin/python bench/scan.py [--quick] [--maya]

Every measurement runs in a fresh Python process of its own (``sys.executable -c``),
so no side gets another's imports, caches or monkey-patches (azrender patches
parts of BAT in its own process; here BAT runs unpatched, as ``bat list`` would).
Each child times only the scan, not interpreter start-up or imports, and prints
its time and count; the parent reads the child's peak resident memory with
``os.wait4`` (``ru_maxrss``: interpreter and imports included; the child also
reports its ``ru_maxrss`` before the scan, printed as ``+growth``). Linux starts
a child's ``ru_maxrss`` at its parent's high-water mark (the exec'd-over memory
counts), so the parent stays small: it writes the generated scenes in child
processes too, and prints its own high-water mark, the floor of every column.

For growing generated .blend scenes it prints, per size, the best of 3 wall times of

* ``azrender`` — the scan API (``adapter_for_scene(scene).scan(scene)``);
* ``BAT`` — blender-asset-tracer's tracer (``trace.deps``), the engine of ``bat list``;
* ``bpy`` — ``bpy.ops.wm.open_mainfile`` + ``bpy.utils.blend_paths``, the ground truth;

the three sides run in alternating order (azrender, BAT, bpy; then bpy, BAT,
azrender; ...), and the ratios are of times measured in this same run.
Aims: >= 20x faster than bpy, not slower than BAT, memory flat as the scene grows.

Maya files have no headless peer: the bench prints the MB/s of scanning generated
.ma files, one made of many small statements and one large file as Maya writes
meshes (long ``setAttr`` value lists) with thousands of file textures. Aim: >= 20 MB/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Builds a .blend with `n` images (files on disk), `n` materials using them and `n` meshes.
_MAKE_BLEND = r"""
import sys, bpy
out, n = sys.argv[-2], int(sys.argv[-1])
bpy.ops.wm.read_factory_settings(use_empty=True)
tex = out.rsplit("/", 1)[0] + "/tex"
for i in range(n):
    img = bpy.data.images.new(f"img{i}", 4, 4)
    img.source = "FILE"
    img.filepath = f"{tex}/t{i:05d}.png"
    mat = bpy.data.materials.new(f"mat{i}")
    mat.use_nodes = True
    node = mat.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = img
    mesh = bpy.data.meshes.new(f"mesh{i}")
    mesh.materials.append(mat)
    obj = bpy.data.objects.new(f"obj{i}", mesh)
    bpy.context.scene.collection.objects.link(obj)
bpy.ops.wm.save_as_mainfile(filepath=out)
"""

# The three sides, each run as `python -c <code> <scene>`. Each prints one line
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

SIDES = {"azrender": _AZRENDER, "BAT": _BAT, "bpy": _BPY}

# Writes a generated .ma in a child process (see the module docstring): this file's
# make_ma / make_big_ma, called with the arguments after the path of this file.
_GENERATE = r"""
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("azrender_bench_scan", sys.argv[1])
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
make, folder, size = getattr(bench, sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
path, textures = make(folder, int(size)) if sys.argv[2] == "make_ma" else make(folder, size)
print(json.dumps([str(path), textures]))
"""


def generate(make: str, folder: Path, size: float) -> tuple[Path, int]:
    """``make_ma`` or ``make_big_ma`` run in a child process: (path, file textures)."""
    proc = subprocess.run(
        [sys.executable, "-c", _GENERATE, __file__, make, str(folder), str(size)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1200,
    )
    path, textures = json.loads(proc.stdout.splitlines()[-1])
    return Path(path), int(textures)


def make_blend(folder: Path, n: int) -> Path:
    tex = folder / "tex"
    tex.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (tex / f"t{i:05d}.png").write_bytes(b"\x89PNG")
    out = folder / f"many_{n}.blend"
    subprocess.run(
        [sys.executable, "-c", _MAKE_BLEND, str(out), str(n)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def make_ma(folder: Path, n: int) -> tuple[Path, int]:
    """A Maya ASCII scene of small statements: `n` file textures, meshes and shading groups.

    Returns (path, file textures).
    """
    tex = folder / "sourceimages"
    tex.mkdir(parents=True, exist_ok=True)
    lines = [
        "//Maya ASCII 2024 scene",
        "//Codeset: UTF-8",
        'requires maya "2024";',
        "currentUnit -l centimeter -a degree -t film;",
    ]
    for i in range(n):
        (tex / f"t{i:05d}.png").write_bytes(b"\x89PNG")
        lines += [
            f'createNode transform -n "obj{i}";',
            f'createNode mesh -n "objShape{i}" -p "obj{i}";',
            '\tsetAttr -k off ".v";',
            '\tsetAttr ".uvst[0].uvsn" -type "string" "map1";',
            '\tsetAttr -s 4 ".uvst[0].uvsp[0:3]" -type "float2" 0 0 1 0 0 1 1 1;',
            f'createNode file -n "file{i}";',
            f'\tsetAttr ".ftn" -type "string" "sourceimages/t{i:05d}.png";',
            '\tsetAttr ".cs" -type "string" "sRGB";',
            f'createNode lambert -n "mat{i}";',
            f'createNode shadingEngine -n "mat{i}SG";',
            '\tsetAttr ".ihi" 0;',
            '\tsetAttr ".ro" yes;',
        ]
    for i in range(n):
        lines.append(f'connectAttr "file{i}.oc" "mat{i}.c";')
    out = folder / f"many_{n}.ma"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out, n


def make_big_ma(folder: Path, megabytes: float, files_per_mesh: int = 2) -> tuple[Path, int]:
    """A large Maya ASCII scene laid out as Maya writes one (see CartoonHouses.ma in
    shared/fixtures): per mesh a transform, a mesh whose ``.uvst[0].uvsp``, ``.vt``,
    ``.ed``, ``.n`` and ``.fc`` (``polyFaces``) value lists span many lines, in chunks
    for big meshes, and ``files_per_mesh`` file textures with their place2dTexture,
    material and shading group; then the connections. Returns (path, file textures).
    """
    rnd = random.Random(0)
    tex = folder / "sourceimages"
    tex.mkdir(parents=True, exist_ok=True)
    out = folder / "big.ma"

    def numbers(count: int, per_line: int, fmt: str = "{:.8g}") -> str:
        values = [fmt.format(rnd.uniform(-10, 10)) for _ in range(count)]
        lines = (" ".join(values[i : i + per_line]) for i in range(0, count, per_line))
        return "\n\t\t ".join(lines)

    def chunked(attr: str, total: int, chunk: int, kind: str, body) -> list[str]:  # type: ignore[no-untyped-def]
        if total <= chunk:
            return [f'\tsetAttr -s {total} ".{attr}[0:{total - 1}]"{kind} {body(total)};']
        parts = [f'\tsetAttr -s {total} ".{attr}";']
        for lo in range(0, total, chunk):
            hi = min(total, lo + chunk) - 1
            parts.append(f'\tsetAttr ".{attr}[{lo}:{hi}]"{kind} {body(hi - lo + 1)};')
        return parts

    def faces(count: int) -> str:
        rows = []
        for f in range(count):
            a = 4 * f
            rows.append(f"f 4 {a} {a + 1} -{a + 2} {a + 3}")
            rows.append(f"mu 0 4 {a} {a + 1} {a + 2} {a + 3}")
        return "\n\t\t" + "\n\t\t".join(rows)

    size, mesh, textures = 0, 0, 0
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            "//Maya ASCII 2024 scene\n//Name: big.ma\n//Codeset: UTF-8\n"
            'requires maya "2024";\nrequires "mtoa" "5.3.0";\n'
            "currentUnit -l centimeter -a degree -t film;\n"
            'fileInfo "application" "maya";\nfileInfo "product" "Maya 2024";\n'
        )
        connects: list[str] = []
        while size < megabytes * 2**20:
            verts = rnd.choice([120, 400, 1200])
            nfaces = verts
            lines = [
                f'createNode transform -n "geo{mesh}";',
                f'\trename -uid "{rnd.getrandbits(128):032X}";',
                f'\tsetAttr ".t" -type "double3" {numbers(3, 3)} ;',
                f'createNode mesh -n "geo{mesh}Shape" -p "geo{mesh}";',
                f'\trename -uid "{rnd.getrandbits(128):032X}";',
                '\tsetAttr -k off ".v";',
                '\tsetAttr ".vir" yes;',
                '\tsetAttr ".vif" yes;',
                '\tsetAttr ".uvst[0].uvsn" -type "string" "map1";',
                *chunked(
                    "uvst[0].uvsp", verts, 250, ' -type "float2"', lambda n: numbers(2 * n, 8)
                ),
                '\tsetAttr ".cuvs" -type "string" "map1";',
                '\tsetAttr ".dcc" -type "string" "Ambient+Diffuse";',
                *chunked("vt", verts, 166, " ", lambda n: numbers(3 * n, 6)),
                *chunked("ed", 2 * verts, 500, " ", lambda n: numbers(3 * n, 12, "{:.0f}")),
                *chunked("n", 4 * nfaces, 250, ' -type "float3"', lambda n: numbers(3 * n, 9)),
                *chunked("fc", nfaces, 500, ' -type "polyFaces"', faces),
                '\tsetAttr ".cd" -type "dataPolyComponent" Index_Data Edge 0 ;',
            ]
            for k in range(files_per_mesh):
                name = f"file{mesh}_{k}"
                rel = f"sourceimages/t{textures:05d}.png"
                (folder / rel).write_bytes(b"\x89PNG")
                lines += [
                    f'createNode place2dTexture -n "place{mesh}_{k}";',
                    f'createNode file -n "{name}";',
                    f'\trename -uid "{rnd.getrandbits(128):032X}";',
                    f'\tsetAttr ".ftn" -type "string" "{rel}";',
                    '\tsetAttr ".cs" -type "string" "sRGB";',
                ]
                connects += [
                    f'connectAttr "place{mesh}_{k}.o" "{name}.uv";',
                    f'connectAttr "{name}.oc" "mat{mesh}.c";',
                ]
                textures += 1
            lines += [
                f'createNode lambert -n "mat{mesh}";',
                f'createNode shadingEngine -n "mat{mesh}SG";',
                '\tsetAttr ".ihi" 0;',
                '\tsetAttr ".ro" yes;',
            ]
            connects.append(f'connectAttr "mat{mesh}.oc" "mat{mesh}SG.ss";')
            block = "\n".join(lines) + "\n"
            fh.write(block)
            size += len(block)
            mesh += 1
        fh.write(
            'select -ne :time1;\n\tsetAttr ".o" 1;\nselect -ne :defaultRenderGlobals;\n'
            '\tsetAttr ".ren" -type "string" "arnold";\n'
        )
        fh.write("\n".join(connects) + "\n// End of big.ma\n")
    return out, textures


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


def run_side(code: str, scene: Path) -> tuple[float, int, float, float]:
    """Run one side in a fresh process: (seconds, count, peak MiB, MiB before the scan)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(scene)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        # wait4, not wait: it also returns the child's own resource usage
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{scene.name}: side exited with {proc.returncode}:\n{tail}")
    line = next(ln for ln in out.splitlines() if ln.startswith("AZR-BENCH "))
    seconds, count, base = json.loads(line[len("AZR-BENCH ") :])
    return float(seconds), int(count), usage.ru_maxrss / 1024, base / 1024


def measure(scene: Path, sides: list[str], repeat: int = 3) -> dict[str, Run]:
    """Best of ``repeat`` per side, each run a fresh process; the order alternates per round."""
    runs = {side: Run() for side in sides}
    for r in range(repeat):
        for side in sides if r % 2 == 0 else reversed(sides):
            runs[side].add(*run_side(SIDES[side], scene))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenes only")
    parser.add_argument("--maya", action="store_true", help="only the .ma measurements")
    args = parser.parse_args(argv)
    blend_sizes = [] if args.maya else [50, 200] if args.quick else [250, 1000, 4000]
    ma_sizes = [200, 1000] if args.quick else [1000, 10000, 50000]
    big_mb = 5 if args.quick else 50
    ok = True
    with tempfile.TemporaryDirectory(prefix="azrender-bench-") as tmp:
        root = Path(tmp)
        if blend_sizes:
            print(
                f"{'.blend datablocks':>18} {'azrender s':>11} {'BAT s':>9} {'bpy s':>9}"
                f" {'vs BAT':>7} {'vs bpy':>7} {'azrender MiB':>13} {'BAT MiB':>12}"
                f" {'bpy MiB':>12}  files az/BAT/bpy"
            )
        for n in blend_sizes:
            scene = make_blend(root / f"b{n}", n)
            runs = measure(scene, ["azrender", "BAT", "bpy"])
            az, bat, bpy = runs["azrender"], runs["BAT"], runs["bpy"]
            print(
                f"{3 * n:>18} {az.seconds:>11.4f} {bat.seconds:>9.4f} {bpy.seconds:>9.4f}"
                f" {bat.seconds / az.seconds:>6.1f}x {bpy.seconds / az.seconds:>6.1f}x"
                f" {az.memory():>13} {bat.memory():>12} {bpy.memory():>12}"
                f"  {az.count}/{bat.count}/{bpy.count}"
            )
            ok = ok and az.count == n + 1
        print(
            f"\n{'.ma nodes':>24} {'MB':>6} {'azrender s':>11} {'MB/s':>7} {'azrender MiB':>13} files"
        )
        scenes = [
            (f"{5 * n} small nodes", *generate("make_ma", root / f"m{n}", n)) for n in ma_sizes
        ]
        big, textures = generate("make_big_ma", root / "big", big_mb)
        scenes.append((f"meshes, {textures} files", big, textures))
        for label, scene, textures in scenes:
            az = measure(scene, ["azrender"])["azrender"]
            mb = scene.stat().st_size / 2**20
            print(
                f"{label:>24} {mb:>6.1f} {az.seconds:>11.4f} {mb / az.seconds:>7.1f}"
                f" {az.memory():>13} {az.count}"
            )
            ok = ok and az.count == textures + 1
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(this process's own peak: {floor:.0f} MiB, the floor of every MiB column above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
