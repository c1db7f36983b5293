"""The remembered entry points, one set per ``sys.path`` layout: the CLI, ``python -m`` and a DCC by turns.

Each layout is a different ``sys.path`` (the ``azrender`` command puts its
``bin`` folder first, ``python -m`` the current folder, Maya its own dozens);
reading the entry points afresh costs ``importlib.metadata`` (15-30 ms of a
scan's start, more with a DCC's many folders), so a machine that runs them by
turns must not read afresh on every switch.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from azrender import apps


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each afresh read of the entry points, as the sys.path it was made under."""
    seen: list[list[str]] = []
    registered = apps._read_entry_points()
    assert registered, "the test environment registers the adapters"

    def counting() -> list[apps._Registered]:
        seen.append(list(sys.path))
        return registered

    monkeypatch.setattr(apps, "_read_entry_points", counting)
    return seen


def layout(tmp_path: Path, name: str) -> list[str]:
    """sys.path with one folder of its own in front (a folder that is there, so it has an mtime)."""
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    os.utime(folder, ns=(10**18, 10**18))  # dated well back: a change in it later is a new mtime on any clock
    return [str(folder), *sys.path]


def entry_points_under(path: list[str], hints_file: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One scan's look-up, as a new process makes it: read the file, ask, save."""
    monkeypatch.setattr(sys, "path", path)
    monkeypatch.setattr(apps.settings, "cache_dir", lambda: hints_file.parent)
    hints = apps._SuffixHints.read()
    names = [p.name for p in hints.entry_points()]
    hints.save()
    return names


def test_layouts_used_by_turns_are_each_read_once(
    tmp_path: Path, reads: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hints_file = tmp_path / "cache" / apps._SuffixHints.FILE
    cli, module, dcc = (layout(tmp_path, n) for n in ("cli", "module", "dcc"))
    for _ in range(3):
        for path in (cli, module, dcc):
            assert "blender" in entry_points_under(path, hints_file, monkeypatch)
    assert reads == [cli, module, dcc]  # each once, then remembered
    kept = json.loads(hints_file.read_text())[apps._SuffixHints.POINTS]
    assert [record["stamp"][0][0] for record in kept] == [dcc[0], module[0], cli[0]]  # the newest first


def test_at_most_a_few_layouts_are_kept_and_the_oldest_goes(
    tmp_path: Path, reads: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hints_file = tmp_path / "cache" / apps._SuffixHints.FILE
    paths = [layout(tmp_path, f"p{i}") for i in range(apps._SuffixHints.LAYOUTS + 1)]
    for path in paths:
        entry_points_under(path, hints_file, monkeypatch)
    kept = json.loads(hints_file.read_text())[apps._SuffixHints.POINTS]
    assert len(kept) == apps._SuffixHints.LAYOUTS
    entry_points_under(paths[-1], hints_file, monkeypatch)  # kept: no read
    entry_points_under(paths[0], hints_file, monkeypatch)  # the oldest, dropped: read again
    assert reads == [*paths, paths[0]]


def test_a_changed_folder_reads_that_layout_again_and_keeps_one_record_for_it(
    tmp_path: Path, reads: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hints_file = tmp_path / "cache" / apps._SuffixHints.FILE
    cli, dcc = layout(tmp_path, "cli"), layout(tmp_path, "dcc")
    entry_points_under(cli, hints_file, monkeypatch)
    entry_points_under(dcc, hints_file, monkeypatch)
    (Path(cli[0]) / "newpkg-1.0.dist-info").mkdir()  # a distribution installed into cli's first folder
    entry_points_under(cli, hints_file, monkeypatch)
    entry_points_under(dcc, hints_file, monkeypatch)  # untouched: still remembered
    assert reads == [cli, dcc, cli]
    kept = json.loads(hints_file.read_text())[apps._SuffixHints.POINTS]
    assert [record["stamp"][0][0] for record in kept] == [cli[0], dcc[0]]


def test_the_one_layout_an_earlier_version_kept_is_still_used(
    tmp_path: Path, reads: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    hints_file = tmp_path / "cache" / apps._SuffixHints.FILE
    cli = layout(tmp_path, "cli")
    entry_points_under(cli, hints_file, monkeypatch)
    data = json.loads(hints_file.read_text())
    data[apps._SuffixHints.POINTS] = data[apps._SuffixHints.POINTS][0]  # a dict, as that version wrote it
    hints_file.write_text(json.dumps(data))
    entry_points_under(cli, hints_file, monkeypatch)
    assert reads == [cli]
