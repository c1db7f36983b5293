"""Turn a scene, its frames and a preset's choices into a :class:`JobSpec`.

Pure functions: nothing here touches storage or starts a process, so the same
JobSpec can be checked in a dry run, run by the local backend or sent to
Azure Batch.

>>> new_job_id(Path("/shots/sh010 final.blend"), now=datetime(2026, 1, 2, 3, 4, 5), salt="ab12")
'sh010-final-20260102-030405-ab12'
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from azrender.apps import AppAdapter, RenderInvocation
from azrender.local.node import PREPARATION_TASK_ID, RELEASE_TASK_ID
from azrender.model import (
    FrameRange,
    JobSpec,
    OutputFileSpec,
    TaskSpec,
    UploadCondition,
)
from azrender.paths import PathMap

# Where the job's assets and per-job files live on a Linux Batch node.
NODE_ASSETS_ROOT = "$AZ_BATCH_NODE_SHARED_DIR/assets"
NODE_JOBS_ROOT = "$AZ_BATCH_NODE_SHARED_DIR/jobs"
REMAP_SCRIPT_NAME = "remap.py"

# Batch ids: letters, digits, hyphens and underscores, at most 64 characters.
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def new_job_id(scene: Path, *, now: datetime | None = None, salt: str | None = None) -> str:
    """A readable, unique, Batch-valid job id: ``<scene>-<utc time>-<random>``."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    tail = salt or secrets.token_hex(2)
    stem = _ID_UNSAFE.sub("-", scene.stem).strip("-_") or "job"
    suffix = f"-{stamp}-{tail}"
    return stem[: 64 - len(suffix)] + suffix


@dataclass(frozen=True)
class JobRequest:
    """What the user asked for; everything else is derived."""

    scene: Path
    app: str
    frames: FrameRange
    chunk_size: int
    assets_container: str
    outputs_container: str
    output_format: str = "PNG"
    max_task_retries: int = 1


def node_sync_command(job_id: str) -> str:
    """The job preparation command: bring exactly this job's assets to the node."""
    return f"python3 -m azrender.node sync --job {job_id}"


def node_release_command(job_id: str) -> str:
    return f"python3 -m azrender.node release --job {job_id}"


def build_job(request: JobRequest, adapter: AppAdapter, job_id: str) -> JobSpec:
    """The full job: preparation, one task per frame chunk, release.

    Every task uploads its frames to ``<job id>/`` in the outputs container and
    its ``stdout.txt``/``stderr.txt`` to ``<job id>/logs/<task id>/``, whether it
    succeeds or fails, so a failed frame can be diagnosed from the logs.
    """
    pathmap = PathMap(mirror_root=NODE_ASSETS_ROOT)
    node_scene = pathmap.to_node(request.scene)
    remap_script = f"{NODE_JOBS_ROOT}/{job_id}/{REMAP_SCRIPT_NAME}"
    node_env = {"AZRENDER_ASSETS_CONTAINER": request.assets_container}
    job = JobSpec(
        job_id=job_id,
        app=request.app,
        scene=request.scene,
        frames=request.frames,
        chunk_size=request.chunk_size,
        assets_container=request.assets_container,
        outputs_container=request.outputs_container,
        node_scene=node_scene,
        output_format=request.output_format,
        preparation=TaskSpec(
            task_id=PREPARATION_TASK_ID,
            command_line=node_sync_command(job_id),
            environment=node_env,
            display_name="sync assets to the node",
        ),
        release=TaskSpec(
            task_id=RELEASE_TASK_ID,
            command_line=node_release_command(job_id),
            environment=node_env,
            display_name="remove the job's files from the node",
        ),
    )
    width = len(str(len(request.frames.chunks(request.chunk_size))))
    for index, chunk in enumerate(request.frames.chunks(request.chunk_size), start=1):
        task_id = f"frames-{index:0{max(width, 3)}d}"
        invocation = RenderInvocation(
            job=job,
            chunk=chunk,
            node_scene=node_scene,
            remap_script=remap_script,
            output_dir="$AZ_BATCH_TASK_WORKING_DIR/out",
        )
        job.tasks.append(
            TaskSpec(
                task_id=task_id,
                command_line=adapter.command_line(invocation),
                frames=chunk.frames,
                output_files=(
                    OutputFileSpec(
                        f"out/{adapter.output_pattern()}", f"{job_id}/frames",
                        UploadCondition.SUCCESS,
                    ),
                    OutputFileSpec("../stdout.txt", f"{job_id}/logs/{task_id}/stdout.txt"),
                    OutputFileSpec("../stderr.txt", f"{job_id}/logs/{task_id}/stderr.txt"),
                ),
                max_retries=request.max_task_retries,
                display_name=f"{request.app} frames {chunk.label()}",
            )
        )
    return job
