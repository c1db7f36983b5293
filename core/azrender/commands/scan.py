"""``azrender scan``: every file a scene needs, and which are missing.

The command a user waits for on every button press: it imports only what a
scan needs (no Azure SDK; rich only to print the table).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from azrender.commands import common

if TYPE_CHECKING:
    from azrender.model import AssetSet


def print_assets(assets: AssetSet) -> None:
    """The scan as a table on stdout, then a one-line summary and the versions that saved the files."""
    from rich.table import Table

    from azrender.progress import human_size

    table = Table(title=f"{assets.scene.name} ({assets.app})", title_justify="left")
    table.add_column("kind")
    table.add_column("file", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("status")
    for asset in assets.assets:
        status = "ok" if asset.exists else f"[red]MISSING[/] {asset.referrer}".rstrip()
        table.add_row(asset.kind.value, str(asset.path), human_size(asset.size), status)
    for asset in assets.app_files:  # not uploaded: the node's application has them
        table.add_row(asset.kind.value, common.escape(str(asset.path)), "-", f"comes with {assets.app} {asset.referrer}")
    out = common.out_console()
    out.print(table)
    packed = f", {assets.packed_count} packed" if assets.packed_count else ""
    out.print(
        f"{len(assets.present)} files, {human_size(assets.total_bytes)}; "
        f"{len(assets.missing)} missing{packed}"
    )
    if assets.app_versions:  # which version saved the scene and each library (from their headers)
        saved = ", ".join(f"{common.escape(path.name)} {version}" for path, version in assets.app_versions.items())
        out.print(f"saved by {assets.app}: {saved}", soft_wrap=True)


@click.command()
@click.argument("scene", type=click.Path(path_type=Path))
@common.json_option
@click.option("--strict", is_flag=True, help="Exit with code 3 when any file is missing.")
@common.no_cache_option
@common.friendly_errors
def scan(scene: Path, as_json: bool, strict: bool, no_cache: bool) -> None:
    """List every file SCENE needs, and which are missing."""
    from azrender.scan.scene import check_missing, scan_scene

    _, assets = scan_scene(scene, common.progress_for(as_json), cache=not no_cache)
    if as_json:
        common.emit_json(assets.to_json())
    else:
        print_assets(assets)
        for warning in assets.warnings:
            common.err_console().print(f"[yellow]warning:[/] {common.escape(warning)}", soft_wrap=True)
    check_missing(assets, strict=strict)
