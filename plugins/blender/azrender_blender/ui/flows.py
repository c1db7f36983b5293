"""What the panel's buttons do once the input is checked, run in a worker thread.

Only the core is called here (``submit_scene``, ``backend_for``,
``download_prefix``), exactly as the command line does; no ``bpy``. Each flow
reports through a :class:`~azrender_blender.ui.work.Reporter`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from azrender.backends import Backend, backend_for
from azrender.errors import Cancelled
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
    """Scan, upload what changed, submit; follow the job; bring its frames back.

    Cancel during the scan or upload stops the upload at its next progress report
    and submits nothing (``submit_scene`` asks once more right before the backend
    submit); a Cancel that comes as the job is being submitted cancels the job.
    """
    reporter.post(state="uploading", message=f"scanning {request.scene.name}")
    try:
        submission = submit_scene(
            request.scene,
            request.preset,
            request.frames,
            chunk=request.chunk,
            backend=request.backend,
            wait=False,
            render=request.render,
            progress=reporter.progress(),
            cancelled=lambda: reporter.cancelled,
        )
    except Cancelled as exc:
        if str(exc) != "cancelled":
            raise
        raise Cancelled("cancelled: nothing was submitted (files already uploaded stay; "
                        "a later submit does not send them again)") from None
    job_id = submission.job.job_id
    if reporter.cancelled:  # pressed while the backend took the job: it must not render
        reporter.post(job_id=job_id)
        cancel_job(request.preset, request.backend, job_id, reporter)
        return
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
    return follow(backend_for(request.preset, request.backend), job_id, reporter,
                  request.follow_seconds, request.poll_seconds)


def follow(
    backend: Backend, job_id: str, reporter: Reporter, follow_seconds: float, poll_seconds: float
) -> JobStatus | None:
    """Poll ``job_id`` until it completes; None when stopped or still running at the deadline."""
    deadline = time.monotonic() + follow_seconds
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
        if reporter.sleep(poll_seconds):
            return None


def cancel_job(preset: Preset, backend: str | None, job_id: str, reporter: Reporter) -> JobStatus:
    """Cancel a submitted job on its backend: running tasks end, waiting ones never start."""
    reporter.post(message=f"cancelling job {job_id}")
    status = backend_for(preset, backend).cancel(job_id)
    rendered = status.counts["succeeded"]
    reporter.post(state="cancelled", error="", progress=_task_fraction(status),
                  message=f"job {job_id} cancelled: {rendered} of {len(status.tasks)} tasks had rendered")
    return status


@dataclass(frozen=True)
class RetryRequest:
    """A job-list entry's failed job to render again, captured on the main thread."""

    preset: Preset
    backend: str | None
    job_id: str
    output_dir: Path
    follow_seconds: float = 24 * 3600.0
    poll_seconds: float = 2.0


def retry_and_follow(request: RetryRequest, reporter: Reporter) -> None:
    """Requeue the job's failed tasks, follow them, bring the frames back.

    On Azure a job that had ended runs them as a new job (``Retried.rerun_job_id``);
    that job writes to the first job's outputs, so the download stays the first job's.
    """
    backend = backend_for(request.preset, request.backend)
    done = backend.retry(request.job_id)
    reporter.post(state="running", error="", progress=0.0, message=done.line())
    status = follow(backend, done.follow, reporter, request.follow_seconds, request.poll_seconds)
    if status is None:
        return
    download_job(request.preset, request.job_id, request.output_dir, reporter, status=status)


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
