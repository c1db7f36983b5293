"""What ``azrender scan`` does once its arguments are read: scan, then print JSON or a table.

Click-free, so that :mod:`azrender.launch` can run a scan without loading the
command-line parser (:mod:`azrender.commands.scan` is the click command on
top). It imports only what a scan needs: no Azure SDK, and rich only to print
the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from azrender.commands import output

if TYPE_CHECKING:
    from azrender.model import AssetSet


def run_scan(scene: Path, *, as_json: bool, strict: bool, no_cache: bool, json_progress: bool) -> None:
    """Scan ``scene`` and print what it needs; ``strict`` exits 3 when any file is missing."""
    from azrender.scan.scene import check_missing, scan_scene

    progress = output.make_progress(as_json, json_progress=json_progress)
    _, assets = scan_scene(scene, progress, cache=not no_cache)
    if as_json:
        output.emit_json(assets.to_json())
    else:
        print_assets(assets)
        for warning in assets.warnings:
            output.err_console().print(f"[yellow]warning:[/] {output.escape(warning)}", soft_wrap=True)
    check_missing(assets, strict=strict)


def print_assets(assets: AssetSet) -> None:
    """The scan as a table on stdout, then a one-line summary and the versions that saved the files."""
    from rich.table import Table

    from azrender.progress import human_size

    escape = output.escape
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
    out = output.out_console()
    out.print(table)
    packed = f", {assets.packed_count} packed" if assets.packed_count else ""
    out.print(
        f"{len(assets.present)} files, {human_size(assets.total_bytes)}; "
        f"{len(assets.missing)} missing{packed}"
    )
    if assets.app_versions:  # which version saved the scene and each library (from their headers)
        saved = ", ".join(f"{escape(path.name)} {version}" for path, version in assets.app_versions.items())
        out.print(f"saved by {assets.app}: {saved}", soft_wrap=True)
