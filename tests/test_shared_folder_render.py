"""Storage mode ``nfs`` through the local backend: a local folder stands in for the mounted share.

The studio's show lives on a file server that artists see at ``<tmp>/studio/show``
and render nodes mount at ``$AZ_BATCH_NODE_MOUNTS_DIR/show``. Nothing is
uploaded; the emulated node links ``fsmounts/show`` to the folder
(``AZRENDER_LOCAL_MOUNTS``), the remap script moves every absolute path of the
scene below the mount by the preset's ``[[paths]]`` rule, and real frames come
back through the outputs container.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.errors import EXIT_ERROR, EXIT_USAGE
from azrender.local.azurite import AzuriteServer
from test_end_to_end import azrender, image_stats

pytestmark = [pytest.mark.azurite, pytest.mark.bpy, pytest.mark.slow]

# Make every path absolute, as many artists' scenes are: only a mapping can fix those.
DEMO_SCENE = Path(__file__).resolve().parents[1] / "scripts" / "demo_scene.py"
_ABSOLUTE = r"""
import sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
bpy.ops.file.make_paths_absolute()
bpy.ops.wm.save_mainfile(filepath=sys.argv[-1], compress=False)
print("AZR-PATHS", sorted(i.filepath for i in bpy.data.images if i.library is None and i.filepath))
"""


@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The show's folder on the 'file server', with the demo shot saved with absolute paths."""
    show = tmp_path_factory.mktemp("studio") / "show"
    shot = show / "shot010"
    subprocess.run([sys.executable, str(DEMO_SCENE), str(shot)], check=True,
                   capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", _ABSOLUTE, str(shot / "shot010.blend")],
                          capture_output=True, text=True, timeout=300, check=True)
    assert f"'{shot}/textures/brick wall.png'" in done.stdout, done.stdout[-2000:]
    return show


def write_preset(path: Path, rule_source: Path) -> Path:
    path.write_text(
        'name = "share"\n'
        '[storage]\nmode = "nfs"\nassets_container = "share-assets"\noutputs_container = "share-outputs"\n'
        '[share]\nsource = "10.1.0.4:/exports/show"\nmount_name = "show"\nmount_options = "-o ro"\n'
        f"[[paths]]\nsource = '{rule_source}'\ntarget = \".\"\n"
        '[backend]\nkind = "local"\nslots = 2\n',
        encoding="utf-8",
    )
    return path


def env_for(azurite: AzuriteServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("AZRENDER_LOCAL_MOUNTS", None)
    env.update(
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
        **extra,
    )
    return env


def test_render_from_the_share_uploads_nothing(share: Path, azurite: AzuriteServer, tmp_path: Path) -> None:
    env = env_for(azurite, tmp_path, AZRENDER_LOCAL_MOUNTS=f"show={share}")
    preset = write_preset(tmp_path / "nfs.toml", share)
    scene = share / "shot010" / "shot010.blend"

    done = azrender(env, "submit", str(scene), "--preset", str(preset), "--frames", "1-2", "--wait", "--json")
    assert done["state"] == "completed", done
    assert [t["result"] for t in done["tasks"]] == ["success", "success"]
    assert (done["uploaded_files"], done["uploaded_bytes"]) == (0, 0)

    # Only the job's own files (and the node bundle the preparation task installs) went to storage.
    assets = ContainerClient.from_connection_string(azurite.connection_string, "share-assets")
    names = [b.name for b in assets.list_blobs()]
    assert names and all(n.startswith((f"jobs/{done['job_id']}/", "azrender-node/")) for n in names), names
    assert any(n.startswith(f"jobs/{done['job_id']}/") for n in names), names

    node = tmp_path / "data" / "local" / "node"
    assert (node / "fsmounts" / "show").resolve() == share.resolve()
    log = (node / "workitems" / done["job_id"] / "job-1" / "frames-001" / "stdout.txt").read_text()
    on_mount = f"{node}/fsmounts/show/shot010/textures/brick wall.png"
    assert f"{share}/shot010/textures/brick wall.png -> {on_mount}" in log
    assert "below no mapped root" not in log

    dest = tmp_path / "back"
    azrender(env, "download", done["job_id"], "--preset", str(preset), "--dest", str(dest), "--json")
    frames = sorted((dest / "frames").glob("*.png"))
    assert [f.name for f in frames] == ["shot010_0001.png", "shot010_0002.png"]
    for frame in frames:
        stddev, magenta = image_stats(frame)
        assert stddev > 5, f"{frame.name} is blank"
        assert magenta < 0.01, f"{frame.name} shows missing textures"


def test_files_outside_the_mapped_roots_are_refused(share: Path, azurite: AzuriteServer, tmp_path: Path) -> None:
    env = env_for(azurite, tmp_path, AZRENDER_LOCAL_MOUNTS=f"show={share}")
    # Only the library folder is mapped: the shot's textures and the scene are stragglers.
    preset = write_preset(tmp_path / "narrow.toml", share / "shot010" / "lib")
    done = azrender(env, "submit", str(share / "shot010" / "shot010.blend"), "--preset", str(preset),
                    "--frames", "1", "--dry-run", expect=EXIT_USAGE)
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, done.stderr
    line = errors[0]
    assert "files are not below any mapped root" in line and "brick wall.png" in line
    assert "[[paths]]" in line


def test_the_local_node_needs_the_share(share: Path, azurite: AzuriteServer, tmp_path: Path) -> None:
    env = env_for(azurite, tmp_path)  # no AZRENDER_LOCAL_MOUNTS
    preset = write_preset(tmp_path / "nfs.toml", share)
    done = azrender(env, "submit", str(share / "shot010" / "shot010.blend"), "--preset", str(preset),
                    "--frames", "1", expect=EXIT_ERROR)
    assert "mount 'show'" in done.stderr and 'AZRENDER_LOCAL_MOUNTS="show=' in done.stderr
