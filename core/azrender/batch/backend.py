"""Run a JobSpec on Azure Batch with the azure-batch SDK, and report it like the local backend.

(Over 450 lines: submit, retry and cancel share one client, its retries and its masking;
the bodies are :mod:`.payload` and :mod:`.pool`, the reading of a job :mod:`.reading`.)

::

    backend = AzureBatchBackend(preset)           # DefaultAzureCredential, preset batch.account_url
    status = backend.submit(job, wait=True, progress=progress)
    backend.status(job.job_id); backend.cancel(job.job_id)

Submit: mint the job's storage access, make sure the pool is there (create it
from [pool] if ``pool_mode = "create"``), create the job (preparation task
waits for success, release task, limits), add the tasks in collections of at
most 100 (tasks the service could not take for a transient reason are sent
again; tasks it already has are fine), then switch the job to end when its
tasks have. Throttling (429/503) is retried with backoff. Every failure is one
line (:class:`JobError`) with SAS signatures masked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from azure.batch import BatchClient
from azure.batch import models as bm
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from azrender.backends import Retried
from azrender.batch.access import NodeAccess, for_job, mint_access
from azrender.batch.fingerprint import differences
from azrender.batch.limits import check_pool_settings
from azrender.batch.mounts import pool_mounts
from azrender.batch.payload import BatchPlan, mask_secrets, plan_batch
from azrender.batch.reading import JobReader, wire_value
from azrender.batch.validate import MAX_TASKS_PER_COLLECTION, check_plan
from azrender.errors import JobError, UsageError
from azrender.model import JobSpec, JobStatus
from azrender.node.contract import REASON_PREFIX
from azrender.presets import Preset
from azrender.progress import NO_PROGRESS, Progress
from azrender.storage.client import redact
from azrender.storage.retry import with_retries

R = TypeVar("R")

POLL_SECONDS = 15.0
#: Job metadata naming one submit (a random token), so a retried create recognises its own job.
SUBMISSION_KEY = "azrender-submission"
#: Job metadata of a retry's new job: the id of the job it runs failed tasks of.
RERUN_OF_KEY = "azrender-rerun-of"
#: How many ``-rerunN`` ids a retry tries before it gives up.
MAX_RERUNS = 20
TASK_COLLECTION_ATTEMPTS = 5


def make_client(account_url: str | None, source: object) -> BatchClient:
    """A BatchClient for the preset's account, signed in with DefaultAzureCredential."""
    if not account_url:
        raise UsageError(
            f"{source}: `batch.account_url` is not set",
            hint='add `account_url = "https://<account>.<region>.batch.azure.com"` under [batch]',
        )
    from azure.identity import DefaultAzureCredential

    return BatchClient(account_url, DefaultAzureCredential())


@contextmanager
def batch_errors(what: str, account: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Turn an azure-core failure inside the block into one :class:`JobError` line.

    ``secrets`` (the job's SAS URLs, storage keys) are masked should the service echo them.
    """
    try:
        yield
    except (JobError, UsageError):
        raise
    except ClientAuthenticationError as exc:
        raise JobError(
            f"{what}: Batch account {account} refused the credential",
            hint="sign in with `az login`; your identity needs a Batch role on the account",
        ) from exc
    except ServiceRequestError as exc:
        raise JobError(
            f"{what}: cannot reach Batch account {account}",
            hint="check batch.account_url and the network",
        ) from exc
    except HttpResponseError as exc:
        code = getattr(getattr(exc, "error", None), "code", None) or ""
        message = mask_secrets(_first_line(exc, secrets), secrets)
        raise JobError(f"{what}: Batch answered {exc.status_code} {code}: {message}".replace("  ", " ")) from exc
    except AzureError as exc:
        raise JobError(f"{what}: {mask_secrets(_first_line(exc, secrets), secrets)}") from exc


def _first_line(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    error = getattr(exc, "error", None)
    text = str(getattr(getattr(error, "message", None), "value", None) or getattr(exc, "message", None) or exc)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    # Masked before cutting: a secret split at the cut would no longer be recognised.
    return mask_secrets(lines[0] if lines else type(exc).__name__, secrets)[:300]


class AzureBatchBackend:
    """The ``azure`` backend; ``client`` and ``mint`` are injectable for tests."""

    name = "azure"

    def __init__(
        self,
        preset: Preset,
        *,
        client: BatchClient | None = None,
        environ: Mapping[str, str] | None = None,
        mint: Callable[..., NodeAccess] = mint_access,
        poll_seconds: float = POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        stderr_fetcher: Callable[[str, str], str | None] | None = None,
        job_specs: Callable[[str], JobSpec | None] | None = None,
    ) -> None:
        # Settings the service or the network would refuse stop here, before a submit uploads.
        check_pool_settings(preset)
        self.preset = preset
        self.account = preset.batch.account_url or "(batch.account_url not set)"
        self._client = client
        self.environ = os.environ if environ is None else environ
        self.mint = mint
        self.poll_seconds = poll_seconds
        self.sleep = sleep
        self.clock = clock
        # The JobSpec a submit stored beside its manifest (azrender.storage.jobspec): a retry
        # of a job that has ended runs its failed tasks again from it.
        self.job_specs = job_specs or self._stored_job_spec
        self._secrets: tuple[str, ...] = ()  # of the plan being sent: masked in every error
        self.reader = JobReader(
            lambda: self.client,
            self._call,
            account=self.account,
            secrets=lambda: self._secrets,
            stderr_fetcher=stderr_fetcher,
        )

    @property
    def client(self) -> BatchClient:
        if self._client is None:
            self._client = make_client(self.preset.batch.account_url, self.preset.source)
        return self._client

    def _call(self, what: str, fn: Callable[[], R]) -> R:
        """``fn()`` with throttling retried (POSTs included) and errors made one line."""
        with batch_errors(what, self.account, self._secrets):
            return with_retries(fn, sleep=self.sleep)

    # -- submit ----------------------------------------------------------------------------

    def plan(self, job: JobSpec) -> BatchPlan:
        """The bodies this backend sends for ``job`` (with real secrets: never print unredacted)."""
        access = self.mint(for_job(self.preset, job.outputs_container), now=self.clock(), environ=self.environ)
        mounts = pool_mounts(self.preset, self.environ)
        plan = plan_batch(job, self.preset, access, mounts, self.environ, strict=True)
        self._secrets = plan.secrets
        return plan

    def submit(
        self, job: JobSpec, *, wait: bool, progress: Progress = NO_PROGRESS, rerun_of: str | None = None
    ) -> JobStatus:
        # Checked before anything is created: a client is needed, and so is a sound plan.
        client = self.client
        plan = self.plan(job)
        check_plan(plan)
        self.ensure_pool(plan)
        if rerun_of:  # a retry's new job names the job whose tasks (and stored JobSpec) it runs
            plan.job["metadata"] = [*plan.job["metadata"], {"name": RERUN_OF_KEY, "value": rerun_of}]
        # Marks this very submit: a 409 on a retried create is ours only if the job carries it.
        plan.job["metadata"] = [*plan.job["metadata"], {"name": SUBMISSION_KEY, "value": uuid.uuid4().hex}]
        progress.note(f"creating job {job.job_id} on pool {self.preset.batch.pool_id}")
        try:
            self._call(f"creating job {job.job_id}", lambda: client.create_job(bm.BatchJobCreateOptions(plan.job)))
        except JobError as exc:
            if not isinstance(exc.__cause__, ResourceExistsError):
                raise
            if not self._is_our_job(plan):
                raise JobError(
                    f"job {job.job_id!r} already exists on Batch account {self.account}",
                    hint=f"a job id is used once: submit again for a new id, or see it with "
                    f"`azrender status {job.job_id} --backend azure`",
                ) from None
            # Our own create went through and only its answer was lost: carry on with it.
            progress.note(f"job {job.job_id} was created by the first attempt; adding its tasks")
        try:
            self.add_tasks(job.job_id, plan.tasks, progress)
            self._call(
                f"finishing job {job.job_id}",
                lambda: client.update_job(job.job_id, bm.BatchJobUpdateOptions(plan.job_update)),
            )
        except JobError:
            self._end_half_added(job.job_id)
            raise
        if wait:
            return self.wait(job.job_id, progress)
        return self.status(job.job_id)

    def _is_our_job(self, plan: BatchPlan) -> bool:
        """The job that exists under the plan's id is the one this submit sent (a create whose
        answer was lost, then retried): active, on the same pool, with the same metadata,
        this submit's own :data:`SUBMISSION_KEY` among them."""
        job_id = plan.job["id"]
        try:
            found = self._call(f"reading job {job_id}", lambda: self.client.get_job(job_id))
        except JobError:
            return False
        metadata = [{"name": m.name, "value": m.value} for m in (found.metadata or [])]
        pool_id = found.pool_info.pool_id if found.pool_info is not None else None
        return (
            wire_value(found.state) == "active"
            and metadata == plan.job["metadata"]
            and pool_id == plan.job["poolInfo"].get("poolId")
        )

    def _end_half_added(self, job_id: str) -> None:
        """A job whose tasks could not all be added would stay active (and its pool busy)
        forever: end it, so the submit leaves nothing behind that waits. Best effort."""
        options = _terminate_options(f"{REASON_PREFIX}submit failed while adding tasks")
        # Should this fail too, the submit's own error says what failed; `azrender cancel` ends it.
        with contextlib.suppress(JobError):
            self._call(f"ending the half-added job {job_id}", lambda: self.client.begin_terminate_job(
                job_id, options, polling_interval=max(1, int(self.poll_seconds))))

    def ensure_pool(self, plan: BatchPlan) -> None:
        """The pool exists afterwards (created from the plan when allowed), or a clear error."""
        mode = self.preset.batch.pool_mode
        if mode == "auto":
            return
        pool_id = self.preset.batch.pool_id
        try:
            exists = self._call(f"looking up pool {pool_id}", lambda: self.client.pool_exists(pool_id))
        except JobError as exc:
            # The SDK's exception policy raises for the 404 that means "no such pool".
            if not isinstance(exc.__cause__, ResourceNotFoundError):
                raise
            exists = False
        if exists:
            if mode == "create" and plan.pool is not None:
                self.check_pool_fingerprint(pool_id, plan.pool)
            return
        if mode == "existing" or plan.pool is None:
            raise JobError(
                f"pool {pool_id!r} does not exist on Batch account {self.account}",
                hint="create it, fix batch.pool_id, or set batch.pool_mode = \"create\"",
            )
        if self.preset.pool.identity:
            raise JobError(
                f"pool {pool_id!r} does not exist, and the Batch service API cannot give a new pool "
                "a managed identity",
                hint="create the pool with its identity in the portal or with ARM/Bicep, then submit again",
            )
        body = plan.pool
        try:
            self._call(f"creating pool {pool_id}", lambda: self.client.create_pool(bm.BatchPoolCreateOptions(body)))
        except JobError as exc:
            if not isinstance(exc.__cause__, ResourceExistsError):
                raise  # someone else created it in between: that is what we wanted

    def check_pool_fingerprint(self, pool_id: str, body: dict[str, Any]) -> None:
        """Refuse to reuse a pool azrender made for other settings (image, mounts, start task,
        azrender version; :mod:`azrender.batch.fingerprint`). A pool without azrender's
        metadata was made elsewhere and is used as it is."""
        pool = self._call(f"reading pool {pool_id}", lambda: self.client.get_pool(pool_id))
        actual = {m.name: m.value for m in (pool.metadata or [])}
        if "azrender" not in actual:
            return
        expected = {m["name"]: m["value"] for m in body.get("metadata", [])}
        found = differences(expected, actual)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise JobError(
                f"pool {pool_id!r} was made for other settings than {self.preset.source}: {found[0]}{more}",
                hint=f"delete the pool (`az batch pool delete --pool-id {pool_id}`) so submit makes it anew, "
                "or set batch.pool_id to a new id",
            )

    def add_tasks(self, job_id: str, tasks: list[dict[str, Any]], progress: Progress = NO_PROGRESS) -> None:
        """Add ``tasks`` in collections of at most 100; re-send the ones the service could not take."""
        progress.begin(f"adding tasks to {job_id}", total=len(tasks), unit="tasks")
        for start in range(0, len(tasks), MAX_TASKS_PER_COLLECTION):
            pending = tasks[start : start + MAX_TASKS_PER_COLLECTION]
            for attempt in range(TASK_COLLECTION_ATTEMPTS):
                group = bm.BatchTaskGroup({"value": pending})
                result = self._call(
                    f"adding tasks to job {job_id}",
                    lambda group=group: self.client.create_task_collection(job_id, group),  # type: ignore[misc]
                )
                retry, done = _collection_outcome(job_id, pending, result)
                progress.advance(done)
                if not retry:
                    break
                if attempt + 1 == TASK_COLLECTION_ATTEMPTS:
                    raise JobError(
                        f"Batch kept refusing {len(retry)} task(s) of job {job_id} (server busy)",
                        hint=f"try again later; `azrender cancel {job_id} --backend azure` ends the partial job",
                    )
                pending = retry
                self.sleep(min(8.0, 0.5 * 2**attempt))
        progress.end()

    # -- monitoring ------------------------------------------------------------------------

    def status(self, job_id: str) -> JobStatus:
        return self.reader.status(job_id)

    def wait(self, job_id: str, progress: Progress = NO_PROGRESS) -> JobStatus:
        """Poll until the job has completed (bounded by the job's own time limit)."""
        budget = self.preset.batch.max_job_minutes * 60 + 15 * 60
        polls = max(1, int(budget / max(self.poll_seconds, 0.001)) + 1)
        return self.reader.follow(
            job_id, polls=polls, poll_seconds=self.poll_seconds, sleep=self.sleep, progress=progress
        )

    def jobs(self) -> list[JobStatus]:
        """Jobs on the account that azrender submitted (metadata ``azrender``), oldest first."""
        found = self._call("listing jobs", lambda: list(self.client.list_jobs()))
        ours = [j for j in found if any(m.name == "azrender" for m in (j.metadata or []))]
        ours.sort(key=lambda j: j.creation_time)
        return [
            self.reader.job_status(j, self._call(f"listing tasks of job {j.id}", lambda j=j: list(self.client.list_tasks(j.id))))  # type: ignore[misc]
            for j in ours
        ]

    # -- retry -----------------------------------------------------------------------------

    def retry(self, job_id: str) -> Retried:
        """Requeue the job's failed tasks.

        While the job is active, each failed task is reactivated (``reactivate_task``):
        it runs again in the same job, on a node that already ran the job's preparation
        task without running it again, as Batch does. Batch refuses to reactivate a task
        of a job that has completed (or is terminating), and azrender's jobs complete as
        soon as their last task has (``onAllTasksComplete = terminatejob``, sent once
        every task is added; see :mod:`azrender.batch.payload`), so a job that has ended
        gets its failed tasks run again as a new job, ``<job>-rerunN``: the same task
        specs from the JobSpec the submit stored (:mod:`azrender.storage.jobspec`), the
        same job files and node bundle in storage, the same outputs container and blob
        names, with fresh access. Keeping jobs open until they are retried was not
        chosen: their release task would not run, their auto-pool would keep its nodes
        (and their cost) and they would count against the account's active job quota.

        Sources: ``BatchClient.reactivate_task`` (azure-batch 15: "Reactivation will fail
        for Tasks that are not completed or that previously completed successfully ...
        it will fail if the Job has completed (or is terminating or deleting)"), and the
        JobPreparationTask docs (it runs on a node before the job's first task there, and
        again only after a reboot or reimage).
        """
        status = self.status(job_id)
        failed = [t.task_id for t in status.tasks if t.result == "failure"]
        if not failed:
            raise JobError(f"job {job_id!r} has no failed tasks to retry",
                           hint=f"`azrender status {job_id} --backend azure` shows each task's state")
        if status.state == "active":
            try:
                for task_id in failed:
                    self._call(f"requeuing task {task_id} of job {job_id}",
                               lambda task_id=task_id: self.client.reactivate_task(job_id, task_id))  # type: ignore[misc]
                return Retried(job_id, failed, self.name)
            except JobError as exc:
                # The job ended between reading its state and the requeue: run them anew below.
                if not (isinstance(exc.__cause__, HttpResponseError) and exc.__cause__.status_code == 409):
                    raise
                status = self.status(job_id)
                failed = [t.task_id for t in status.tasks if t.result == "failure"]
                if status.state == "active" or not failed:
                    raise
        return self._rerun(job_id, failed)

    def _rerun(self, job_id: str, failed: list[str]) -> Retried:
        """Run the failed tasks of an ended job as a new job from the submit's stored JobSpec."""
        job = self._call(f"reading job {job_id}", lambda: self.client.get_job(job_id))
        original = next((m.value for m in (job.metadata or []) if m.name == RERUN_OF_KEY), job_id)
        spec = self.job_specs(original)
        if spec is None:
            raise JobError(
                f"job {job_id!r} has ended, and Batch cannot requeue the tasks of an ended job; "
                f"its job description (jobs/{original}/jobspec.json) is not in storage to run them again",
                hint="submit the scene again (jobs submitted by this azrender version can be retried)",
            )
        tasks = [t for t in spec.tasks if t.task_id in set(failed)]
        if not tasks:
            raise JobError(f"the stored description of job {original!r} has none of the failed tasks of {job_id!r}",
                           hint="submit the scene again")
        rerun_id = self._free_rerun_id(original)
        self.submit(dataclasses.replace(spec, job_id=rerun_id, tasks=tasks), wait=False, rerun_of=original)
        return Retried(job_id, [t.task_id for t in tasks], self.name, rerun_job_id=rerun_id)

    def _free_rerun_id(self, original: str) -> str:
        """``<original>-rerunN`` with the first N that no job on the account has (a Batch job id
        is at most 64 characters: the original's end gives way)."""
        for number in range(1, MAX_RERUNS + 1):
            suffix = f"-rerun{number}"
            candidate = original[: 64 - len(suffix)] + suffix
            try:
                self._call(f"reading job {candidate}", lambda c=candidate: self.client.get_job(c))  # type: ignore[misc]
            except JobError as exc:
                if isinstance(exc.__cause__, ResourceNotFoundError):
                    return candidate
                raise
        raise JobError(f"job {original!r} was already run again {MAX_RERUNS} times",
                       hint="submit the scene again for a new job")

    def _stored_job_spec(self, job_id: str) -> JobSpec | None:
        from azrender.storage.client import container_client
        from azrender.storage.jobspec import read_job_spec

        storage = self.preset.storage
        return read_job_spec(container_client(storage.assets_container, account_url=storage.account_url), job_id)

    def cancel(self, job_id: str) -> JobStatus:
        """Terminate the job: running tasks are ended, waiting ones never start; the release task runs."""
        options = _terminate_options("cancelled with azrender")
        poller = self._call(
            f"cancelling job {job_id}",
            lambda: self.client.begin_terminate_job(job_id, options, polling_interval=max(1, int(self.poll_seconds))),
        )
        with batch_errors(f"cancelling job {job_id}", self.account):
            poller.result(timeout=300)
        return self.status(job_id)


def _collection_outcome(
    job_id: str, sent: list[dict[str, Any]], result: bm.BatchCreateTaskCollectionResult
) -> tuple[list[dict[str, Any]], int]:
    """(tasks to send again, tasks now on the job); raises for a task the service refused."""
    by_id = {t["id"]: t for t in sent}
    retry: list[dict[str, Any]] = []
    done = 0
    answered = set()
    for item in result.result_values or []:
        answered.add(item.task_id)
        code = item.error.code if item.error else None
        if wire_value(item.status) == "success" or code == "TaskExists":
            done += 1
        elif wire_value(item.status) == "servererror":
            retry.append(by_id[item.task_id])
        else:
            message = item.error.message.value if item.error and item.error.message else code
            raise JobError(f"Batch refused task {item.task_id} of job {job_id}: {code}: {redact(str(message))}")
    retry += [t for t in sent if t["id"] not in answered]
    return retry, done


def _terminate_options(reason: str) -> Any:
    """What ``begin_terminate_job`` takes; azure-batch 15 does not export the model from
    ``azure.batch.models``, only from ``models._models`` (hence the pinned major version)."""
    return bm._models.BatchJobTerminateOptions({"terminateReason": reason})
