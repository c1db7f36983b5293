"""The local backend: submit a JobSpec to the emulated node on this machine.

``submit(job, wait=True)`` runs the job in this process with progress;
``wait=False`` starts a detached worker (``python -m azrender.local.worker``)
and returns at once, like a submit to Azure Batch. Either way the job record on
disk is the truth that ``status``, ``jobs`` and ``download`` read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    UserDelegationKey,
    generate_container_sas,
)

from azrender.apps import find_adapter
from azrender.backends import Retried
from azrender.errors import JobError, StorageError
from azrender.interpreter import python_executable, with_this_sys_path
from azrender.local.executor import LocalExecutor
from azrender.local.node import (
    NodeLayout,
    install_node_tools,
    link_mounts,
    local_mounts_from_env,
    missing_mount,
    prune_node_environments,
    share_node_environments,
)
from azrender.local.state import JobRecord, JobStore, TaskState, node_root
from azrender.model import JobSpec, JobStatus, ResourceFileSpec, TaskSpec
from azrender.node.contract import ENV_CONTAINER_URL
from azrender.nodebundle.bundle import node_cache_dir, stage_job_bundle
from azrender.progress import NO_PROGRESS, Progress
from azrender.sas import ASSETS_PERMISSIONS, OUTPUTS_PERMISSIONS, sas_window
from azrender.storage.account import account_name_of
from azrender.storage.client import container_client, container_client_from_url, storage_errors
from azrender.storage.download import download_to, safe_join
from azrender.storage.upload import UploadItem, upload_files

#: A local job's read+list SAS is signed as for a Batch job with this wall-clock limit.
LOCAL_JOB_MINUTES = 24 * 60

#: How often ``wait`` reads the job's record; a local record is a small file on disk.
WAIT_POLL_SECONDS = 0.25


class LocalBackend:
    """Runs jobs on one emulated Batch node with ``slots`` parallel task slots."""

    name = "local"

    def __init__(
        self,
        *,
        slots: int = 2,
        account_url: str | None = None,
        store: JobStore | None = None,
        layout: NodeLayout | None = None,
        mounts: dict[str, Path] | None = None,
    ) -> None:
        self.slots = slots
        self.account_url = account_url
        self.store = store or JobStore()
        self.layout = layout or NodeLayout(node_root())
        # Local folders standing in for the pool's mounts (nfs/cifs/...): AZRENDER_LOCAL_MOUNTS.
        self.mounts = local_mounts_from_env() if mounts is None else mounts

    def submit(self, job: JobSpec, *, wait: bool, progress: Progress = NO_PROGRESS) -> JobStatus:
        if self.store.path(job.job_id).exists():
            raise JobError(
                f"job {job.job_id!r} was already submitted",
                hint="a job id is used once; submit again to get a new one",
            )
        needed = missing_mount(self.layout, job.node_scene, self.mounts)
        if needed is not None:
            raise JobError(
                f"the scene lives on mount {needed!r}, which the local node does not have",
                hint=f'point it at a local folder: AZRENDER_LOCAL_MOUNTS="{needed}=/path/to/share"',
            )
        link_mounts(self.layout, self.mounts)
        # The node code travels with the job, as to Batch: the preparation task installs it.
        # Staged here, by the process that built the job, so the worker never rebuilds it.
        stage_job_bundle(container_client(job.assets_container, account_url=self.account_url), job)
        record = JobRecord.new(job)
        self.store.save(record)
        self._start_worker(record)
        return self.wait(job.job_id, progress) if wait else record.to_status()

    def _start_worker(self, record: JobRecord) -> None:
        """Run the job's open tasks in a detached worker; its pid goes into the record."""
        # Always in a detached worker, as a Batch node runs a job whoever watches: Ctrl-C in
        # `submit --wait` then ends the waiting only, and no render is left without a parent.
        log = self.store.path(record.job_id).with_suffix(".log")
        with open(log, "ab") as handle:
            proc = subprocess.Popen(
                [python_executable(), "-m", "azrender.local.worker", record.job_id, "--slots", str(self.slots),
                 "--jobs-dir", str(self.store.root), "--node-root", str(self.layout.root)]
                + (["--account-url", self.account_url] if self.account_url else []),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
                start_new_session=True,  # survives the submitting terminal closing
                env=with_this_sys_path(os.environ),
            )
        record.worker_pid = proc.pid
        self.store.save(record)

    def retry(self, job_id: str) -> Retried:
        """Requeue the failed tasks of an ended job and run them in a new detached worker.

        The worker runs only the tasks that have not completed; succeeded tasks keep
        their result and frames. The job's release task removed its files from the
        node when the job ended, so the preparation task runs again before the
        requeued tasks, as Batch runs it on a node for a job it has not prepared
        there; the release task runs again at the end. A running job is refused:
        its worker owns the record until it ends (Azure reactivates in place).
        """
        record = self._refresh(self.store.load(job_id))
        if record.state == "active":
            raise JobError(
                f"job {job_id!r} is still running on the local node",
                hint=f"retry its failed tasks once it has ended (`azrender status {job_id} --wait`)",
            )
        failed = [t for t in record.tasks if t.result == "failure"]
        if not failed:
            raise JobError(f"job {job_id!r} has no failed tasks to retry",
                           hint=f"`azrender status {job_id}` shows each task's state")
        for task in failed:
            task.state, task.result, task.exit_code, task.failure = "active", None, None, None
            task.started = task.ended = None
            task.outputs = []
        record.preparation = TaskState(record.preparation.task_id)
        record.release = TaskState(record.release.task_id)
        # No pid until the new worker has one: a status read in between must not see the
        # old, dead worker and fail the requeued tasks again.
        record.state, record.ended, record.worker_pid = "active", None, None
        self.store.save(record)
        self._start_worker(record)
        return Retried(job_id, [t.task_id for t in failed], self.name)

    def wait(self, job_id: str, progress: Progress = NO_PROGRESS) -> JobStatus:
        """Follow the job's record until it has completed (or its worker is gone)."""
        record = self._refresh(self.store.load(job_id))
        progress.begin(f"render {job_id}", total=len(record.tasks), unit="tasks")
        reported = 0
        while True:
            finished = sum(t.state == "completed" for t in record.tasks)
            progress.advance(finished - reported)
            reported = finished
            if record.state != "active":
                break
            time.sleep(WAIT_POLL_SECONDS)
            record = self._refresh(self.store.load(job_id))
        progress.end()
        for task in record.tasks:
            if task.result == "failure":
                progress.note(f"[{job_id}] task {task.task_id} failed: {task.failure}")
        return record.to_status()

    def run(self, record: JobRecord, *, progress: Progress = NO_PROGRESS) -> JobRecord:
        """Run a stored job to the end in this process."""
        install_node_tools(self.layout)
        link_mounts(self.layout, self.mounts)
        share_node_environments(self.layout, node_cache_dir() / "envs")  # a bundle installs once per machine
        prune_node_environments(node_cache_dir() / "envs")  # other builds' environments, beyond the last few
        prune_node_environments(node_cache_dir() / "bundles", marker="install.py")
        # The job's own renderer program, where the adapter picks: the install its scene's version
        # asks for. A job of an application with no adapter here still runs its command lines.
        adapter = find_adapter(record.job.app)
        bin_dir = self.layout.job_bin_dir(record.job.job_id)
        chosen = adapter.local_program(bin_dir, record.job.app_version, os.environ) if adapter else None
        if chosen:
            progress.note(chosen)
        # As Batch's OutputFiles: through the job's write+create SAS for its own container, nothing more.
        outputs = container_client_from_url(job_sas_url(
            container_client(record.job.outputs_container, account_url=self.account_url), OUTPUTS_PERMISSIONS))

        def upload_outputs(items: list[tuple[Path, str]]) -> None:
            upload_files(outputs, [UploadItem(path, blob) for path, blob in items], cache=None, index_blob=None)

        assets = container_client(record.job.assets_container, account_url=self.account_url)

        def fetch_resources(spec: TaskSpec, working_dir: Path) -> None:
            fetch_resource_files(assets, spec.resource_files, working_dir)

        executor = LocalExecutor(
            self.layout, self.store, upload_outputs, slots=self.slots, progress=progress,
            fetch_resources=fetch_resources, node_environment=assets_sas_environment(assets),
        )  # fmt: skip
        return executor.run(record)

    def status(self, job_id: str) -> JobStatus:
        return self._refresh(self.store.load(job_id)).to_status()

    def _refresh(self, record: JobRecord) -> JobRecord:
        if record.state == "active" and record.worker_pid and not _alive(record.worker_pid):
            # The worker died without finishing (killed, machine rebooted): say so
            # instead of showing a job that stays "running" forever.
            record.state = "completed"
            for task in record.tasks:
                if task.state != "completed":
                    task.state, task.result = "completed", "failure"
                    task.failure = "the local worker stopped before this task finished"
            self.store.save(record)
        return record

    def jobs(self) -> list[JobStatus]:
        return [self._refresh(r).to_status() for r in self.store.all()]

    def cancel(self, job_id: str) -> JobStatus:
        """Terminate the job's worker (and the task processes it started); open tasks fail."""
        record = self.store.load(job_id)
        if record.state == "active" and record.worker_pid and _alive(record.worker_pid):
            try:
                # A detached worker leads its own process group: this ends its renders too.
                os.killpg(record.worker_pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(record.worker_pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(record.worker_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        record = self.store.load(job_id)
        if record.state == "active":
            record.state, record.ended = "completed", time.time()
            for task in record.tasks:
                if task.state != "completed":
                    task.state, task.result = "completed", "failure"
                    task.failure = "job cancelled"
                    task.ended = record.ended
            self.store.save(record)
        return record.to_status()


def fetch_resource_files(client: ContainerClient, specs: Iterable[ResourceFileSpec], working_dir: Path) -> None:
    """Batch's container resource files: each blob below the prefix to ``wd/<file_path>/<blob name>``."""
    for spec in specs:
        with storage_errors("listing resource files", client=client, blob=spec.blob_prefix):
            names = [b.name for b in client.list_blobs(name_starts_with=spec.blob_prefix)]
        if not names:
            raise StorageError(
                f"no blob starts with {spec.blob_prefix!r} in container {client.container_name!r}",
                hint="submit the job again: its files are gone from the assets container",
            )
        for name in names:
            download_to(client, name, safe_join(working_dir / spec.file_path, name))


def assets_sas_environment(assets: ContainerClient, now: datetime | None = None) -> dict[str, str]:
    """``AZRENDER_ASSETS_CONTAINER_URL`` with a read+list SAS (:func:`job_sas_url`), as the Batch backend gives the node."""
    return {ENV_CONTAINER_URL: job_sas_url(assets, ASSETS_PERMISSIONS, now)}


def job_sas_url(client: ContainerClient, permission: ContainerSasPermissions, now: datetime | None = None) -> str:
    """The container URL of ``client`` with a SAS of ``permission`` for one local job.

    Signed with the account key of the connection string (Azurite's, or a key-based
    account's), else with a user delegation key got with the workstation's Entra ID
    sign-in (by the same rules, :mod:`azrender.sas`, as the Batch backend's :func:`~azrender.batch.access.mint_access`): the node's tasks get
    this SAS and never the workstation's credentials (:mod:`azrender.local.nodeenv`),
    and the node uploads a job's outputs through its write+create SAS, as Batch does.
    """
    credential = client.credential
    key = getattr(credential, "account_key", None)
    account_url = client.url.rsplit("/", 1)[0]
    account = getattr(credential, "account_name", None) or account_name_of(account_url)
    start, expiry = sas_window(now or datetime.now(timezone.utc), LOCAL_JOB_MINUTES)
    delegation: UserDelegationKey | None = None
    if not key:
        service = BlobServiceClient(account_url, credential=credential)
        with storage_errors("getting a user delegation key for the local node's SAS", client=client):
            delegation = service.get_user_delegation_key(start, expiry)
    token = generate_container_sas(
        account, client.container_name, account_key=key, user_delegation_key=delegation,
        permission=permission, start=start, expiry=expiry,
    )
    return f"{client.url}?{token}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child that nobody reaped still answers kill(0): check for a zombie.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
