"""The whole submit flow, from a scene file to a running job, as plain calls.

This is what the CLI and the application plugins call; a pipeline script can
call it too::

    preset = load_preset("shows/abc.toml")
    result = submit_scene(Path("shot.blend"), preset, FrameRange.parse("1-10"), wait=True)
    print(result.status.counts)

Each step is also usable alone: :func:`scan_scene`, :func:`upload_assets`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from azrender.apps import AppAdapter, adapter_for_scene
from azrender.backends import Backend, backend_for
from azrender.errors import (
    AzrenderError,
    Cancelled,
    UsageError,
    WaitInterrupted,
)
from azrender.jobs import JobRequest, build_job, new_job_id
from azrender.model import AssetSet, FrameRange, JobSpec, JobStatus, RenderOptions, SceneSettings
from azrender.nodebundle.bundle import stage_job_bundle, targets_for
from azrender.paths import mirror_key
from azrender.preflight import EXIT_PREFLIGHT, Report
from azrender.preflight.checks import PreflightInput, run_checks
from azrender.preflight.scene import scene_facts
from azrender.presets import Preset
from azrender.progress import NO_PROGRESS, Progress
from azrender.scan.scene import check_missing as check_missing
from azrender.scan.scene import existing_scene as _existing_scene
from azrender.scan.scene import scan_scene as scan_scene
from azrender.storage import azcopy
from azrender.storage.client import container_client, ensure_container
from azrender.storage.fileshare import upload_for_plan
from azrender.storage.hashing import HashCache
from azrender.storage.items import Uploader
from azrender.storage.jobspec import write_job_spec
from azrender.storage.manifest import write_job
from azrender.storage.modes import StoragePlan, storage_plan
from azrender.storage.upload import UploadSummary, items_for_paths, upload_files


def default_frames(scene: Path) -> FrameRange:
    """The frames ``scene`` is saved to render, for a submit that names none.

    :raises UsageError: when the scene's application cannot tell (see
        :meth:`~azrender.apps.AppAdapter.scene_frames`).
    """
    scene = _existing_scene(scene)
    frames = adapter_for_scene(scene).scene_frames(scene)
    if frames is None:
        raise UsageError(
            f"give --frames: {scene} does not say which frames to render",
            hint="for example --frames 1-100",
        )
    return frames


class PreflightBlocked(AzrenderError):
    """A submit stopped by pre-flight errors; ``report`` holds every finding for the UI."""

    def __init__(self, message: str, *, report: Report, hint: str) -> None:
        super().__init__(message, hint=hint, exit_code=EXIT_PREFLIGHT)
        self.report = report


def check_preflight(report: Report, *, force: bool) -> None:
    """Refuse a submit whose pre-flight report has errors (exit code 5), unless ``force``."""
    errors = report.errors
    if not errors or force:
        return
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    first = errors[0]
    raise PreflightBlocked(
        f"pre-flight: {first.code}: {first.message}{more}",
        report=report,
        hint=(first.fix + "; " if first.fix else "") + "or submit with --force to render anyway",
    )


def upload_paths(
    paths: list[Path], preset: Preset, progress: Progress = NO_PROGRESS
) -> UploadSummary:
    """Mirror local files into the preset's assets container; only changed files move."""
    client = container_client(preset.storage.assets_container, account_url=preset.storage.account_url)
    ensure_container(client)
    return upload_files(
        client,
        items_for_paths(paths),
        cache=HashCache(),
        progress=progress,
        layout=preset.storage.layout,
    )


def upload_assets(assets: AssetSet, preset: Preset, progress: Progress = NO_PROGRESS) -> UploadSummary:
    return upload_paths([a.path for a in assets.present], preset, progress)


def asset_uploader(plan: StoragePlan, preset: Preset) -> Uploader | None:
    """How a submit sends the scene's files for ``plan``: into the assets container (blob modes),
    onto the share the nodes mount (``azure-files``; the job's own files still go to blob), or
    not at all (file servers: ``nfs``, ``cifs``)."""
    if plan.upload == "blob":
        return lambda paths, *, progress: upload_paths(list(paths), preset, progress)
    if plan.upload == "file-share":
        account, share = preset.azure_files.account_and_share()
        return lambda paths, *, progress: upload_for_plan(paths, plan, account, share, progress=progress)
    return None


@dataclass
class Submission:
    """What a submit did: the job, the scan, the upload and (after a wait) the final state."""

    job: JobSpec
    assets: AssetSet
    upload: UploadSummary | None
    status: JobStatus | None
    preflight: Report | None = None


def _local_node_facts(
    adapter: AppAdapter, job: JobSpec, plan: StoragePlan
) -> tuple[tuple[str, ...] | None, str | None]:
    """What the local node has for ``job``, asked once: the versions of the application it would
    pick from (for a scene of known version, where the adapter picks), and the render program it
    lacks (or None)."""
    local = adapter.local_installs(os.environ)
    versions = tuple(i.version for i in local.installs) if local is not None and job.app_version else None
    if plan.node_os not in adapter.node_systems:
        return versions, None  # app-not-on-node-os already says it
    found = bool(local.installs) if local is not None else shutil.which(adapter.renderer_program) is not None
    return versions, None if found else adapter.renderer_program


def plan_job(
    scene: Path,
    adapter: AppAdapter,
    preset: Preset,
    frames: FrameRange,
    chunk: int | None,
    job_id: str | None = None,
    plan: StoragePlan | None = None,
    render: RenderOptions | None = None,
    settings: SceneSettings | None = None,
) -> JobSpec:
    """The job for ``scene``; ``settings``: its saved render settings from the scan (``AssetSet.settings``)."""
    request = JobRequest(
        scene=scene.absolute(),
        app=adapter.name,
        frames=frames,
        chunk_size=chunk or preset.render.chunk,
        assets_container=preset.storage.assets_container,
        outputs_container=preset.storage.outputs_container,
        output_format=preset.render.format,
        max_task_retries=preset.batch.task_retries,
        render=render or RenderOptions(),
        settings=settings,
    )
    return build_job(request, adapter, job_id or new_job_id(scene), plan or storage_plan(preset))


def submit_scene(
    scene: Path,
    preset: Preset,
    frames: FrameRange,
    *,
    chunk: int | None = None,
    backend: str | None = None,
    wait: bool = False,
    dry_run: bool = False,
    strict: bool = False,
    render: RenderOptions | None = None,
    force: bool = False,
    output_dir: Path | None = None,
    progress: Progress = NO_PROGRESS,
    cancel_on_interrupt: bool = False,
    cancelled: Callable[[], bool] = lambda: False,
    scan_cache: bool = True,
) -> Submission:
    """Scan, check, upload what changed, write the job manifest and hand the job to a backend.

    The pre-flight report (:mod:`azrender.preflight`) is computed before any
    upload; its errors stop the submit unless ``force``. With ``dry_run``
    nothing is uploaded, no backend is contacted and nothing blocks; the
    returned Submission carries the planned job and the report. ``cancelled``
    is asked once more after the upload: a front end's Cancel that came too
    late to stop the upload still keeps the job from being submitted.
    ``scan_cache=False`` scans the scene afresh (:mod:`azrender.scan.cache`).
    """
    # Choose the backend first: a backend that cannot run should fail before any upload.
    runner = None if dry_run else backend_for(preset, backend)
    on_azure = (backend or preset.backend.kind) == "azure"
    # The local node emulates a Linux Batch node, whatever the preset's pool says.
    plan = storage_plan(preset, node_os=preset.pool.os if on_azure else "linux")
    adapter, assets = scan_scene(scene, progress, cache=scan_cache)
    check_missing(assets, strict=strict)
    plan.check_assets(a.path for a in assets.present)  # nfs/cifs: every file below a [[paths]] root
    job = plan_job(assets.scene, adapter, preset, frames, chunk, plan=plan, render=render,
                   settings=assets.settings)
    facts = scene_facts(adapter, assets.scene)
    job.app_version = assets.app_version or ""
    local_versions, local_missing = (None, None) if on_azure else _local_node_facts(adapter, job, plan)
    report = run_checks(
        PreflightInput(assets, plan, preset, job, on_azure=on_azure, scene=facts, output_dir=output_dir,
                       local_versions=local_versions, local_program_missing=local_missing),
        strict=strict,
    )
    if runner is None:
        return Submission(job=job, assets=assets, upload=None, status=None, preflight=report)
    check_preflight(report, force=force)

    client = container_client(preset.storage.assets_container, account_url=preset.storage.account_url)
    uploader = asset_uploader(plan, preset)
    summary = uploader([a.path for a in assets.present], progress=progress) if uploader else None
    entries = {}
    if plan.upload == "blob" and summary is not None:
        if plan.node_sync:  # only blob-copy copies assets to the node; mounts read them in place
            job_assets = {mirror_key(a.path) for a in assets.present}
            entries = {blob: e for blob, e in summary.entries.items() if blob in job_assets}
    else:
        # File servers: nothing is uploaded, but the job's own files still travel this way.
        ensure_container(client)
    # The remap script and whatever else the app's tasks read from the job's folder.
    job_files = {name: text.encode() for name, text in adapter.job_files(plan.pathmap, assets).items()}
    if plan.sync_tool == "azcopy":  # the node's azcopy reads the job's asset list from the job's folder
        job_files[azcopy.LIST_NAME] = azcopy.list_of_files(entries).encode()
    write_job(client, job.job_id, entries, job_files, layout=preset.storage.layout)
    write_job_spec(client, job)  # what `azrender retry` reruns on Azure; no node downloads it
    if on_azure:  # the node code travels with the job (the local backend stages its own)
        stage_job_bundle(client, job, targets_for(plan.node_os))
    # The job's own outputs container (azrender.outputs): its tasks' write SAS covers it alone.
    outputs = container_client(job.outputs_container, account_url=preset.storage.account_url)
    ensure_container(outputs)

    if cancelled():  # the last moment a Cancel can still keep the job from starting
        raise Cancelled(f"cancelled: job {job.job_id} was not submitted (its uploaded files stay)")
    status = runner.submit(job, wait=False, progress=progress)
    if wait:
        status = wait_for_job(runner, job.job_id, cancel_on_interrupt=cancel_on_interrupt,
                              progress=progress)
    return Submission(job=job, assets=assets, upload=summary, status=status, preflight=report)

def wait_for_job(
    runner: Backend, job_id: str, *, cancel_on_interrupt: bool = False,
    progress: Progress = NO_PROGRESS,
) -> JobStatus:
    """Wait for ``job_id`` to complete; Ctrl-C stops the waiting, not the job.

    A pipeline that is interrupted must not leave a job it cannot see, nor
    cancel hours of rendering by accident: by default the job keeps running and
    the error says how to follow or cancel it; ``cancel_on_interrupt`` cancels
    it first (its running tasks are ended, on the local node too).
    """
    try:
        return runner.wait(job_id, progress)
    except KeyboardInterrupt:
        progress.end()
        if cancel_on_interrupt:
            runner.cancel(job_id)
            raise WaitInterrupted(f"interrupted: job {job_id} was cancelled") from None

        raise WaitInterrupted(
            f"stopped waiting; job {job_id} keeps running",
            hint=f"follow it with `azrender status {job_id} --wait`, stop it with "
                 f"`azrender cancel {job_id}`",
        ) from None
