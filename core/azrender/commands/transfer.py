"""``azrender upload`` and ``azrender download``: files to the assets container, frames back."""

from __future__ import annotations

from pathlib import Path

import click

from azrender.commands import common


@click.command()
@click.argument("target", metavar="SCENE_OR_DIR", type=click.Path(path_type=Path))
@common.preset_option
@common.json_option
@click.option(
    "--verify",
    is_flag=True,
    help="First reconcile the remote index with a real listing of the container.",
)
@common.no_cache_option
@common.friendly_errors
def upload(target: Path, preset_path: Path, as_json: bool, verify: bool, no_cache: bool) -> None:
    """Upload a scene's files (or a folder's) to the preset's assets container; only changes move."""
    from azrender.presets import load_preset
    from azrender.progress import human_size
    from azrender.scan.scene import scan_scene
    from azrender.submit import upload_paths

    preset = load_preset(preset_path)
    progress = common.progress_for(as_json)
    report = None
    if verify:
        from azrender.storage.client import container_client, ensure_container
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
        _, assets = scan_scene(target, progress, cache=not no_cache)
        paths = [a.path for a in assets.present]
        for asset in assets.missing:
            progress.note(f"[yellow]missing, not uploaded:[/] {asset.path}")
    summary = upload_paths(paths, preset, progress)
    if as_json:
        common.emit_json({**summary.to_json(), **({"verify": report.to_json()} if report else {})})
    else:
        common.err_console().print(
            f"{summary.files} files: {summary.uploaded_files} uploaded "
            f"({human_size(summary.uploaded_bytes)}), {summary.skipped_files} unchanged"
        )


@click.command()
@click.argument("job_id")
@common.preset_option
@click.option("--dest", required=True, type=click.Path(path_type=Path), help="Folder for frames and logs (created if missing).")
@common.json_option
@common.friendly_errors
def download(job_id: str, preset_path: Path, dest: Path, as_json: bool) -> None:
    """Download a job's frames and logs; files already here are not downloaded again."""
    from azrender.outputs import outputs_client
    from azrender.presets import load_preset
    from azrender.progress import human_size
    from azrender.storage.download import download_prefix
    from azrender.storage.manifest import check_job_id

    preset = load_preset(preset_path)
    client = outputs_client(preset, job_id)
    summary = download_prefix(
        client, f"{check_job_id(job_id)}/", dest, progress=common.progress_for(as_json), missing=f"job {job_id!r}"
    )
    if as_json:
        common.emit_json(summary.to_json())
    else:
        common.err_console().print(
            f"{summary.files} files: {summary.downloaded_files} downloaded "
            f"({human_size(summary.downloaded_bytes)}), {summary.skipped_files} already here"
        )
        common.out_console().print(str(dest.absolute()))
