"""Layered presets (studio ← show ← user), origins, `preset init` and `preset show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from azrender.cli import main
from azrender.errors import PresetError
from azrender.presets import parse_preset
from azrender.presets.layers import init_template, load_layered


@pytest.fixture
def show(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    shows = tmp_path / "shows"
    shows.mkdir()
    (shows / "studio.toml").write_text(
        '[storage]\naccount_url = "https://studio.blob.core.windows.net"\n[backend]\nslots = 8\n'
        "[render]\nchunk = 3\n"
    )
    (shows / "abc.toml").write_text('name = "abc"\n\n[render]\nchunk = 5\nformat = "JPEG"\n')
    user = tmp_path / "me.toml"
    user.write_text("[render]\nchunk = 7\n")
    return shows / "abc.toml", {"AZRENDER_USER_PRESET": str(user)}


def test_layers_merge_with_origins(show: tuple[Path, dict[str, str]]) -> None:
    path, env = show
    preset, origins = load_layered(path, env)
    assert preset.storage.account_url == "https://studio.blob.core.windows.net"
    assert (preset.backend.slots, preset.render.chunk, preset.render.format) == (8, 7, "JPEG")
    studio = path.parent / "studio.toml"
    assert origins["storage.account_url"] == f"{studio} line 2"
    assert origins["backend.slots"] == f"{studio} line 4"
    assert origins["render.chunk"] == f"{env['AZRENDER_USER_PRESET']} line 2"
    assert origins["render.format"] == f"{path} line 5"
    assert origins["name"] == f"{path} line 1"
    assert origins["storage.mode"] == "default" and origins["paths"] == "default"


def test_errors_name_the_layer_they_are_in(show: tuple[Path, dict[str, str]]) -> None:
    path, env = show
    studio = path.parent / "studio.toml"
    studio.write_text("[backend]\nslots = 0\n")
    with pytest.raises(PresetError, match=rf"^{studio} line 2: `backend.slots` must be between"):
        load_layered(path, env)
    studio.write_text('[storage]\nmode = "nfs"\n')  # valid alone; the merged preset lacks [share]
    with pytest.raises(PresetError) as info:
        load_layered(path, env)
    assert str(info.value).startswith(f'{studio} line 2: `storage.mode = "nfs"` needs `share.source`')


def test_users_cannot_change_storage(show: tuple[Path, dict[str, str]]) -> None:
    path, env = show
    Path(env["AZRENDER_USER_PRESET"]).write_text('[render]\nchunk = 2\n[storage]\nmode = "blobfuse"\n')
    with pytest.raises(PresetError, match=r"line 3: user overrides cannot set `storage`"):
        load_layered(path, env)
    with pytest.raises(PresetError, match="AZRENDER_USER_PRESET names"):
        load_layered(path, {"AZRENDER_USER_PRESET": str(path.parent / "nope.toml")})


def test_init_template_validates_and_describes_every_table() -> None:
    text = init_template("abc")
    preset = parse_preset(text, Path("abc.toml"))
    assert preset.name == "abc" and preset.storage.mode == "blob-copy"
    for header in ("[storage]", "[blobfuse]", "[azure_files]", "[share]", "# [[paths]]", "[render]"):
        assert header in text
    uncommented = text.replace("# mode = ", "mode = ", 1)
    assert parse_preset(uncommented, Path("abc.toml")).storage.mode == "blob-copy"


def test_cli_init_and_show(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "shows" / "xyz.toml"
    env = {"AZRENDER_USER_PRESET": "", "AZRENDER_STUDIO_PRESET": ""}
    result = runner.invoke(main, ["preset", "init", str(target)], env=env)
    assert result.exit_code == 0, result.output
    again = runner.invoke(main, ["preset", "init", str(target)], env=env)
    assert again.exit_code == 2 and "already exists" in again.output
    shown = runner.invoke(main, ["preset", "show", str(target), "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["preset"]["name"] == "xyz"
    assert doc["origins"]["name"] == f"{target} line 6"
    assert doc["origins"]["render.chunk"] == "default"
