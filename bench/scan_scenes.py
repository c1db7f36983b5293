"""The scenes bench/scan.py measures, generated: .blend files with many images, Maya ASCII files.

Each is written by a child process (``generate``), so the bench's own process
stays small: on Linux a child's ``ru_maxrss`` starts at its parent's
high-water mark (see bench/scan.py).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
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

# Writes a generated .ma in a child process (see the module docstring): this file's
# make_blend / make_ma / make_big_ma, called with the arguments after the path of this file.
_GENERATE = r"""
import importlib.util, json, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("azrender_bench_scan", sys.argv[1])
bench = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
make, folder, size = getattr(bench, sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
if sys.argv[2] == "make_blend":
    path, textures = make(folder, int(size)), int(size)
else:
    path, textures = make(folder, int(size)) if sys.argv[2] == "make_ma" else make(folder, size)
print(json.dumps([str(path), textures]))
"""


def generate(make: str, folder: Path, size: float) -> tuple[Path, int]:
    """``make_blend``, ``make_ma`` or ``make_big_ma`` run in a child process: (path, files it refers to)."""
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


