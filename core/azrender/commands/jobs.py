"""``azrender status``, ``jobs``, ``cancel``, ``retry`` and ``doctor``: following and steering jobs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from azrender.commands import common

if TYPE_CHECKING:
    from azrender.backends import Backend
    from azrender.model import JobStatus


def print_record(record: JobStatus) -> None:
    """A job's tasks as a table on stderr: frames, state, result (with the failure) and time."""
    from rich.table import Table

    from azrender.model import FrameRange

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
    common.err_console().print(table)


def _backend(preset_path: Path, backend: str | None) -> Backend:
    from azrender.backends import backend_for
    from azrender.presets import load_preset

    return backend_for(load_preset(preset_path), backend)


def _exit_if_failed(record: JobStatus) -> None:
    from azrender.errors import EXIT_JOB_FAILED

    if record.counts["failed"]:
        sys.exit(EXIT_JOB_FAILED)


@click.command()
@click.argument("job_id")
@common.preset_option
@common.backend_option
@common.json_option
@click.option("--wait", is_flag=True, help="Wait until the job has finished.")
@common.friendly_errors
def status(job_id: str, preset_path: Path, backend: str | None, as_json: bool, wait: bool) -> None:
    """Show a job's state and each task's."""
    from azrender.submit import wait_for_job

    runner = _backend(preset_path, backend)
    record = runner.status(job_id)
    if wait and record.state == "active":
        record = wait_for_job(runner, job_id, progress=common.progress_for(as_json))
    if as_json:
        common.emit_json(record.to_json())
    else:
        print_record(record)
    if wait:
        _exit_if_failed(record)


@click.command()
@common.preset_option
@common.backend_option
@common.json_option
@common.friendly_errors
def jobs(preset_path: Path, backend: str | None, as_json: bool) -> None:
    """List the jobs this machine submitted, oldest first."""
    records = _backend(preset_path, backend).jobs()
    if as_json:
        common.emit_json([{**r.to_json(), "created": r.created} for r in records])
        return
    from rich.table import Table

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
    common.out_console().print(table)


@click.command()
@click.argument("job_id")
@common.preset_option
@common.backend_option
@common.json_option
@common.friendly_errors
def cancel(job_id: str, preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Stop a job: running tasks are ended, waiting tasks never start."""
    record = _backend(preset_path, backend).cancel(job_id)
    if as_json:
        common.emit_json(record.to_json())
    else:
        common.err_console().print(f"job {record.job_id}: {record.state}, {record.counts['failed']} task(s) not rendered")


@click.command()
@click.argument("job_id")
@click.option("--failed", "failed_only", is_flag=True, default=True,
              help="Requeue the job's failed tasks (the default, and the only tasks retry runs again).")
@common.preset_option
@common.backend_option
@common.json_option
@common.friendly_errors
def retry(job_id: str, failed_only: bool, preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Requeue a job's failed tasks; succeeded tasks are not rendered again."""
    done = _backend(preset_path, backend).retry(job_id)
    if as_json:
        common.emit_json(done.to_json())
    else:
        common.err_line(done.line())


@click.command()
@common.preset_option
@common.backend_option
@common.json_option
@common.friendly_errors
def doctor(preset_path: Path, backend: str | None, as_json: bool) -> None:
    """Check the preset's environment once: credentials, storage, SAS, Batch, licence server."""
    from azrender.doctor import run_doctor
    from azrender.errors import EXIT_ERROR
    from azrender.presets import load_preset

    report = run_doctor(load_preset(preset_path), backend=backend)
    if as_json:
        common.emit_json(report.to_json())
    else:
        for check in report.checks:
            style = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}[check.status]
            common.err_console().print(f"[{style}]{common.escape(check.line())}[/]", soft_wrap=True)
    if report.failed:
        sys.exit(EXIT_ERROR)
