"""Turn a scene, its frames and a preset's choices into a :class:`JobSpec`.

Pure functions: nothing here touches storage or starts a process, so the same
JobSpec can be checked in a dry run, run by the local backend or sent to
Azure Batch. Where files live on the node comes from the preset's
:class:`~azrender.storage.modes.StoragePlan` (``blob-copy`` when none is given)::

    job = build_job(request, adapter, job_id, storage_plan(preset))

>>> new_job_id(Path("/shots/sh010 final.blend"), now=datetime(2026, 1, 2, 3, 4, 5), salt="ab12")
'sh010-final-20260102-030405-ab12'
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from azrender.apps import AppAdapter
from azrender.model import (
    FrameRange,
    JobSpec,
    OutputFileSpec,
    RenderOptions,
    ResourceFileSpec,
    SceneSettings,
    TaskSpec,
    UploadCondition,
)
from azrender.node.contract import PREPARATION_TASK_ID, RELEASE_TASK_ID
from azrender.nodebundle.bootstrap import (
    NodeBundleRef,
    bootstrap_commands,
    bootstrap_resource,
    node_python,
    version_environment,
)
from azrender.rendering import RenderInvocation
from azrender.shell import bash_single_quote

if TYPE_CHECKING:
    from azrender.storage.modes import StoragePlan

# Where blob-copy puts the assets on a Linux node (the plan's node_root says it for every mode).
NODE_ASSETS_ROOT = "$AZ_BATCH_NODE_SHARED_DIR/assets"
# The job's own files (remap script) are synced here by the preparation task in every mode.
NODE_JOBS_ROOT = "$AZ_BATCH_NODE_SHARED_DIR/jobs"
REMAP_SCRIPT_NAME = "remap.py"

_NODE_DIRS = {
    "linux": ("$AZ_BATCH_NODE_SHARED_DIR/jobs", "$AZ_BATCH_TASK_WORKING_DIR/out", "/"),
    "windows": ("%AZ_BATCH_NODE_SHARED_DIR%\\jobs", "%AZ_BATCH_TASK_WORKING_DIR%\\out", "\\"),
}

# Batch ids: letters, digits, hyphens and underscores, at most 64 characters.
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def new_job_id(scene: Path, *, now: datetime | None = None, salt: str | None = None) -> str:
    """A readable, unique, Batch-valid job id: ``<scene>-<utc time>-<random>``."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    tail = salt or secrets.token_hex(2)
    stem = _ID_UNSAFE.sub("-", scene.stem).strip("-_") or "job"
    suffix = f"-{stamp}-{tail}"
    return stem[: 64 - len(suffix)] + suffix


@dataclass(frozen=True)
class JobRequest:
    """What the user asked for; everything else is derived."""

    scene: Path
    app: str
    frames: FrameRange
    chunk_size: int
    assets_container: str
    outputs_container: str
    output_format: str = "PNG"
    max_task_retries: int = 1
    render: RenderOptions = field(default_factory=RenderOptions)
    # The scene's saved render settings from its scan (AssetSet.settings), for the command lines.
    settings: SceneSettings | None = None


def node_ref(node: NodeBundleRef | None = None) -> NodeBundleRef:
    """``node``, or this client's own node bundle (what ``submit`` stages)."""
    if node is not None:
        return node
    from azrender.nodebundle.bundle import running_ref  # builds the wheel's hash once per process

    return running_ref()


def node_sync_command(job_id: str, node_os: str = "linux", node: NodeBundleRef | None = None) -> str:
    """The job preparation command: bring exactly this job's assets to the node.

    It runs inside the preparation task's shell, after the bootstrap
    (:mod:`azrender.nodebundle.bootstrap`) installed the bundle's Python.

    >>> ref = NodeBundleRef("b1", "0.1.0")
    >>> print(node_sync_command("j", node=ref))
    "$AZ_BATCH_NODE_SHARED_DIR/azrender/b1/venv/bin/python" -m azrender.node sync --job j
    >>> print(node_sync_command("j", "windows", ref))
    C:\\ProgramData\\azrender\\b1\\python\\python.exe -m azrender.node sync --job j
    """
    return f"{node_python(node_ref(node), node_os, in_shell=True)} -m azrender.node sync --job {job_id}"


def node_release_command(
    job_id: str, node_os: str = "linux", node: NodeBundleRef | None = None, *, in_shell: bool = False
) -> str:
    """The job release command: remove the job's files from the node (``in_shell``: inside a chain)."""
    return f"{node_python(node_ref(node), node_os, in_shell=in_shell)} -m azrender.node release --job {job_id}"


def watched(command_line: str, node_os: str = "linux", node: NodeBundleRef | None = None) -> str:
    """``command_line`` run under the node's watcher (:mod:`azrender.node.watch`).

    The watcher ends the renderer within seconds when it prints a known licence
    (exit 64) or missing plug-in (exit 65) failure, instead of letting it hang
    until the task's wall-clock limit; the renderer's own command line stays
    readable after ``--``, written exactly as it runs unwatched. The watcher is
    the node bundle's Python (:func:`azrender.nodebundle.bootstrap.node_python`).

    On Linux nodes the words after ``--`` are the renderer's argv (Batch splits
    the line as a shell would). On Windows nodes nothing splits it reliably
    (``cmd /c "x.exe -o:"a b""`` nests quotes the C runtime cannot undo), so
    the watcher starts the raw text after ``azrender.node run --`` from its own
    command line, unchanged (:func:`azrender.node.watch.popen_command`).

    >>> ref = NodeBundleRef("b1", "0.1.0")
    >>> print(watched("blender -b a.blend", node=ref))
    /bin/bash -c 'exec "$AZ_BATCH_NODE_SHARED_DIR/azrender/b1/venv/bin/python" "$@"' azrender-node -m azrender.node run -- blender -b a.blend
    >>> print(watched('cmd /c "x.exe -o:"a b""', "windows", ref))
    C:\\ProgramData\\azrender\\b1\\python\\python.exe -m azrender.node run -- cmd /c "x.exe -o:"a b""
    """
    return f"{node_python(node_ref(node), node_os)} -m azrender.node run -- {command_line}"


def shell_chain(commands: tuple[str, ...] | list[str], node_os: str = "linux") -> str:
    r"""One Batch command line that runs ``commands`` in order, stopping at the first failure.

    A single command is returned as it is (Batch runs it without a shell).

    >>> print(shell_chain(['mkdir -p "$D"', "python3 -m azrender.node sync --job j"]))
    /bin/bash -c 'mkdir -p "$D" && python3 -m azrender.node sync --job j'
    >>> print(shell_chain([r"net use S: \\a\s", "dir S:"], "windows"))
    cmd /c "net use S: \\a\s && dir S:"
    """
    if len(commands) == 1:
        return commands[0]
    joined = " && ".join(commands)
    return f'cmd /c "{joined}"' if node_os == "windows" else "/bin/bash -c " + bash_single_quote(joined)


def with_prefix(command_line: str, prefix: tuple[str, ...], node_os: str = "linux") -> str:
    r"""``command_line`` run after the ``prefix`` commands (e.g. ``net use S: ...`` per task).

    On Linux the original command line keeps its own quoting: it becomes the
    arguments that ``exec "$@"`` runs once the prefix succeeded.

    >>> print(with_prefix("blender -b 'a b.blend'", ("mount -a",)))
    /bin/bash -c 'mount -a && exec "$@"' azrender-task blender -b 'a b.blend'

    On Windows the prefix goes inside the line's own ``cmd /c "..."``: cmd.exe
    strips that pair of quotes and runs the rest as written, so the quoted
    paths after the prefix stay quoted. (Wrapping the whole line in a second
    ``cmd /c "..."`` would turn them inside out: an ``&`` in a path would end
    the command there.) The watcher in front, if any, stays in front.

    >>> print(with_prefix('python -m azrender.node run -- cmd /c "x.exe "a & b.max""', (r"net use S: \h\s",), "windows"))
    python -m azrender.node run -- cmd /c "net use S: \h\s && x.exe "a & b.max""
    >>> print(with_prefix("x.exe -v:5", (r"net use S: \h\s",), "windows"))
    cmd /c "net use S: \h\s && x.exe -v:5"
    """
    if not prefix:
        return command_line
    if node_os == "windows":
        chained = " && ".join(prefix) + " && "
        head, found, rest = command_line.partition(_CMD_C)
        if found and rest.endswith('"'):
            return head + _CMD_C + chained + rest
        return _CMD_C + chained + command_line + '"'
    chained = " && ".join((*prefix, 'exec "$@"'))
    return "/bin/bash -c " + bash_single_quote(chained) + " azrender-task " + command_line


_CMD_C = 'cmd /c "'


def preparation_task(
    job_id: str, plan: StoragePlan, environment: dict[str, str], node: NodeBundleRef | None = None
) -> TaskSpec:
    """The job preparation task: install the node bundle, mount (if the plan mounts per job),
    then bring the job's files.

    The bundle arrives as a resource file and installs into its own environment
    unless the node has it (:mod:`azrender.nodebundle.bootstrap`). With ``sync_tool =
    "azcopy"`` the job's folder arrives as Batch resource files too (the asset list
    among them) and azcopy fetches the assets; otherwise ``azrender.node sync``
    reads the manifest and fetches both.
    """
    from azrender.storage import azcopy
    from azrender.storage.manifest import job_prefix

    with_azcopy = plan.sync_tool == "azcopy"
    ref = node_ref(node)
    sync = azcopy.preparation_commands(job_id) if with_azcopy else (node_sync_command(job_id, plan.node_os, ref),)
    job_files = (ResourceFileSpec(job_prefix(job_id)),) if with_azcopy else ()
    return TaskSpec(
        task_id=PREPARATION_TASK_ID,
        command_line=shell_chain((*bootstrap_commands(ref, plan.node_os), *plan.job_commands, *sync), plan.node_os),
        environment=environment,
        display_name="install azrender and sync assets to the node" + (" (azcopy)" if with_azcopy else ""),
        resource_files=(bootstrap_resource(ref), *job_files),
    )


def build_job(
    request: JobRequest,
    adapter: AppAdapter,
    job_id: str,
    plan: StoragePlan | None = None,
    node: NodeBundleRef | None = None,
) -> JobSpec:
    """The full job: preparation, one task per frame chunk, release.

    ``plan`` (default: ``blob-copy`` on Linux) decides the node paths of the
    scene and its files, what the preparation task mounts before it syncs, and
    what runs before each task. The preparation task always syncs the job's own
    files (the remap script); the manifest lists assets only when the plan
    copies them to the node (``plan.node_sync``).

    Every task uploads its frames to ``<job id>/`` in the job's own outputs container
    (:func:`azrender.outputs.job_outputs_container`) and
    its ``stdout.txt``/``stderr.txt`` to ``<job id>/logs/<task id>/``, whether it
    succeeds or fails, so a failed frame can be diagnosed from the logs.
    """
    # Imported here: the adapters import this module for its names, and a scan must not load
    # the storage modules (with them the Azure SDK), issue 20.
    from azrender.outputs import job_outputs_container
    from azrender.storage import azcopy
    from azrender.storage.manifest import check_job_id
    from azrender.storage.modes import blob_copy_plan

    plan = plan or blob_copy_plan()
    check_job_id(job_id)  # it is written into every task's command line: Batch id characters only
    jobs_root, output_dir, sep = _NODE_DIRS[plan.node_os]
    node_scene = plan.pathmap.to_node(request.scene)
    ref = node_ref(node)
    remap_script = sep.join((jobs_root, job_id, REMAP_SCRIPT_NAME))
    node_env = {"AZRENDER_ASSETS_CONTAINER": request.assets_container}
    job = JobSpec(
        job_id=job_id,
        app=request.app,
        scene=request.scene,
        frames=request.frames,
        chunk_size=request.chunk_size,
        assets_container=request.assets_container,
        # A container of its own: the tasks' write SAS cannot reach another job's frames.
        outputs_container=job_outputs_container(request.outputs_container, job_id),
        node_scene=node_scene,
        output_format=request.output_format,
        render=request.render,
        preparation=preparation_task(job_id, plan, node_env, ref),
        # Every node command checks it runs the submitter's azrender (commonEnvironmentSettings).
        environment=version_environment(ref),
        release=TaskSpec(
            task_id=RELEASE_TASK_ID,
            # A job's own mount goes first, before its files are removed.
            command_line=shell_chain((*plan.release_commands, (
                azcopy.release_command(job_id) if plan.sync_tool == "azcopy"
                else node_release_command(job_id, plan.node_os, ref, in_shell=bool(plan.release_commands))
            )), plan.node_os),
            environment=node_env,
            display_name="remove the job's files from the node",
        ),
    )
    width = len(str(len(request.frames.chunks(request.chunk_size))))
    for index, chunk in enumerate(request.frames.chunks(request.chunk_size), start=1):
        task_id = f"frames-{index:0{max(width, 3)}d}"
        invocation = RenderInvocation(
            job=job,
            chunk=chunk,
            node_scene=node_scene,
            remap_script=remap_script,
            output_dir=output_dir,
            node_os=plan.node_os,
            settings=request.settings,
        )
        job.tasks.append(
            TaskSpec(
                task_id=task_id,
                command_line=with_prefix(watched(adapter.command_line(invocation), plan.node_os, ref),
                                         plan.task_prefix, plan.node_os),
                frames=chunk.frames,
                output_files=(
                    OutputFileSpec(
                        f"out/{adapter.output_pattern()}", f"{job_id}/frames",
                        UploadCondition.SUCCESS,
                    ),
                    OutputFileSpec("../stdout.txt", f"{job_id}/logs/{task_id}/stdout.txt"),
                    OutputFileSpec("../stderr.txt", f"{job_id}/logs/{task_id}/stderr.txt"),
                ),
                max_retries=request.max_task_retries,
                display_name=f"{request.app} frames {chunk.label()}",
            )
        )
    return job
