"""What the panel's buttons do once the input is checked, run in a worker thread.

Only the core is called here (``submit_scene``, ``backend_for``,
``download_prefix``), exactly as the command line does; no ``bpy``. Each flow
reports through a :class:`~azrender_blender.ui.work.Reporter`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from azrender.backends import backend_for
from azrender.model import FrameRange, JobStatus, RenderOptions
from azrender.outputs import outputs_client
from azrender.presets import Preset
from azrender.storage.download import DownloadSummary, download_prefix
from azrender.submit import submit_scene

from .work import Reporter


@dataclass(frozen=True)
class SubmitRequest:
    """Everything the submit flow needs, captured on the main thread."""

    scene: Path
    preset: Preset
    frames: FrameRange
    chunk: int | None
    backend: str | None
    output_dir: Path
    render: RenderOptions = field(default_factory=RenderOptions)  # the panel's engine and device; empty: as saved
    follow_seconds: float = 24 * 3600.0
    poll_seconds: float = 2.0


def job_output_dir(output_dir: Path, job_id: str) -> Path:
    """Frames of job J land in ``<output folder>/J/frames``, its logs in ``.../J/logs``."""
    return output_dir / job_id


def _task_fraction(status: JobStatus) -> float:
    done = sum(t.state == "completed" for t in status.tasks)
    return done / len(status.tasks) if status.tasks else 0.0


def submit_and_follow(request: SubmitRequest, reporter: Reporter) -> None:
    """Scan, upload what changed, submit; follow the job; bring its frames back."""
    reporter.post(state="uploading", message=f"scanning {request.scene.name}")
    submission = submit_scene(
        request.scene,
        request.preset,
        request.frames,
        chunk=request.chunk,
        backend=request.backend,
        wait=False,
        render=request.render,
        progress=reporter.progress(),
    )
    job_id = submission.job.job_id
    upload = submission.upload
    moved = f"uploaded {upload.uploaded_files} of {upload.files} files" if upload else "nothing uploaded"
    reporter.post(
        job_id=job_id,
        state="running",
        progress=0.0,
        message=moved,
        output_dir=str(job_output_dir(request.output_dir, job_id)),
    )
    status = follow_job(request, job_id, reporter)
    if status is None:
        return
    download_job(request.preset, job_id, request.output_dir, reporter, status=status)


def follow_job(request: SubmitRequest, job_id: str, reporter: Reporter) -> JobStatus | None:
    """Poll the job until it completes; None when stopped or still running at the deadline."""
    backend = backend_for(request.preset, request.backend)
    deadline = time.monotonic() + request.follow_seconds
    while True:
        status = backend.status(job_id)
        counts = status.counts
        reporter.post(
            progress=_task_fraction(status),
            message=f"{counts['succeeded']} of {len(status.tasks)} tasks done, {counts['running']} running",
        )
        if status.state == "completed":
            return status
        if time.monotonic() >= deadline:
            reporter.post(message="still rendering; use Download frames when it is done")
            return None
        if reporter.sleep(request.poll_seconds):
            return None


def download_job(
    preset: Preset,
    job_id: str,
    output_dir: Path,
    reporter: Reporter,
    *,
    status: JobStatus | None = None,
) -> DownloadSummary:
    """Download the job's frames and logs; only files not already here move."""
    dest = job_output_dir(output_dir, job_id)
    reporter.post(state="downloading", message=f"downloading to {dest}", output_dir=str(dest))
    client = outputs_client(preset, job_id)
    summary = download_prefix(client, f"{job_id}/", dest, progress=reporter.progress())
    frames = len(list((dest / "frames").glob("*"))) if (dest / "frames").is_dir() else 0
    if status is not None and status.counts["failed"]:
        reporter.post(state="failed", progress=1.0, error=status.failure_summary())
    else:
        reporter.post(
            state="done",
            progress=1.0,
            message=f"{frames} frames in {dest / 'frames'} ({summary.downloaded_files} new files)",
        )
    return summary
