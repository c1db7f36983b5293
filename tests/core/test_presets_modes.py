"""The storage-mode tables of a preset and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from azrender.errors import PresetError
from azrender.presets import parse_preset
from azrender.presets.model import PathRule

SRC = Path("shows/abc.toml")


def error(text: str) -> PresetError:
    with pytest.raises(PresetError) as info:
        parse_preset(text, SRC)
    return info.value


NFS = """name = "abc"
[storage]
mode = "nfs"
[share]
source = "10.0.0.4:/exports/show"
mount_options = "-o vers=4.1,ro"
[[paths]]
source = 'P:\\show'
target = "show"
[[paths]]
source = "/mnt/show"
target = "show"
"""


def test_nfs_preset() -> None:
    p = parse_preset(NFS, SRC)
    assert p.storage.mode == "nfs"
    assert p.share.source == "10.0.0.4:/exports/show"
    assert p.paths == (PathRule("P:\\show", "show"), PathRule("/mnt/show", "show"))
    assert p.to_json()["paths"] == [
        {"source": "P:\\show", "target": "show"},
        {"source": "/mnt/show", "target": "show"},
    ]


def test_azure_files_needs_account_and_share() -> None:
    text = 'name = "abc"\n[storage]\nmode = "azure-files"\n[azure_files]\nshare = "show-abc"\n'
    assert str(error(text)) == (
        'shows/abc.toml line 3: `storage.mode = "azure-files"` needs `azure_files.account` '
        "(add `account = ...` under [azure_files]; see docs/presets.md)"
    )


def test_share_modes_need_rules_and_the_right_source() -> None:
    no_rules = NFS.split("[[paths]]")[0]
    assert "needs at least one [[paths]] rule" in str(error(no_rules))
    assert str(error(no_rules)).startswith("shows/abc.toml line 3:")
    cifs_source = NFS.replace('"10.0.0.4:/exports/show"', '"//fs01/show"')
    assert str(error(cifs_source)) == (
        'shows/abc.toml line 5: `share.source` is not an NFS export for `mode = "nfs"` '
        "(write it as `server:/export`, or change storage.mode)"
    )
    no_source = 'name = "abc"\n[storage]\nmode = "cifs"\n'
    assert "needs `share.source`" in str(error(no_source))


def test_bad_path_rules_name_their_entry() -> None:
    relative = NFS.replace("\"/mnt/show\"", '"mnt/show"')
    assert str(error(relative)).startswith(
        'shows/abc.toml line 11: `paths[1].source` "mnt/show" is not an absolute path'
    )
    no_target = NFS.replace('target = "show"\n[[paths]]', "[[paths]]")
    e = error(no_target)
    assert str(e) == (
        "shows/abc.toml line 7: missing key `paths[0].target` "
        '(add `target = "show"` to this [[paths]] entry)'
    )
    assert str(error('name = "a"\npaths = "P:/"\n')).startswith(
        "shows/abc.toml line 2: `paths` must be a list of tables"
    )
    assert "did you mean `target`?" in str(error(NFS.replace('target = "show"', 'traget = "show"', 1)))


@pytest.mark.parametrize(
    ("table", "line", "expected"),
    [
        ('[azure_files]\naccount = "https://x.file.core.windows.net"\n', 4, "is not a storage account name"),
        ('[azure_files]\ndrive = "C"\n', 4, "is not a drive letter"),
        ('[blobfuse]\ncache = "disk"\n', 4, "must be one of file, block, none"),
        ('[blobfuse]\nmount_name = "a/b"\n', 4, "is not a valid mount folder name"),
        ('[share]\nsource = "fileserver"\n', 4, "is not a file server export"),
    ],
)
def test_mode_table_values(table: str, line: int, expected: str) -> None:
    e = error('name = "abc"\n[storage]\n' + table)
    assert str(e).startswith(f"shows/abc.toml line {line}:")
    assert expected in str(e)


def test_share_password_is_refused() -> None:
    e = error('name = "abc"\n[share]\nusername = "render"\npassword = "hunter2"\n')
    assert "`share.password` is a credential key" in str(e)
