"""The panel's bpy-free parts: background threads and their updates, preset search path, flows."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from azrender.errors import StorageError
from azrender.presets import parse_preset
from azrender_blender.ui.flows import download_job, job_output_dir
from azrender_blender.ui.presets import PRESET_PATH_ENV, PresetCache, find_presets, preset_dirs
from azrender_blender.ui.work import QueueProgress, Reporter, Update, Work, one_line


def test_a_job_posts_updates_in_order_and_its_thread_ends() -> None:
    work = Work()

    def job(reporter: Reporter) -> None:
        reporter.post(state="uploading")
        reporter.post(job_id="j1", state="done", progress=1.0)

    work.start("k", job)
    assert work.join(5)
    assert work.drain() == [
        Update(key="k", state="uploading"),
        Update(key="k", job_id="j1", state="done", progress=1.0),
    ]
    assert work.drain() == []
    assert not work.busy()


def test_a_failing_job_becomes_one_failed_update_with_a_one_line_message() -> None:
    work = Work()

    def boom(reporter: Reporter) -> None:
        raise StorageError("container 'x' is unreachable", hint="check the account URL")

    def crash(reporter: Reporter) -> None:
        raise OSError("line one\nline two")

    work.start("a", boom)
    work.start("b", crash)
    assert work.join(5)
    updates = {u.key: u for u in work.drain()}
    assert updates["a"].state == "failed"
    assert updates["a"].error == "container 'x' is unreachable (check the account URL)"
    assert updates["b"].error == "OSError: line one"
    assert one_line(ValueError()) == "ValueError"


def test_stop_wakes_a_job_that_waits() -> None:
    work = Work()
    woke = threading.Event()

    def waiter(reporter: Reporter) -> None:
        if reporter.sleep(60):
            woke.set()

    work.start("w", waiter)
    assert work.running("w")
    assert work.stop(timeout=5)
    assert woke.is_set() and not work.running("w")


def test_queue_progress_reports_fractions_without_flooding() -> None:
    work = Work()
    reporter = Reporter("p", work.updates, threading.Event())
    progress = QueueProgress(reporter)
    progress.begin("upload", total=1000)
    for _ in range(1000):
        progress.advance(1)
    progress.end()
    progress.note("hello")
    updates = work.drain()
    assert updates[0] == Update(key="p", message="upload", progress=0.0)
    assert updates[-2] == Update(key="p", progress=1.0)
    assert updates[-1] == Update(key="p", message="hello")
    assert len(updates) < 20  # 1000 advances in well under a second: throttled
    fractions = [u.progress for u in updates if u.progress is not None]
    assert fractions == sorted(fractions)


def test_preset_search_path_and_environment(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (a, b):
        folder.mkdir()
    (a / "zeta.toml").write_text('name = "zeta"\n')
    (a / "alpha.toml").write_text('name = "alpha"\n')
    (a / "notes.txt").write_text("not a preset")
    (b / "other.toml").write_text('name = "other"\n')
    dirs = preset_dirs(f"{a}{os.pathsep} {a} {os.pathsep}{c}", {PRESET_PATH_ENV: str(b)})
    assert dirs == [a, c, b]
    assert find_presets(dirs) == [a / "alpha.toml", a / "zeta.toml", b / "other.toml"]
    assert preset_dirs("", {}) == []


def test_preset_cache_reloads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "show.toml"
    path.write_text('name = "show"\n[render]\nchunk = 2\n')
    cache = PresetCache()
    assert cache.load(path).render.chunk == 2
    path.write_text('name = "show"\n[render]\nchunk = 5\n')
    os.utime(path, (1, 1))
    assert cache.load(path).render.chunk == 5


def test_job_output_dir() -> None:
    assert job_output_dir(Path("/renders"), "shot-1") == Path("/renders/shot-1")


@pytest.mark.azurite
def test_download_job_brings_frames_and_reports_done(storage_env: str, tmp_path: Path) -> None:
    from azrender.storage.client import container_client, ensure_container

    preset = parse_preset('name = "t"\n[storage]\noutputs_container = "ui-dl"\n', tmp_path / "t.toml")
    client = container_client("ui-dl")
    ensure_container(client)
    client.upload_blob("job-a/frames/shot_0001.png", b"png-bytes", overwrite=True)
    client.upload_blob("job-a/logs/frames-001/stdout.txt", b"log", overwrite=True)
    client.upload_blob("job-b/frames/shot_0001.png", b"other job", overwrite=True)
    work = Work()
    reporter = Reporter("k", work.updates, threading.Event())

    summary = download_job(preset, "job-a", tmp_path / "out", reporter)

    assert summary.downloaded_files == 2
    assert (tmp_path / "out" / "job-a" / "frames" / "shot_0001.png").read_bytes() == b"png-bytes"
    assert not (tmp_path / "out" / "job-b").exists()
    last = work.drain()[-1]
    assert last.state == "done" and last.progress == 1.0
    assert last.message is not None and last.message.startswith("1 frames in ")
    again = download_job(preset, "job-a", tmp_path / "out", reporter)
    assert again.downloaded_files == 0 and again.skipped_files == 2


def test_cancel_stops_a_job_at_its_next_progress_report() -> None:
    work = Work()
    begun = threading.Event()
    steps: list[int] = []

    def upload(reporter: Reporter) -> None:
        progress = reporter.progress()
        progress.begin("upload", total=100)
        begun.set()
        for n in range(100):
            if reporter.sleep(0.05):  # a block takes a while; Cancel wakes the wait
                pass
            progress.advance(1)  # raises Cancelled once Cancel was pressed
            steps.append(n)

    assert work.cancel("nothing") is False  # no such job: nothing to cancel
    work.start("u", upload)
    assert begun.wait(5)
    assert work.cancel("u") is True
    assert work.join(5)
    assert len(steps) < 100
    assert work.drain()[-1] == Update(key="u", state="cancelled", message="cancelled", error="")


def test_a_new_thread_for_a_job_stops_the_one_it_replaces() -> None:
    work = Work()
    woke = threading.Event()

    def follower(reporter: Reporter) -> None:
        if reporter.sleep(60) and not reporter.cancelled:
            woke.set()

    work.start("j", follower)
    work.start("j", lambda reporter: reporter.post(state="cancelled"))
    assert work.join(5) and woke.wait(5)


def test_queue_progress_says_its_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel shows "upload: 3.0 MB of 12.0 MB (25%), 1.0 MB/s, about 9 s left", not 0.25."""
    from azrender_blender.ui import work as work_module

    now = [100.0]
    monkeypatch.setattr(work_module.time, "monotonic", lambda: now[0])
    work = Work()
    progress = QueueProgress(Reporter("p", work.updates, threading.Event()))
    progress.begin("upload", total=12 * 2**20)
    for _ in range(3):
        now[0] += 1.0
        progress.advance(2**20)
    messages = [u.message for u in work.drain() if u.message]
    assert messages[0] == "upload"
    assert messages[-1] == "upload: 3.0 MB of 12.0 MB (25%), 1.0 MB/s, about 9 s left"
