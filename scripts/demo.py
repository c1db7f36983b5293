"""The demo: a real Blender scene through the whole flow, with the real CLI.

``python scripts/demo.py [--frames 1-4] [--workdir DIR]`` (run by
``scripts/demo.sh`` with a private Azurite) makes a scene with bpy, then runs
exactly what an artist's button or a pipeline script runs::

    azrender scan    shot010.blend
    azrender submit  shot010.blend --preset demo.toml --frames 1-4 --wait
    azrender download <job id> --preset demo.toml --dest demo-output/<job id>

and prints where the frames landed. It needs ``AZURE_STORAGE_CONNECTION_STRING``
(Azurite's, set by ``python -m azrender.local.azurite``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PRESET = """\
# Demo preset: blob storage (Azurite here), rendered by the local backend.
name = "demo"

[storage]
mode = "blob-copy"
assets_container = "demo-assets"
outputs_container = "demo-outputs"

[backend]
kind = "local"
slots = 2

[render]
chunk = 2
format = "PNG"
"""


def _say(message: str) -> None:
    print(f"\033[1mdemo:\033[0m {message}", file=sys.stderr, flush=True)


def _azrender(*args: str, capture: bool = False) -> str:
    exe = Path(sys.executable).parent / "azrender"
    command = [str(exe), *args]
    _say("$ azrender " + " ".join(args))
    done = subprocess.run(command, check=False, text=True, stdout=subprocess.PIPE if capture else None)
    if done.returncode != 0:
        raise SystemExit(f"demo: `azrender {args[0]}` failed with exit code {done.returncode}")
    return done.stdout or ""


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(prog="azrender-demo", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", default="1-4")
    parser.add_argument("--workdir", type=Path, default=repo / ".azrender-demo")
    parser.add_argument("--output", type=Path, default=repo / "demo-output")
    args = parser.parse_args(argv)

    if not os.environ.get("AZURE_STORAGE_CONNECTION_STRING"):
        print(
            "error: AZURE_STORAGE_CONNECTION_STRING is not set "
            "(run the demo with `bash scripts/demo.sh`, which starts Azurite)",
            file=sys.stderr,
        )
        return 2
    workdir: Path = args.workdir.absolute()
    # The demo keeps its hash cache and its emulated node inside the work folder,
    # so it never touches the user's own azrender folders.
    os.environ.setdefault("AZRENDER_DATA_DIR", str(workdir / "data"))
    os.environ.setdefault("AZRENDER_CACHE_DIR", str(workdir / "cache"))

    started = time.monotonic()
    _say(f"making the demo scene with Blender (bpy) in {workdir / 'project'}")
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("demo_scene.py")), str(workdir / "project")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    scene = workdir / "project" / "shot010.blend"
    preset = workdir / "demo.toml"
    preset.write_text(PRESET)

    _azrender("scan", str(scene))
    submitted = json.loads(
        _azrender("submit", str(scene), "--preset", str(preset), "--frames", args.frames, "--wait", "--json",
                  capture=True)
    )
    job_id = submitted["job_id"]
    _say(
        f"job {job_id}: uploaded {submitted['uploaded_files']} of {submitted['files']} files, "
        f"{submitted['counts']['succeeded']} of {len(submitted['tasks'])} tasks succeeded"
    )
    if submitted["counts"]["failed"]:
        for task in submitted["tasks"]:
            if task["result"] == "failure":
                _say(f"task {task['task_id']} failed: {task['failure']}")
        return 4
    dest = args.output.absolute() / job_id
    _azrender("download", job_id, "--preset", str(preset), "--dest", str(dest))
    frames = sorted((dest / "frames").glob("*"))
    _say(f"done in {time.monotonic() - started:.0f}s")
    print(f"{len(frames)} frames rendered on the local node are in: {dest / 'frames'}")
    for frame in frames:
        print(f"  {frame}")
    return 0 if frames else 1


if __name__ == "__main__":
    raise SystemExit(main())
