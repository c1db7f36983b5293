"""A JobSpec and a preset as Azure Batch REST bodies: pool, job, task collection.

Pure functions: the same bodies are printed by a dry run (redacted) and sent by
the backend, in the camelCase wire format of the Batch REST API (what
``az batch pool create --json-file`` takes)::

    plan = plan_batch(job, preset, access)
    plan.to_json()            # {"pool": {...} | None, "job": {...}, "tasks": [...], "jobUpdate": {...}}
    plan.redacted().to_json() # every SAS signature and mount secret masked

Batch completes a job with ``onAllTasksComplete = terminatejob`` at once when it
has no tasks yet, so the job is created with ``noaction`` and switched to
``terminatejob`` (``jobUpdate``) once every task is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azrender import __version__
from azrender.batch.access import NodeAccess
from azrender.batch.limits import check_pool_settings
from azrender.batch.mounts import PoolMounts
from azrender.batch.pool import pool_body, pool_info
from azrender.batch.wire import JSON, START_TASK_USER, TASK_USER, environment, iso_duration
from azrender.errors import UsageError
from azrender.model import JobSpec, OutputFileSpec, TaskSpec
from azrender.node.contract import (
    ENV_ACCOUNT_URL,
    ENV_CACHE_LIMIT,
    ENV_CONTAINER_URL,
    TERMINATING_CODES,
)
from azrender.presets import Preset
from azrender.presets.model import BatchSettings
from azrender.storage.account import account_name_of
from azrender.storage.client import redact
from azrender.storage.modes import BlobfuseMount, StoragePlan, storage_plan

PREPARATION_LIMIT_MINUTES = 120
RELEASE_LIMIT_MINUTES = 15
ENV_CLIENT_ID = "AZURE_CLIENT_ID"


def licence_environment(
    spec: str | None, environ: Mapping[str, str] | None = None, *, strict: bool = False
) -> dict[str, str]:
    """``"A=1 B="`` (the preset's ``pool.licence_env``) as a mapping; ``B=`` takes ``environ["B"]``.

    A name without a value in the preset is filled from the submitting environment,
    so one preset can serve sites with different licence servers. With ``strict``
    (a real submit) a name that still has no value is an error, not an empty variable
    on every node.

    >>> licence_environment("ADSKFLEX_LICENSE_FILE=27000@lic1 RLM_LICENSE=", {"RLM_LICENSE": "5053@lic2"})
    {'ADSKFLEX_LICENSE_FILE': '27000@lic1', 'RLM_LICENSE': '5053@lic2'}
    """
    env = environ or {}
    out: dict[str, str] = {}
    for item in (spec or "").split():
        name, _, value = item.partition("=")
        out[name] = value or env.get(name, "")
        if strict and not out[name]:
            raise UsageError(
                f"pool.licence_env names {name} without a value, and {name} is not set in this environment",
                hint=f"set it before submitting (`export {name}=27000@licserver`) or give it a value in the preset",
            )
    return out


# --- job and tasks -----------------------------------------------------------------------


def node_storage_environment(access: NodeAccess, job: JobSpec) -> dict[str, str]:
    """What the preparation and release tasks need to reach the assets container."""
    if access.mode == "sas":
        return {ENV_CONTAINER_URL: access.assets_url}
    env = {ENV_ACCOUNT_URL: access.account_url}
    if access.identity_client_id:
        env[ENV_CLIENT_ID] = access.identity_client_id
    return env


def azcopy_environment(access: NodeAccess) -> dict[str, str]:
    """What azcopy on the node needs to read the assets container (``node_sync = "azcopy"``).

    With SAS access the URL carries the job's read+list token; with the pool's managed
    identity it is the plain URL and azcopy logs in with the identity itself.
    """
    if access.mode == "sas":
        return {ENV_CONTAINER_URL: access.assets_url}
    env = {ENV_CONTAINER_URL: access.assets_url, "AZCOPY_AUTO_LOGIN_TYPE": "MSI"}
    if access.identity_client_id:
        env["AZCOPY_MSI_CLIENT_ID"] = access.identity_client_id
    elif access.identity:
        env["AZCOPY_MSI_RESOURCE_STRING"] = access.identity
    return env


def resource_files(task: TaskSpec, access: NodeAccess) -> list[JSON]:
    """The task's ResourceFiles: blobs below each prefix of the assets container, into the working dir."""
    out: list[JSON] = []
    for spec in task.resource_files:
        body: JSON = {"storageContainerUrl": access.assets_url, "blobPrefix": spec.blob_prefix}
        if spec.file_path:
            body["filePath"] = spec.file_path
        if access.mode == "identity" and access.identity:
            body["identityReference"] = {"resourceId": access.identity}
        out.append(body)
    return out


def job_mount_environment(plan: StoragePlan, access: NodeAccess) -> tuple[dict[str, str], tuple[str, ...]]:
    """(environment, secrets) blobfuse2 reads when the preparation task mounts the assets (``mount_at = "job"``).

    The mount is read-only, so it authenticates with the job's read+list assets SAS, or
    with the pool's managed identity: never with the account key.
    """
    if not plan.job_commands or not isinstance(plan.mount, BlobfuseMount):
        return {}, ()
    env = {
        "AZURE_STORAGE_ACCOUNT": plan.mount.account_name or account_name_of(access.account_url),
        "AZURE_STORAGE_BLOB_ENDPOINT": access.account_url,
    }
    if access.mode == "identity":
        env["AZURE_STORAGE_AUTH_TYPE"] = "MSI"
        if access.identity_client_id:
            env["AZURE_STORAGE_IDENTITY_CLIENT_ID"] = access.identity_client_id
        elif access.identity:
            env["AZURE_STORAGE_IDENTITY_RESOURCE_ID"] = access.identity
        return env, ()
    token = access.assets_url.partition("?")[2]
    env["AZURE_STORAGE_AUTH_TYPE"] = "SAS"
    env["AZURE_STORAGE_SAS_TOKEN"] = token
    return env, (token,)


def check_job_fits_plan(job: JobSpec, plan: StoragePlan, preset: Preset) -> None:
    """Refuse a job built for another storage plan or node OS than the preset's pool.

    The job's commands were written for one plan (:func:`azrender.jobs.build_job`): its
    scene path, the mount commands of its preparation task, the ``net use`` before each
    task. Sent to a pool the plan does not describe, the tasks would fail on the node.
    """
    expected = plan.pathmap.to_node(job.scene)
    missing: list[str] = []
    if job.node_scene != expected:
        missing.append(f"the scene at {expected} (the job has {job.node_scene})")
    prep = job.preparation.command_line if job.preparation else ""
    missing += [f"the preparation command {c!r}" for c in plan.job_commands if c not in prep]
    release = job.release.command_line if job.release else ""
    missing += [f"the release command {c!r}" for c in plan.release_commands if c not in release]
    if plan.sync_tool == "azcopy" and job.preparation and not job.preparation.resource_files:
        missing.append("the azcopy preparation task of storage.node_sync = \"azcopy\"")
    missing += [
        f"{c!r} before task {t.task_id}" for t in job.tasks for c in plan.task_prefix if c not in t.command_line
    ]
    if missing:
        raise UsageError(
            f"job {job.job_id} was not built for the {plan.mode} storage of {preset.source} on "
            f"{plan.node_os} nodes: it lacks {missing[0]}",
            hint="build the job with storage_plan(preset, node_os=preset.pool.os) (what `azrender submit` does)",
        )


def output_file(spec: OutputFileSpec, access: NodeAccess) -> JSON:
    """One OutputFile: the same pattern, blob path and condition the local node applies."""
    container: JSON = {"containerUrl": access.outputs_url, "path": spec.destination}
    if access.mode == "identity" and access.identity:
        container["identityReference"] = {"resourceId": access.identity}
    return {
        "filePattern": spec.pattern,
        "destination": {"container": container},
        "uploadOptions": {"uploadCondition": spec.condition.value},
    }


def watcher_exit_conditions() -> JSON:
    """ExitConditions for the watcher's exits: 65 (missing plug-in) and 66 (licence server
    unreachable or licence absent) end the job; 64 (licence shortage) does not.

    What the service allows (``azure.batch.models.ExitOptions``): per exit code only a
    ``jobAction`` (none, disable, terminate) and a ``dependencyAction``; there is no
    per-code "do not retry". Batch retries any non-zero exit up to ``maxTaskRetryCount``
    before it applies exit conditions. A plug-in the image lacks, or a licence server
    that cannot be reached, fails every task of the job the same way, so 65/66 terminate
    the job and its waiting tasks never start (nor are paid for). A shortage passes: the
    watcher already waited and tried again with a back-off
    (:func:`azrender.node.watch.run`), Batch retries the task, and the tasks that got a
    licence keep rendering. The job must say ``onTaskFailure =
    performexitoptionsjobaction`` for a jobAction to count, and since that makes
    "terminate" the default for every other non-zero exit, ``default`` keeps ordinary
    failures (and 64) at "none": one bad frame does not end the job.
    """
    return {
        "exitCodes": [
            {"code": code, "exitOptions": {"jobAction": "terminate"}} for code in sorted(TERMINATING_CODES)
        ],
        "default": {"jobAction": "none"},
    }


#: Start-up allowance of a render task (renderer launch, scene load) in the derived time limit.
TASK_START_MINUTES = 15


def task_limit_seconds(task: TaskSpec, batch: BatchSettings) -> int:
    """The task's wall-clock limit: its own, else ``batch.max_task_minutes``, else
    ``TASK_START_MINUTES`` plus ``batch.minutes_per_frame`` per frame of its chunk (0: none).

    A hung renderer otherwise holds its node (and its licence) until the job's limit.
    """
    if task.max_wall_clock_seconds:
        return task.max_wall_clock_seconds
    if batch.max_task_minutes:
        return batch.max_task_minutes * 60
    if not batch.minutes_per_frame:
        return 0
    return (TASK_START_MINUTES + batch.minutes_per_frame * max(1, len(task.frames))) * 60


def task_body(task: TaskSpec, access: NodeAccess, batch: BatchSettings) -> JSON:
    """One BatchTaskCreateOptions for a render task.

    ``retentionTime``: the task's folder (frames, already uploaded by its OutputFiles)
    leaves the node after ``batch.task_retention_minutes`` instead of Batch's 7 days.
    """
    constraints: JSON = {
        "maxTaskRetryCount": task.max_retries,
        "retentionTime": iso_duration(batch.task_retention_minutes * 60),
    }
    limit = task_limit_seconds(task, batch)
    if limit:
        constraints["maxWallClockTime"] = iso_duration(limit)
    body: JSON = {
        "id": task.task_id,
        "displayName": task.display_name or task.task_id,
        "commandLine": task.command_line,
        "userIdentity": TASK_USER,
        "constraints": constraints,
        "exitConditions": watcher_exit_conditions(),
    }
    if task.environment:
        body["environmentSettings"] = environment(task.environment)
    if task.output_files:
        body["outputFiles"] = [output_file(o, access) for o in task.output_files]
    if task.resource_files:
        body["resourceFiles"] = resource_files(task, access)
    return body


def job_body(
    job: JobSpec,
    preset: Preset,
    access: NodeAccess,
    mounts: PoolMounts,
    plan: StoragePlan,
    licence: Mapping[str, str],
) -> JSON:
    """The BatchJobCreateOptions: pool, preparation (waits for success), release, limits.

    When the storage plan mounts at job level, the preparation task installs blobfuse2
    when the image lacks it and mounts before it syncs, and the release task unmounts:
    both run elevated (``userIdentity`` of JobPreparationTask/JobReleaseTask; installing
    packages and a FUSE mount need root), the mount with blobfuse2's environment.
    """
    common = {**licence, **job.environment}
    storage_env = node_storage_environment(access, job)
    if plan.sync_tool == "azcopy":
        storage_env |= azcopy_environment(access)
    elif plan.node_sync and preset.storage.node_cache_gib:
        storage_env[ENV_CACHE_LIMIT] = str(preset.storage.node_cache_gib)
    mount_env, _ = job_mount_environment(plan, access)
    body: JSON = {
        "id": job.job_id,
        "displayName": f"{job.app} {job.scene.name} frames {job.frames.spec}"[:1024],
        "poolInfo": pool_info(preset, mounts),
        "constraints": {"maxWallClockTime": iso_duration(preset.batch.max_job_minutes * 60)},
        "onAllTasksComplete": "noaction",
        # Lets a task's exit conditions end the job (see watcher_exit_conditions).
        "onTaskFailure": "performexitoptionsjobaction",
        "metadata": [
            {"name": "azrender", "value": __version__},
            {"name": "app", "value": job.app},
            {"name": "scene", "value": str(job.scene)[-512:]},
            {"name": "frames", "value": job.frames.spec[:512]},
        ],
    }
    if common:
        body["commonEnvironmentSettings"] = environment(common)
    if job.preparation is not None:
        prep = job.preparation
        body["jobPreparationTask"] = {
            "id": prep.task_id,
            "commandLine": prep.command_line,
            "environmentSettings": environment({**prep.environment, **storage_env, **mount_env}),
            "constraints": {
                "maxWallClockTime": iso_duration(PREPARATION_LIMIT_MINUTES * 60),
                "maxTaskRetryCount": 2,
            },
            "waitForSuccess": True,
            "rerunOnNodeRebootAfterSuccess": True,
            "userIdentity": START_TASK_USER if plan.job_commands else TASK_USER,
        }
        if prep.resource_files:
            body["jobPreparationTask"]["resourceFiles"] = resource_files(prep, access)
    if job.release is not None:
        release = job.release
        body["jobReleaseTask"] = {
            "id": release.task_id,
            "commandLine": release.command_line,
            "environmentSettings": environment({**release.environment, **storage_env}),
            "maxWallClockTime": iso_duration(RELEASE_LIMIT_MINUTES * 60),
            # Unmounting the job's own mount needs root, as mounting did.
            "userIdentity": START_TASK_USER if plan.release_commands else TASK_USER,
        }
    return body


#: Sent after the last task is added: the job ends when its tasks have.
JOB_UPDATE: JSON = {"onAllTasksComplete": "terminatejob"}


@dataclass
class BatchPlan:
    """Everything the Azure backend sends for one job, in REST wire format.

    ``pool`` is the pool to create when it does not exist (None when the preset
    uses an existing pool or an auto-pool); ``secrets`` are strings that must
    be masked before anything is printed.
    """

    pool: JSON | None
    job: JSON
    tasks: list[JSON]
    job_update: JSON = field(default_factory=lambda: dict(JOB_UPDATE))
    secrets: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {"pool": self.pool, "job": self.job, "tasks": self.tasks, "jobUpdate": self.job_update}

    def redacted(self) -> BatchPlan:
        """The same plan with SAS signatures and mount secrets replaced by ``***``."""
        masked = _mask(self.to_json(), self.secrets)
        return BatchPlan(masked["pool"], masked["job"], masked["tasks"], masked["jobUpdate"], ())


def mask_secrets(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with each secret masked (SAS URLs keep all but their signature), then redacted.

    >>> mask_secrets("key=abc123 url=https://a/c?sv=1&sig=zz", ("abc123",))
    'key=*** url=https://a/c?sv=1&sig=***'
    """
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, redact(secret) if "sig=" in secret else "***")
    return redact(text)


def _mask(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    return value


def plan_batch(
    job: JobSpec,
    preset: Preset,
    access: NodeAccess,
    mounts: PoolMounts | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    strict: bool = False,
) -> BatchPlan:
    """Pool, job and task bodies for ``job`` on the preset's pool, reaching storage by ``access``.

    ``environ`` fills the ``pool.licence_env`` names the preset leaves empty; ``strict``
    (a real submit) refuses one that stays empty.
    """
    check_pool_settings(preset)  # before any body: one line, nothing created
    mounts = mounts or PoolMounts([])
    storage = storage_plan(preset, node_os=preset.pool.os)
    check_job_fits_plan(job, storage, preset)
    pool = pool_body(preset, mounts) if preset.batch.pool_mode == "create" else None
    _, mount_secrets = job_mount_environment(storage, access)
    return BatchPlan(
        pool=pool,
        job=job_body(job, preset, access, mounts, storage,
                     licence_environment(preset.pool.licence_env, environ, strict=strict)),
        tasks=[task_body(t, access, preset.batch) for t in job.tasks],
        secrets=(*access.secrets, *mounts.secrets, *mount_secrets),
    )
