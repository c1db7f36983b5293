"""``azrender preset validate|init|show``: check, write and explain show presets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from azrender.commands import common


@click.group()
def preset() -> None:
    """Check and show show presets."""


@preset.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
@common.json_option
@common.friendly_errors
def preset_validate(file: Path, as_json: bool) -> None:
    """Check a preset file; prints the problems, or `ok`."""
    from azrender.presets import load_preset

    loaded = load_preset(file)
    if as_json:
        common.emit_json({"valid": True, "preset": loaded.to_json()})
    else:
        common.err_console().print(f"{file}: ok (preset {loaded.name!r})")


@preset.command("init")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--name", default=None, help="Preset name (default: the file's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@common.friendly_errors
def preset_init(file: Path, name: str | None, force: bool) -> None:
    """Write a commented preset template to FILE (every key, with its default)."""
    from azrender.errors import AzrenderError
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
    common.err_console().print(f"wrote {file}; edit it, then `azrender preset validate {file}`")


@preset.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@common.json_option
@common.friendly_errors
def preset_show(file: Path, as_json: bool) -> None:
    """Show the merged preset (studio defaults, FILE, user overrides) and where each value came from."""
    from azrender.presets.layers import load_layered

    merged, origins = load_layered(file)
    doc = merged.to_json()
    if as_json:
        common.emit_json({"preset": doc, "origins": origins})
        return
    from rich.table import Table

    table = Table(title=f"preset {merged.name}", title_justify="left")
    for column in ("key", "value", "from"):
        table.add_column(column, overflow="fold")
    for key, origin in origins.items():
        value: Any = doc
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        table.add_row(key, json.dumps(value, ensure_ascii=False), origin)
    common.out_console().print(table)
