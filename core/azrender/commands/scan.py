"""``azrender scan``: every file a scene needs, and which are missing.

The click command; the work is :func:`azrender.commands.scanning.run_scan`.
A plain ``azrender scan`` does not come through here at all:
:mod:`azrender.launch` reads these same options without click, and
``tests/core/test_launch.py`` holds the two to the same options.
"""

from __future__ import annotations

from pathlib import Path

import click

from azrender.commands import common
from azrender.commands.scanning import run_scan


@click.command()
@click.argument("scene", type=click.Path(path_type=Path))
@common.json_option
@click.option("--strict", is_flag=True, help="Exit with code 3 when any file is missing.")
@common.no_cache_option
@common.friendly_errors
def scan(scene: Path, as_json: bool, strict: bool, no_cache: bool) -> None:
    """List every file SCENE needs, and which are missing."""
    run_scan(scene, as_json=as_json, strict=strict, no_cache=no_cache, json_progress=common.root_flag("json_progress"))
