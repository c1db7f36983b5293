"""Operations against the fake Batch service: a create whose answer was lost, a half-added job,
polling with task counts, failure reasons read once."""

from __future__ import annotations

from typing import Any

import pytest
from tests.core.batch_service import FakeBatchService, NodeResult
from tests.core.test_batch_backend import backend, make_job

from azrender.batch.reading import FULL_STATUS_EVERY
from azrender.errors import JobError


def posts(service: FakeBatchService, path: str) -> int:
    return sum(1 for m, p, _ in service.requests if (m, p) == ("POST", path))


def test_a_create_whose_answer_was_lost_goes_on_with_the_job_it_made() -> None:
    service = FakeBatchService()
    service.lose_answer.add("create_job")  # created, then a 503: the retry meets a 409
    status = backend(service).submit(make_job("1-3"), wait=True)
    assert posts(service, "/jobs") == 2 and service.invalid == []
    assert status.state == "completed" and status.counts["succeeded"] == 3
    # A second submit of the same job id is still refused: it is not this submit's job.
    with pytest.raises(JobError, match="'shot-1' already exists"):
        backend(service).submit(make_job("1-3"), wait=False)


def test_a_job_whose_tasks_cannot_be_added_is_ended_not_left_waiting() -> None:
    service = FakeBatchService()
    service.collection_server_errors = {"frames-002": 99}  # refused on every attempt
    with pytest.raises(JobError, match="kept refusing 1 task"):
        backend(service).submit(make_job("1-3"), wait=False)
    assert posts(service, "/jobs/shot-1/terminate") == 1
    assert service.jobs["shot-1"]["state"] != "active"


def test_wait_polls_task_counts_and_reads_each_failure_once() -> None:
    def node(task: dict[str, Any]) -> NodeResult:
        if task["id"] in ("frames-001", "frames-002"):
            return NodeResult(exit_code=3, stderr="Error: out of memory\n")
        return NodeResult()

    service = FakeBatchService(node)
    # One task that runs for many polls, so the counts stand still for a while.
    slow = {"left": 40}
    step = service.step

    def slow_step(job_id: str) -> None:
        if slow["left"] > 0 and service.jobs[job_id]["tasks"].get("frames-004", {}).get("state") == "running":
            slow["left"] -= 1
            return
        step(job_id)

    service.step = slow_step  # type: ignore[method-assign]
    status = backend(service).submit(make_job("1-4"), wait=True)
    assert status.state == "completed" and status.counts["failed"] == 2
    failed = {t.task_id: t.failure or "" for t in status.tasks if t.result == "failure"}
    assert sorted(failed) == ["frames-001", "frames-002"]
    assert all(f.endswith("stderr: Error: out of memory") for f in failed.values()), failed
    counts = sum(1 for m, p, _ in service.requests if m == "GET" and p.endswith("/taskcounts"))
    lists = sum(1 for m, p, _ in service.requests if m == "GET" and p == "/jobs/shot-1/tasks")
    stderr = sum(1 for m, p, _ in service.requests if m == "GET" and p.endswith("/files/stderr.txt"))
    assert counts >= 30  # every poll asks for the counts...
    assert lists <= 4 + counts // FULL_STATUS_EVERY + 2  # ...and lists the tasks only when they move
    assert stderr == 2  # each failed task's log is read once, not on every poll


def test_render_tasks_get_a_retention_time_and_a_limit_from_their_chunk() -> None:
    from datetime import datetime, timezone
    from pathlib import Path

    from azrender.batch.dryrun import dry_run_document
    from azrender.batch.validate import validate_body
    from azrender.presets import parse_preset

    base = 'name = "s"\n[storage]\naccount_url = "https://s.blob.core.windows.net"\n[batch]\n'
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)

    def constraints(extra: str, frames: str = "1-5", chunk: int = 2) -> list[dict[str, Any]]:
        doc = dry_run_document(make_job(frames, chunk), parse_preset(base + extra, Path("s.toml")), now=now, environ={})
        assert all(validate_body("BatchTaskCreateOptions", t) == [] for t in doc["tasks"])
        return [t["constraints"] for t in doc["tasks"]]

    default = constraints("")
    assert [c["retentionTime"] for c in default] == ["PT1H"] * 3  # not Batch's 7 days
    # 15 minutes to start, 60 per frame: chunks of 2, 2 and 1 frames.
    assert [c["maxWallClockTime"] for c in default] == ["PT2H15M", "PT2H15M", "PT1H15M"]
    chosen = constraints("task_retention_minutes = 1440\nminutes_per_frame = 5\n")
    assert [c["maxWallClockTime"] for c in chosen] == ["PT25M", "PT25M", "PT20M"]
    assert chosen[0]["retentionTime"] == "P1D"
    assert [c["maxWallClockTime"] for c in constraints("max_task_minutes = 90\n")] == ["PT1H30M"] * 3
    assert all("maxWallClockTime" not in c for c in constraints("minutes_per_frame = 0\n"))


def test_a_pool_made_for_other_settings_is_refused_naming_the_difference() -> None:
    from tests.core.test_batch_backend import PRESET

    service = FakeBatchService()
    backend(service).submit(make_job("1-2", job_id="a"), wait=False)
    made = service.pools["azrender"]
    names = {m["name"] for m in made["metadata"]}
    assert {"azrender", "azrender-image", "azrender-mounts", "azrender-start-task"} <= names
    backend(service).submit(make_job("1-2", job_id="b"), wait=False)  # same preset: reused

    other_image = PRESET + '[pool]\nimage = "canonical/ubuntu-22_04-lts/server"\n'
    with pytest.raises(JobError) as info:
        backend(service, other_image).submit(make_job("1-2", job_id="c"), wait=False)
    assert "pool 'azrender' was made for other settings than show.toml: image " \
           "canonical/ubuntu-22_04-lts/server/latest (the pool has canonical/ubuntu-24_04-lts/server/latest)" \
           in info.value.message
    assert "c" not in service.jobs  # refused before the job was created
    other_start = PRESET + '[pool]\nstart_command = "/opt/setup/install-blender.sh"\n'
    with pytest.raises(JobError, match="the start task differs from the preset's"):
        backend(service, other_start).submit(make_job("1-2", job_id="d"), wait=False)
    # A pool made elsewhere (no azrender metadata) is used as it is.
    service.pools["azrender"] = {k: v for k, v in made.items() if k != "metadata"}
    backend(service, other_image).submit(make_job("1-2", job_id="e"), wait=False)
    assert "e" in service.jobs


def test_the_node_cache_limit_reaches_the_preparation_task() -> None:
    from datetime import datetime, timezone
    from pathlib import Path

    from azrender.batch.dryrun import dry_run_document
    from azrender.presets import parse_preset

    text = 'name = "s"\n[storage]\naccount_url = "https://s.blob.core.windows.net"\nnode_cache_gib = 200\n'
    doc = dry_run_document(make_job(), parse_preset(text, Path("s.toml")), now=datetime.now(timezone.utc), environ={})
    env = {e["name"]: e["value"] for e in doc["job"]["jobPreparationTask"]["environmentSettings"]}
    assert env["AZRENDER_NODE_CACHE_GIB"] == "200"
