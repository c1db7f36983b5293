"""A scene saved on a Windows workstation renders on a Linux node once its paths are remapped.

Real Blender (bpy): the demo shot is re-saved with every image and the linked
library pointing at ``P:\\show\\shot010\\...`` (as an artist's machine with the
show on drive P: writes them). The files themselves sit in a folder standing
for the node's mapped root. Rendered through ``azrender-blender`` with the
emitted remap script and a ``P:\\show`` rule, the textures are found; the same
render without the rule shows Blender's missing-texture magenta.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from blender_helpers import RUNNER, bpy_run
from test_blender_runner import image_stats

from azrender.paths import MapRule, PathMap
from azrender_blender.adapter import BlenderAdapter
from azrender_blender.node.remap import is_unmapped, remap_path

# --- the mapping itself (no Blender needed) ----------------------------------------------

RULES = [("P:\\show", "/node/show"), ("P:\\show\\library", "/node/lib"), ("/mnt/show", "/node/show")]


@pytest.mark.parametrize(
    ("old", "mirror", "new"),
    [
        ("P:\\show\\tex\\a b.png", None, "/node/show/tex/a b.png"),
        ("p:/SHOW/tex/a.png", None, "/node/show/tex/a.png"),  # Windows sources ignore case
        ("P:\\show\\library\\tree.abc", None, "/node/lib/tree.abc"),  # longest source wins
        ("/mnt/show/tex/é ü.png", None, "/node/show/tex/é ü.png"),
        ("/MNT/show/a.png", None, None),  # POSIX sources are exact
        ("P:\\show\\strips\\", None, "/node/show/strips/"),  # folders keep their slash
        ("C:\\Users\\me\\a.png", None, None),  # nothing covers it
        ("C:\\Users\\me\\a.png", "/m", "/m/C/Users/me/a.png"),  # ... except the mirror
        ("P:\\show\\a.png", "/m", "/node/show/a.png"),  # rules before the mirror
        ("/node/show/tex/a.png", "/m", None),  # already on the node: run twice, same result
        ("//tex/a.png", None, None),
    ],
)
def test_rules_first_then_the_mirror(old: str, mirror: str | None, new: str | None) -> None:
    assert remap_path(old, mirror, "linux", RULES) == new


def test_unmapped_is_reported_only_without_a_mirror() -> None:
    assert is_unmapped("C:\\Users\\me\\a.png", None, RULES)
    assert not is_unmapped("C:\\Users\\me\\a.png", "/m", RULES)
    assert not is_unmapped("P:\\show\\a.png", None, RULES)
    assert not is_unmapped("/node/show/a.png", None, RULES)
    assert not is_unmapped("//rel.png", None, RULES)


def test_emitted_script_carries_the_rules_code_and_the_mapping() -> None:
    pathmap = PathMap(rules=(MapRule("P:\\show", "$AZ_BATCH_NODE_MOUNTS_DIR/show"),))
    source = BlenderAdapter().remap_script(pathmap)
    assert "import azrender" not in source and "from azrender" not in source
    namespace: dict[str, object] = {"__name__": "azrender_remap"}
    exec(compile(source, "remap.py", "exec"), namespace)
    assert callable(namespace["map_path"])  # the embedded azrender.paths.rules
    config = json.loads(str(namespace["AZRENDER_CONFIG"]))
    assert config["mirror_root"] is None
    assert config["rules"] == [["P:\\show", "$AZ_BATCH_NODE_MOUNTS_DIR/show"]]
    remap = namespace["remap_path"]
    assert remap("P:\\show\\a.png", None, "linux", [("P:\\show", "/n")]) == "/n/a.png"  # type: ignore[operator]


# --- real Blender --------------------------------------------------------------------------

# Point every local image and library at drive P:, keeping the relative layout.
_TO_WINDOWS = r"""
import json, sys, bpy
scene, out, root = sys.argv[-3], sys.argv[-2], sys.argv[-1]
bpy.ops.wm.open_mainfile(filepath=scene)
def win(path):
    rel = path[2:] if path.startswith("//") else path
    return root + "\\" + rel.replace("/", "\\")
for lib in bpy.data.libraries:
    lib.filepath = win(lib.filepath)
for image in bpy.data.images:
    if image.library is None and image.source in {"FILE", "SEQUENCE", "TILED"}:
        image.filepath = win(image.filepath)
bpy.ops.wm.save_as_mainfile(filepath=out, compress=False, relative_remap=False)
"""

# What Blender reads back (on Linux it shows the separators as '/').
_SAVED_PATHS = r"""
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
saved = sorted([i.filepath for i in bpy.data.images if i.library is None and i.filepath]
               + [lib.filepath for lib in bpy.data.libraries])
print("AZR-SAVED " + json.dumps(saved))
"""


def saved_paths(scene: Path) -> list[str]:
    proc = bpy_run(_SAVED_PATHS, str(scene))
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-SAVED "))
    return list(json.loads(line[len("AZR-SAVED ") :]))


@pytest.fixture(scope="module")
def windows_scene(demo_scene_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the scene saved with P:\\show\\... paths, the node folder that holds the show)."""
    base = tmp_path_factory.mktemp("winpaths")
    node_show = base / "node share" / "show"  # a space, as mounts and artists' folders have
    shutil.copytree(demo_scene_dir, node_show / "shot010")
    artist = base / "artist"
    artist.mkdir()
    scene = artist / "shot010_win.blend"
    bpy_run(_TO_WINDOWS, str(demo_scene_dir / "shot010.blend"), str(scene), "P:\\show\\shot010")
    # On disk the paths are exactly what a Windows workstation writes ...
    data = scene.read_bytes()
    for rel in ("textures\\brick wall.png", "textures\\paint.<UDIM>.png",
                "textures\\flicker\\flicker.0001.png", "lib\\prop.blend"):
        assert b"P:\\show\\shot010\\" + rel.encode() + b"\0" in data, rel
    # ... and Blender on the Linux node reads every one of them as a P: path.
    saved = saved_paths(scene)
    assert len(saved) == 4 and all(p.startswith("P:/show/shot010/") for p in saved), saved
    return scene, node_show


def render(scene: Path, pathmap: PathMap, out: Path) -> tuple[Path, str]:
    script = out / "remap.py"
    out.mkdir(parents=True, exist_ok=True)
    script.write_text(BlenderAdapter().remap_script(pathmap), encoding="utf-8")
    proc = subprocess.run(
        [str(RUNNER), "-b", str(scene), "--python-exit-code", "1", "--python", str(script),
         "-o", str(out / "frame_####"), "-F", "PNG", "-f", "1"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "frame_0001.png", proc.stdout


@pytest.mark.bpy
@pytest.mark.slow
def test_rule_for_drive_p_finds_every_texture(windows_scene: tuple[Path, Path], tmp_path: Path) -> None:
    scene, node_show = windows_scene
    # Lower-case, forward slashes: Windows sources match whatever the scene spelled.
    pathmap = PathMap(rules=(MapRule("p:/Show", str(node_show)),))
    frame, log = render(scene, pathmap, tmp_path / "mapped")
    colours, spread, magenta = image_stats(frame)
    assert magenta < 0.15 and colours > 500 and spread > 20, (magenta, colours, spread)
    assert f"{node_show}/shot010/textures/brick wall.png" in log
    assert f"{node_show}/shot010/lib/prop.blend" in log
    assert "below no mapped root" not in log


@pytest.mark.bpy
@pytest.mark.slow
def test_without_the_rule_the_textures_are_missing(windows_scene: tuple[Path, Path], tmp_path: Path) -> None:
    scene, _ = windows_scene
    # An nfs-style mapping (no mirror) with a rule for another drive: nothing maps.
    pathmap = PathMap(rules=(MapRule("Q:\\elsewhere", "/mnt/elsewhere"),))
    frame, log = render(scene, pathmap, tmp_path / "unmapped")
    assert image_stats(frame)[2] > 0.6, "missing textures render magenta"
    assert "P:/show/shot010/textures/brick wall.png is below no mapped root" in log
    assert "0 path(s) rewritten" in log
