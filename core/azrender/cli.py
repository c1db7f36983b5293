"""The ``azrender`` command: scan, upload, submit, status, jobs, download, preset.

The JSON each command prints with ``--json`` is a contract that pipeline
scripts rely on (see README.md, "Command line"). Human output and progress go
to stderr, JSON to stdout. Errors are one line, ``error: ...``, with a non-zero
exit code: 1 failure, 2 bad input, 3 missing files under ``--strict``, 4 a job
whose tasks failed. ``--debug`` (or ``AZRENDER_DEBUG=1``) shows tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from azrender import __version__
from azrender.backends import BACKENDS, backend_for
from azrender.errors import EXIT_ERROR, EXIT_JOB_FAILED, AzrenderError, UsageError
from azrender.model import AssetSet, FrameRange, JobStatus, RenderOptions
from azrender.outputs import outputs_client
from azrender.preflight import Report
from azrender.presets import load_preset
from azrender.progress import NO_PROGRESS, LineProgress, Progress, RichProgress, human_size
from azrender.storage.client import container_client, ensure_container, redact
from azrender.storage.download import download_prefix
from azrender.storage.manifest import check_job_id
from azrender.submit import (
    PreflightBlocked,
    check_missing,
    default_frames,
    scan_scene,
    submit_scene,
    upload_paths,
    wait_for_job,
)

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


def _emit_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2))


def _progress(as_json: bool) -> Progress:
    """Bars on a terminal, plain lines in a log or pipe, JSON lines with --json-progress."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    every = _progress_seconds()
    if root is not None and root.params.get("json_progress"):
        return LineProgress(_err_line, interval=every, as_json=True)
    if as_json:
        return NO_PROGRESS
    if err_console.is_terminal:
        return RichProgress(err_console)
    return LineProgress(_err_line, interval=every)


def _progress_seconds() -> float:
    """Seconds between progress lines in a log: ``AZRENDER_PROGRESS_SECONDS``, default 5."""
    try:
        return max(0.0, float(os.environ.get("AZRENDER_PROGRESS_SECONDS", "5")))
    except ValueError:
        return 5.0


def _err_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)






def friendly_errors(func: F) -> F:
    """Turn AzrenderError into one line on stderr and its exit code; no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AzrenderError as exc:
            if _debug():
                raise
            # escape: messages name TOML tables like [storage], which are not Rich markup
            err_console.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("[bold red]interrupted[/]")
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    flag = bool(root and root.params.get("debug"))
    return flag or os.environ.get("AZRENDER_DEBUG", "") not in ("", "0")


preset_option = click.option(
    "--preset",
    "preset_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Show preset (TOML) with the storage and backend settings.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="azrender")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.option(
    "--json-progress", is_flag=True,
    help="Report progress as JSON lines on stderr (every few seconds and at each step's end).",
)
def main(debug: bool, json_progress: bool) -> None:
    """Render on Azure: find a scene's files, upload what changed, render, bring frames back."""


# -- scan ---------------------------------------------------------------------


def _print_assets(assets: AssetSet) -> None:
    table = Table(title=f"{assets.scene.name} ({assets.app})", title_justify="left")
    table.add_column("kind")
    table.add_column("file", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("status")
    for asset in assets.assets:
        status = "ok" if asset.exists else f"[red]MISSING[/] {asset.referrer}".rstrip()
        table.add_row(asset.kind.value, str(asset.path), human_size(asset.size), status)
    for asset in assets.app_files:  # not uploaded: the node's application has them
        table.add_row(asset.kind.value, escape(str(asset.path)), "-", f"comes with {assets.app} {asset.referrer}")
    out_console.print(table)
    packed = f", {assets.packed_count} packed" if assets.packed_count else ""
    out_console.print(
        f"{len(assets.present)} files, {human_size(assets.total_bytes)}; "
        f"{len(assets.missing)} missing{packed}"
    )
    if assets.app_versions:  # which version saved the scene and each library (from their headers)
        saved = ", ".join(f"{escape(path.name)} {version}" for path, version in assets.app_versions.items())
        out_console.print(f"saved by {assets.app}: {saved}", soft_wrap=True)


@main.command()
@click.argument("scene", type=click.Path(path_type=Path))
@json_option
@click.option("--strict", is_flag=True, help="Exit with code 3 when any file is missing.")
@friendly_errors
def scan(scene: Path, as_json: bool, strict: bool) -> None:
    """List every file SCENE needs, and which are missing."""
    _, assets = scan_scene(scene, _progress(as_json))
    if as_json:
        _emit_json(assets.to_json())
    else:
        _print_assets(assets)
        for warning in assets.warnings:
            err_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    check_missing(assets, strict=strict)


# -- upload -------------------------------------------------------------------


@main.command()
@click.argument("target", metavar="SCENE_OR_DIR", type=click.Path(path_type=Path))
@preset_option
@json_option
@click.option(
    "--verify",
    is_flag=True,
    help="First reconcile the remote index with a real listing of the container.",
)
@friendly_errors
def upload(target: Path, preset_path: Path, as_json: bool, verify: bool) -> None:
    """Upload a scene's files (or a folder's) to the preset's assets container; only changes move."""
    preset = load_preset(preset_path)
    progress = _progress(as_json)
    report = None
    if verify:
        from azrender.storage.verify import reconcile

        assets_client = container_client(
            preset.storage.assets_container, account_url=preset.storage.account_url
        )
        ensure_container(assets_client)
        report = reconcile(assets_client)
        progress.note(
            f"verify: {report.listed} blobs listed; {len(report.missing)} missing, "
            f"{len(report.stale)} changed, {len(report.adopted)} adopted into the index"
        )
    if target.is_dir():
        paths = sorted(p.absolute() for p in target.rglob("*") if p.is_file())
    else:
        _, assets = scan_scene(target, progress)
        paths = [a.path for a in assets.present]
        for asset in assets.missing:
            progress.note(f"[yellow]missing, not uploaded:[/] {asset.path}")
    summary = upload_paths(paths, preset, progress)
    if as_json:
        _emit_json({**summary.to_json(), **({"verify": report.to_json()} if report else {})})
    else:
        err_console.print(
            f"{summary.files} files: {summary.uploaded_files} uploaded "
            f"({human_size(summary.uploaded_bytes)}), {summary.skipped_files} unchanged"
        )


# -- submit -------------------------------------------------------------------


def _print_record(record: JobStatus) -> None:
    table = Table(title=f"job {record.job_id}: {record.state}", title_justify="left")
    for column in ("task", "frames", "state", "result", "time"):
        table.add_column(column)
    for t in record.tasks:
        frames = FrameRange.parse(",".join(map(str, t.frames))).spec if t.frames else ""
        elapsed = f"{t.elapsed:.1f}s" if t.elapsed is not None else ""
        result = t.result or ""
        if t.result == "failure":
            result = f"[red]failure[/] {t.failure or ''}"
        table.add_row(t.task_id, frames, t.state, result, elapsed)
    err_console.print(table)


_SEVERITY_STYLE = {"error": "[bold red]error[/]", "warning": "[yellow]warning[/]", "info": "[cyan]note[/]"}


def _print_preflight(report: Report) -> None:
    """The pre-flight findings as a table on stderr (nothing when there are none)."""
    if not report.findings:
        return
    table = Table(title=report.summary(), title_justify="left")
    for column in ("severity", "code", "finding", "referrer", "fix"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        table.add_row(_SEVERITY_STYLE[f.severity], f.code, escape(f.message), escape(f.referrer), escape(f.fix))
    err_console.print(table)


def _parse_resolution(text: str | None) -> tuple[int | None, int | None]:
    """``1920x1080`` → (1920, 1080); None → (None, None)."""
    if text is None:
        return None, None
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise UsageError(f"cannot read resolution {text!r}", hint="write it as WIDTHxHEIGHT, e.g. 1920x1080")
    return int(parts[0]), int(parts[1])


@main.command()
@click.argument("scene", type=click.Path(path_type=Path))
@preset_option
@click.option(
    "--frames", "frame_spec", default=None,
    help="Frames: 1-100, 1-100x5, 1,3,5-7, 10-1 (default: the range saved in the scene).",
)
@click.option("--chunk", type=click.IntRange(min=1), default=None, help="Frames per task (preset default).")
@click.option("--backend", type=click.Choice(BACKENDS), default=None, help="Override the preset's backend.")
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
@json_option
@friendly_errors
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
    as_json: bool,
) -> None:
    """Submit SCENE for rendering: scan, upload what changed, run the frames."""
    preset = load_preset(preset_path)
    frames = (
        FrameRange.parse(frame_spec, max_frames=preset.render.max_frames)
        if frame_spec is not None
        else default_frames(scene)
    )
    width, height = _parse_resolution(resolution)
    render = RenderOptions(
        camera=camera, layers=layers, renderer=renderer, width=width, height=height, threads=threads
    )
    progress = _progress(as_json)
    try:
        result = submit_scene(
            scene, preset, frames, chunk=chunk, backend=backend, wait=wait,
            dry_run=dry_run, strict=strict, render=render, force=force, progress=progress,
            cancel_on_interrupt=cancel_on_interrupt,
        )
    except PreflightBlocked as blocked:  # show every finding, then the one-line error
        if as_json:
            _emit_json({"dry_run": False, "preflight": blocked.report.to_json()})
        else:
            _print_preflight(blocked.report)
        raise
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
    record = result.status
    if record is not None:
        data.update(record.to_json())
    if as_json:
        _emit_json(data)
    else:
        if result.preflight is not None:
            _print_preflight(result.preflight)
        if dry_run:
            err_console.print(
                f"dry run: job {result.job.job_id}, {len(result.job.tasks)} task(s) for frames "
                f"{frames.spec}; nothing uploaded"
            )
            for task in result.job.tasks:
                out_console.print(task.command_line, soft_wrap=True)
        else:
            err_console.print(
                f"uploaded {upload['uploaded_files']} of {upload['files']} files "
                f"({human_size(int(upload['uploaded_bytes']))}); submitted job [bold]{result.job.job_id}[/]"
            )
            if record is not None and wait:
                _print_record(record)
    if record is not None and wait and record.counts["failed"]:
        sys.exit(EXIT_JOB_FAILED)


# -- status, jobs, cancel -----------------------------------------------------

backend_option = click.option(
    "--backend", type=click.Choice(BACKENDS), default=None, help="Override the preset's backend."
)


@main.command()
@click.argument("job_id")
@preset_option
@backend_option
@json_option
@click.option("--wait", is_flag=True, help="Wait until the job has finished.")
@friendly_errors
def status(job_id: str, preset_path: Path, backend: str | None, as_json: bool, wait: bool) -> None:
    """Show a job's state and each task's."""
    runner = backend_for(load_preset(preset_path), backend)
    record = runner.status(job_id)
    if wait and record.state == "active":
        record = wait_for_job(runner, job_id, progress=_progress(as_json))
    if as_json:
        _emit_json(record.to_json())
    else:
        _print_record(record)
    if wait and record.counts["failed"]:
        sys.exit(EXIT_JOB_FAILED)


@main.command()
@preset_option
@backend_option
@json_option
@friendly_errors
def jobs(preset_path: Path, backend: str | None, as_json: bool) -> None:
    """List the jobs this machine submitted, oldest first."""
    records = backend_for(load_preset(preset_path), backend).jobs()
    if as_json:
        _emit_json([{**r.to_json(), "created": r.created} for r in records])
        return
    table = Table(title="jobs", title_justify="left")
    table.add_column("job", no_wrap=True)  # ids are copied from here: never cut them
    for column in ("state", "tasks", "succeeded", "failed", "submitted"):
        table.add_column(column)
    for r in records:
        c = r.counts
        table.add_row(
            r.job_id, r.state, str(len(r.tasks)), str(c["succeeded"]), str(c["failed"]),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
        )
    out_console.print(table)


@main.command()
@click.argument("job_id")
@preset_option
@backend_option
@json_option
@friendly_errors
def cancel(job_id: str, preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Stop a job: running tasks are ended, waiting tasks never start."""
    record = backend_for(load_preset(preset_path), backend).cancel(job_id)
    if as_json:
        _emit_json(record.to_json())
    else:
        err_console.print(f"job {record.job_id}: {record.state}, {record.counts['failed']} task(s) not rendered")


@main.command()
@click.argument("job_id")
@click.option("--failed", "failed_only", is_flag=True, default=True,
              help="Requeue the job's failed tasks (the default, and the only tasks retry runs again).")
@preset_option
@backend_option
@json_option
@friendly_errors
def retry(job_id: str, failed_only: bool, preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Requeue a job's failed tasks; succeeded tasks are not rendered again."""
    done = backend_for(load_preset(preset_path), backend).retry(job_id)
    if as_json:
        _emit_json(done.to_json())
    else:
        _err_line(done.line())


# -- doctor -------------------------------------------------------------------


@main.command()
@preset_option
@backend_option
@json_option
@friendly_errors
def doctor(preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Check the preset's environment once: credentials, storage, SAS, Batch, licence server."""
    from azrender.doctor import run_doctor

    report = run_doctor(load_preset(preset_path), backend=backend)
    if as_json:
        _emit_json(report.to_json())
    else:
        for check in report.checks:
            style = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}[check.status]
            err_console.print(f"[{style}]{escape(check.line())}[/]", soft_wrap=True)
    if report.failed:
        sys.exit(EXIT_ERROR)


# -- download -----------------------------------------------------------------


@main.command()
@click.argument("job_id")
@preset_option
@click.option("--dest", required=True, type=click.Path(path_type=Path), help="Folder for frames and logs (created if missing).")
@json_option
@friendly_errors
def download(job_id: str, preset_path: Path, dest: Path, as_json: bool) -> None:
    """Download a job's frames and logs; files already here are not downloaded again."""
    preset = load_preset(preset_path)
    client = outputs_client(preset, job_id)
    summary = download_prefix(
        client, f"{check_job_id(job_id)}/", dest, progress=_progress(as_json), missing=f"job {job_id!r}"
    )
    if as_json:
        _emit_json(summary.to_json())
    else:
        err_console.print(
            f"{summary.files} files: {summary.downloaded_files} downloaded "
            f"({human_size(summary.downloaded_bytes)}), {summary.skipped_files} already here"
        )
        out_console.print(str(dest.absolute()))


# -- preset -------------------------------------------------------------------


@main.group()
def preset() -> None:
    """Check and show show presets."""


@preset.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@friendly_errors
def preset_validate(file: Path, as_json: bool) -> None:
    """Check a preset file; prints the problems, or `ok`."""
    loaded = load_preset(file)
    if as_json:
        _emit_json({"valid": True, "preset": loaded.to_json()})
    else:
        err_console.print(f"{file}: ok (preset {loaded.name!r})")


@preset.command("init")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", default=None, help="Preset name (default: the file's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@friendly_errors
def preset_init(file: Path, name: str | None, force: bool) -> None:
    """Write a commented preset template to FILE (every key, with its default)."""
    from azrender.presets import parse_preset
    from azrender.presets.layers import init_template

    if file.exists() and not force:
        raise AzrenderError(f"{file} already exists", hint="use --force to overwrite it", exit_code=2)
    text = init_template(name or file.stem)
    parse_preset(text, file)  # the template must validate as written (a bad --name fails here)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(file)
    err_console.print(f"wrote {file}; edit it, then `azrender preset validate {file}`")


@preset.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@friendly_errors
def preset_show(file: Path, as_json: bool) -> None:
    """Show the merged preset (studio defaults, FILE, user overrides) and where each value came from."""
    from azrender.presets.layers import load_layered

    merged, origins = load_layered(file)
    doc = merged.to_json()
    if as_json:
        _emit_json({"preset": doc, "origins": origins})
        return
    table = Table(title=f"preset {merged.name}", title_justify="left")
    for column in ("key", "value", "from"):
        table.add_column(column, overflow="fold")
    for key, origin in origins.items():
        value: Any = doc
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        table.add_row(key, json.dumps(value, ensure_ascii=False), origin)
    out_console.print(table)


if __name__ == "__main__":
    main()
