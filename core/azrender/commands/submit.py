"""``azrender submit``: scan, upload what changed, run the frames (or plan them with --dry-run)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from azrender.commands import common

if TYPE_CHECKING:
    from azrender.preflight import Report
    from azrender.presets import Preset
    from azrender.submit import Submission

_SEVERITY_STYLE = {"error": "[bold red]error[/]", "warning": "[yellow]warning[/]", "info": "[cyan]note[/]"}


def print_preflight(report: Report) -> None:
    """The pre-flight findings as a table on stderr (nothing when there are none)."""
    if not report.findings:
        return
    from rich.table import Table

    table = Table(title=report.summary(), title_justify="left")
    for column in ("severity", "code", "finding", "referrer", "fix"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        table.add_row(_SEVERITY_STYLE[f.severity], f.code, common.escape(f.message), common.escape(f.referrer), common.escape(f.fix))
    common.err_console().print(table)


def parse_resolution(text: str | None) -> tuple[int | None, int | None]:
    """``1920x1080`` → (1920, 1080); None → (None, None)."""
    if text is None:
        return None, None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        from azrender.errors import UsageError

        raise UsageError(f"cannot read resolution {text!r}", hint="write it as WIDTHxHEIGHT, e.g. 1920x1080")
    return int(parts[0]), int(parts[1])


@click.command()
@click.argument("scene", type=click.Path(path_type=Path))
@common.preset_option
@click.option(
    "--frames", "frame_spec", default=None,
    help="Frames: 1-100, 1-100x5, 1,3,5-7, 10-1 (default: the range saved in the scene).",
)
@click.option("--chunk", type=click.IntRange(min=1), default=None, help="Frames per task (preset default).")
@common.backend_option
@click.option("--wait", is_flag=True, help="Wait for the job to finish and report each task.")
@click.option(
    "--cancel-on-interrupt", is_flag=True,
    help="With --wait: Ctrl-C cancels the job (default: stop waiting, the job keeps running).",
)
@click.option("--dry-run", is_flag=True, help="Scan and plan the job; upload and run nothing.")
@click.option("--strict", is_flag=True, help="Refuse to submit when any file is missing (exit 3); pre-flight warnings become errors.")
@click.option("--force", is_flag=True, help="Submit even when the pre-flight report has errors.")
@click.option("--camera", default=None, help="Render through this camera instead of the scene's.")
@click.option("--layer", "layers", multiple=True, help="Render this layer (repeat for several).")
@click.option("--renderer", default=None, help="Renderer or engine instead of the scene's (e.g. CYCLES, arnold).")
@click.option("--resolution", default=None, metavar="WxH", help="Image size instead of the scene's, e.g. 1920x1080.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Render threads per task.")
@common.no_cache_option
@common.json_option
@common.friendly_errors
def submit(
    scene: Path,
    preset_path: Path,
    frame_spec: str | None,
    chunk: int | None,
    backend: str | None,
    wait: bool,
    cancel_on_interrupt: bool,
    dry_run: bool,
    strict: bool,
    force: bool,
    camera: str | None,
    layers: tuple[str, ...],
    renderer: str | None,
    resolution: str | None,
    threads: int | None,
    no_cache: bool,
    as_json: bool,
) -> None:
    """Submit SCENE for rendering: scan, upload what changed, run the frames."""
    from azrender.model import FrameRange, RenderOptions
    from azrender.presets import load_preset
    from azrender.submit import PreflightBlocked, default_frames, submit_scene

    preset = load_preset(preset_path)
    frames = (
        FrameRange.parse(frame_spec, max_frames=preset.render.max_frames)
        if frame_spec is not None
        else default_frames(scene)
    )
    width, height = parse_resolution(resolution)
    render = RenderOptions(
        camera=camera, layers=layers, renderer=renderer, width=width, height=height, threads=threads
    )
    try:
        result = submit_scene(
            scene, preset, frames, chunk=chunk, backend=backend, wait=wait,
            dry_run=dry_run, strict=strict, render=render, force=force, progress=common.progress_for(as_json),
            cancel_on_interrupt=cancel_on_interrupt, scan_cache=not no_cache,
        )
    except PreflightBlocked as blocked:  # show every finding, then the one-line error
        if as_json:
            common.emit_json({"dry_run": False, "preflight": blocked.report.to_json()})
        else:
            print_preflight(blocked.report)
        raise
    data = _document(result, preset, backend, dry_run)
    if as_json:
        common.emit_json(data)
    else:
        _print_human(result, data, wait=wait, dry_run=dry_run, frames=frames.spec)
    record = result.status
    if record is not None and wait and record.counts["failed"]:
        from azrender.errors import EXIT_JOB_FAILED

        sys.exit(EXIT_JOB_FAILED)


def _document(result: Submission, preset: Preset, backend: str | None, dry_run: bool) -> dict[str, Any]:
    """The ``--json`` document of a submit: the job, the upload, what is missing, the plan or the state."""
    upload = result.upload.to_json() if result.upload else {
        "files": len(result.assets.present), "uploaded_files": 0, "uploaded_bytes": 0, "skipped_files": 0,
    }
    data: dict[str, Any] = {
        "job_id": result.job.job_id,
        **upload,
        "missing": [str(a.path) for a in result.assets.missing],
        "dry_run": dry_run,
    }
    if result.preflight is not None:
        data["preflight"] = result.preflight.to_json()
    if dry_run and (backend or preset.backend.kind) == "azure":
        from datetime import datetime, timezone

        from azrender.batch.dryrun import dry_run_document

        data["backend"] = "azure"
        data.update(dry_run_document(result.job, preset, now=datetime.now(timezone.utc)))
    elif dry_run:
        from azrender.model import job_to_json

        data["job"] = job_to_json(result.job)
    if result.status is not None:
        data.update(result.status.to_json())
    return data


def _print_human(result: Submission, data: dict[str, Any], *, wait: bool, dry_run: bool, frames: str) -> None:
    """What a submit did, for a person: the findings, then the plan or the upload and the tasks."""
    from azrender.progress import human_size

    if result.preflight is not None:
        print_preflight(result.preflight)
    if dry_run:
        common.err_console().print(
            f"dry run: job {result.job.job_id}, {len(result.job.tasks)} task(s) for frames "
            f"{frames}; nothing uploaded"
        )
        for task in result.job.tasks:
            common.out_console().print(task.command_line, soft_wrap=True)
        return
    common.err_console().print(
        f"uploaded {data['uploaded_files']} of {data['files']} files "
        f"({human_size(int(data['uploaded_bytes']))}); submitted job [bold]{result.job.job_id}[/]"
    )
    if result.status is not None and wait:
        from azrender.commands.jobs import print_record

        print_record(result.status)

