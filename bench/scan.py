"""Benchmark `azrender scan` against blender-asset-tracer and against opening the scene in Blender.

Run by hand (about two minutes; ``--quick`` for a few seconds)::

    .venv/bin/python bench/scan.py [--quick]

For growing generated scenes it prints, per size, the wall time of

* ``azrender`` — the in-process scan API (``adapter_for_scene(scene).scan(scene)``);
* ``bat list`` — blender-asset-tracer's tracer (``trace.deps``), the engine of ``bat list``,
  in the same process;
* ``bpy`` — ``bpy.ops.wm.open_mainfile`` + ``bpy.utils.blend_paths`` in a fresh Blender
  process, timed inside that process (interpreter start-up not counted);

and the ratios, plus the peak Python memory of the azrender scan (tracemalloc).
Aims: >= 20x faster than bpy, not slower than BAT, memory flat as the scene grows.
A large generated ``.ma`` is timed the same way (no peer reads Maya files headless).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from azrender.apps import adapter_for_scene

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

_BPY_PATHS = r"""
import json, sys, time, bpy
t = time.perf_counter()
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
paths = bpy.utils.blend_paths(absolute=True)
print("AZR-BENCH " + json.dumps([time.perf_counter() - t, len(paths)]))
"""


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


def make_ma(folder: Path, n: int) -> Path:
    """A Maya ASCII scene with `n` file textures, meshes and shading groups, as Maya writes them."""
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
    return out


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def azrender_scan(scene: Path) -> tuple[float, int, float]:
    """(seconds, files found, peak MiB) for the in-process scan."""
    adapter = adapter_for_scene(scene)
    seconds, result = timed(lambda: adapter.scan(scene), 3)
    tracemalloc.start()
    adapter.scan(scene)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, len(result.assets), peak / 2**20  # type: ignore[attr-defined]


def bat_scan(scene: Path) -> tuple[float, int]:
    from blender_asset_tracer import trace

    def run() -> int:
        return sum(1 for _ in trace.deps(scene))

    seconds, count = timed(run, 3)
    return seconds, int(count)  # type: ignore[call-overload]


def bpy_scan(scene: Path) -> tuple[float, int]:
    proc = subprocess.run(
        [sys.executable, "-c", _BPY_PATHS, str(scene)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-BENCH "))
    seconds, count = json.loads(line[len("AZR-BENCH ") :])
    return float(seconds), int(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenes only (a few seconds)")
    args = parser.parse_args(argv)
    blend_sizes = [50, 200] if args.quick else [250, 1000, 4000]
    ma_sizes = [200, 1000] if args.quick else [1000, 10000, 50000]
    ok = True
    with tempfile.TemporaryDirectory(prefix="azrender-bench-") as tmp:
        root = Path(tmp)
        print(
            f"{'.blend datablocks':>18} {'azrender s':>11} {'BAT s':>9} {'bpy s':>9} {'vs BAT':>7} {'vs bpy':>7} {'peak MiB':>9} files"
        )
        for n in blend_sizes:
            scene = make_blend(root / f"b{n}", n)
            az, files, peak = azrender_scan(scene)
            bat, _ = bat_scan(scene)
            bpy, _ = bpy_scan(scene)
            print(
                f"{3 * n:>18} {az:>11.4f} {bat:>9.4f} {bpy:>9.4f} {bat / az:>6.1f}x {bpy / az:>6.1f}x {peak:>9.2f} {files}"
            )
            ok = ok and files == n + 1
        print(f"\n{'.ma nodes':>18} {'azrender s':>11} {'MB/s':>9} {'peak MiB':>9} files")
        for n in ma_sizes:
            scene = make_ma(root / f"m{n}", n)
            az, files, peak = azrender_scan(scene)
            mb = scene.stat().st_size / 2**20
            print(f"{5 * n:>18} {az:>11.4f} {mb / az:>9.1f} {peak:>9.2f} {files}")
            ok = ok and files == n + 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
