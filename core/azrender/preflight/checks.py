"""The pre-flight checks: pure functions from what submit already knows to findings.

Nothing here uploads or calls Azure. Each check takes the scan
(:class:`~azrender.model.AssetSet`), the storage plan, the preset (or only the
table of it the check reads) and the planned :class:`~azrender.model.JobSpec`,
and returns findings; :func:`run_checks` runs them all and applies the preset's
``[preflight]`` table::

    report = run_checks(PreflightInput(assets, plan, preset, job, on_azure=True))
    for f in report.findings:
        print(f.severity, f.code, f.message)

The checks of the scene's files are :mod:`azrender.preflight.files`.
Only :func:`check_output_dir` looks at the disk (is the artist's output
folder writable?); it is given the folder explicitly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from azrender.errors import PresetError
from azrender.model import AssetSet, JobSpec
from azrender.preflight.files import (
    check_case_collisions,
    check_long_paths,
    check_mapping,
    check_missing,
    check_scan_warnings,
)
from azrender.preflight.findings import Finding, Report
from azrender.presets.model import (
    CONNECTION_STRING_ENV,
    BatchSettings,
    PoolSettings,
    PreflightSettings,
    Preset,
)
from azrender.storage.account import connection_parts
from azrender.storage.modes import (
    TEMP_DISK_BUDGET,
    TEMP_DISK_GIB,
    StoragePlan,
    check_fits_temp_disk,
)

#: Azure Files scale target: at most 2,000 concurrent handles on one file or
#: directory (docs: "Azure Files scalability and performance targets"). Every
#: task opens the scene file, so more parallel readers than this fail to open it.
AZURE_FILES_MAX_HANDLES_PER_FILE = 2000

#: Above this share of the temp-disk budget, a blobfuse file cache (only what a
#: frame reads is fetched) serves better than copying every asset to each node.
BLOBFUSE_NOTE_SHARE = 0.5



@dataclass(frozen=True)
class SceneFacts:
    """What the app adapter knows of the scene's saved settings (Maya today)."""

    first_frame: int | None = None
    last_frame: int | None = None
    renderer: str | None = None
    #: The node operating systems the scene's application renders on (None: not said).
    node_systems: tuple[str, ...] | None = None
    #: Renderer names the application has without plug-ins (empty: it cannot tell).
    builtin_renderers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreflightInput:
    """Everything the checks read; built by submit before anything is uploaded."""

    assets: AssetSet
    plan: StoragePlan
    preset: Preset
    job: JobSpec
    on_azure: bool = False
    scene: SceneFacts = field(default_factory=SceneFacts)
    output_dir: Path | None = None
    environ: Mapping[str, str] | None = None
    # Local backend: versions ("5.3.0") of the application's installs this machine picks from,
    # newest first (None: the adapter does not pick).
    local_versions: tuple[str, ...] | None = None
    # Local backend: the application's render program when this machine does not have it.
    local_program_missing: str | None = None


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[\s,]+", text) if w}


# --- capacity ---------------------------------------------------------------------------


def check_temp_disk(assets: AssetSet, plan: StoragePlan, pool: PoolSettings, on_azure: bool) -> list[Finding]:
    """``blob-copy`` on Azure: assets must fit the VM's temporary disk (and a note on blobfuse)."""
    if not (plan.node_sync and on_azure):
        return []
    out = []
    try:
        check_fits_temp_disk(assets.total_bytes, pool.vm_size)
    except PresetError as exc:
        out.append(Finding("assets-exceed-temp-disk", "error", exc.message, None, "", exc.hint or ""))
    gib = TEMP_DISK_GIB.get(pool.vm_size.lower())
    if gib and assets.total_bytes > gib * (1 << 30) * TEMP_DISK_BUDGET * BLOBFUSE_NOTE_SHARE:
        out.append(Finding(
            "consider-blobfuse", "info",
            f"the assets ({assets.total_bytes / (1 << 30):.1f} GiB) fill much of {pool.vm_size}'s "
            f"{gib} GiB temporary disk on every node",
            None, "",
            'storage mode "blobfuse" with a file cache fetches only the files each frame reads',
        ))  # fmt: skip
    return out


def check_node_sync(plan: StoragePlan, batch: BatchSettings, on_azure: bool) -> list[Finding]:
    """``node_sync = "azcopy"`` on a pool azrender does not create: its nodes must bring azcopy."""
    if not (on_azure and plan.sync_tool == "azcopy" and batch.pool_mode == "existing"):
        return []
    return [Finding(
        "azcopy-on-existing-pool", "info",
        f"pool {batch.pool_id!r} is not created by azrender, so its start task does not install azcopy",
        None, "",
        "make sure azcopy is on the nodes' PATH (image or start task), or use storage.node_sync = \"azrender\"",
    )]  # fmt: skip


def check_azure_files(assets: AssetSet, preset: Preset) -> list[Finding]:
    """``azure-files``: the share's quota, and parallel readers against its scale targets."""
    if preset.storage.mode != "azure-files":
        return []
    out = []
    quota = preset.preflight.share_quota_gib
    if quota and assets.total_bytes > quota * (1 << 30):
        out.append(Finding(
            "share-quota", "error",
            f"the assets ({assets.total_bytes / (1 << 30):.1f} GiB) do not fit share "
            f"{preset.azure_files.share!r}'s {quota} GiB quota",
            None, "", "raise the share's quota, or set preflight.share_quota_gib to its real size",
        ))  # fmt: skip
    pool = preset.pool
    if pool.autoscale_formula is None:
        readers = (pool.dedicated + pool.spot) * pool.task_slots
        if readers > AZURE_FILES_MAX_HANDLES_PER_FILE:
            out.append(Finding(
                "share-readers", "warning",
                f"{readers} tasks at once ({pool.dedicated + pool.spot} nodes x {pool.task_slots} slots) "
                f"open the scene on share {preset.azure_files.share!r}; Azure Files allows "
                f"{AZURE_FILES_MAX_HANDLES_PER_FILE} handles per file",
                None, "", 'use fewer nodes or slots, or storage mode "blob-copy"',
            ))  # fmt: skip
    return out


# --- render settings ------------------------------------------------------------------


def check_renderer(preflight: PreflightSettings, job: JobSpec, scene: SceneFacts) -> list[Finding]:
    """A renderer the pool's image does not declare (``preflight.image_renderers``)."""
    declared = _words(preflight.image_renderers)
    renderer = job.render.renderer or scene.renderer
    if not declared or not renderer or renderer.casefold() in {d.casefold() for d in declared}:
        return []
    return [Finding(
        "renderer-not-on-image", "warning",
        f"renderer {renderer!r} is not among those the pool's image has ({', '.join(sorted(declared))})",
        None, "", "render with one of those, or add the renderer to the image and to preflight.image_renderers",
    )]  # fmt: skip


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.strip().split(".")[:2])


def check_blender_version(inp: PreflightInput) -> list[Finding]:
    """A scene saved by a newer Blender than the pool's (``pool.blender_version``) or every local one."""
    scene_version = inp.job.app_version
    if inp.job.app != "blender" or not scene_version:
        return []
    if inp.on_azure:
        pool = inp.preset.pool.blender_version
        if not pool or _version_key(pool) >= _version_key(scene_version):
            return []
        what = f"the pool provides Blender {pool}"
        fix = "install a Blender as new as the scene on the image (and set pool.blender_version), or save the scene with the pool's"
    else:
        local = inp.local_versions
        if not local or any(_version_key(v) >= _version_key(scene_version) for v in local):
            return []
        what = f"the newest Blender on the local node is {local[0]}"
        fix = "install a newer Blender and list it in AZRENDER_LOCAL_BLENDERS, or save the scene with the local one"
    return [Finding(
        "blender-older-than-scene", "warning",
        f"{inp.job.scene.name} was saved by Blender {scene_version} and {what}; an older Blender "
        "may lose data it does not know", None, "", fix,
    )]  # fmt: skip


def check_node_os(job: JobSpec, plan: StoragePlan, scene: SceneFacts, on_azure: bool) -> list[Finding]:
    """An application that does not exist for the nodes' operating system cannot render there."""
    if scene.node_systems is None or plan.node_os in scene.node_systems:
        return []
    nodes = f"the pool's nodes run {plan.node_os}" if on_azure else "the local node emulates a Linux Batch node"
    fix = (f'use a pool with `os = "{scene.node_systems[0]}"` under [pool]' if on_azure
           else f'render it on Azure with `[pool] os = "{scene.node_systems[0]}"` (backend "azure")')
    return [Finding(
        "app-not-on-node-os", "error",
        f"{job.app} renders on {' or '.join(scene.node_systems)} nodes only, and {nodes}", None, "", fix,
    )]  # fmt: skip


def _name_key(name: str) -> str:
    """Renderer names as artists type them: case, spaces and dashes do not matter."""
    return name.strip().casefold().replace("-", "_").replace(" ", "_")


def check_local_node(inp: PreflightInput) -> list[Finding]:
    """What the local node cannot run, said before upload instead of as every task's exit 127."""
    if inp.on_azure:
        return []
    app, found = inp.job.app, []
    if inp.local_program_missing:
        found.append(Finding(
            "renderer-not-on-local-node", "error",
            f"{app}'s {inp.local_program_missing} is not on this machine, so the local node cannot "
            f"render {app} scenes", None, "",
            f"install {app} here with {inp.local_program_missing} on PATH, or render on Azure "
            "(--backend azure)",
        ))  # fmt: skip
    renderer, known = inp.job.render.renderer, inp.scene.builtin_renderers
    if renderer and known and _name_key(renderer) not in {_name_key(k) for k in known}:
        found.append(Finding(
            "renderer-unknown-on-local-node", "error",
            f"renderer {renderer!r} is not one {app} has of its own ({', '.join(known)})", None, "",
            "use one of those, or ignore this code under [preflight] "
            "when a local add-on provides it",
        ))  # fmt: skip
    return found


def check_frames(job: JobSpec, scene: SceneFacts) -> list[Finding]:
    """Frames outside the scene's saved range, where the adapter knows it."""
    if scene.first_frame is None or scene.last_frame is None:
        return []
    lo, hi = sorted((scene.first_frame, scene.last_frame))
    outside = [f for f in job.frames if not lo <= f <= hi]
    if not outside:
        return []
    shown = ", ".join(map(str, outside[:5])) + (" ..." if len(outside) > 5 else "")
    return [Finding(
        "frames-outside-scene", "warning",
        f"{len(outside)} frame(s) outside the scene's range {lo}-{hi}: {shown}", None, "",
        f"use --frames within {lo}-{hi}, or change the scene's frame range",
    )]  # fmt: skip


def check_outputs(job: JobSpec) -> list[Finding]:
    """Every render task must upload its frames to the job's folder of the outputs container."""
    prefix = f"{job.job_id}/frames"
    return [
        Finding(
            "output-not-collected", "error",
            f"task {t.task_id} uploads no frames to {job.outputs_container}/{prefix}", None, "",
            "the app adapter must give each task an output file spec for its frames",
        )
        for t in job.tasks
        if not any(o.destination.startswith(prefix) for o in t.output_files)
    ]  # fmt: skip


def check_output_dir(output_dir: Path | None) -> list[Finding]:
    """The artist's output folder (where frames come back) must be writable."""
    if output_dir is None:
        return []
    probe = output_dir.expanduser().absolute()
    for _ in range(len(probe.parts)):  # bounded: the nearest folder that exists decides
        if probe.exists():
            break
        probe = probe.parent
    if probe.is_dir() and os.access(probe, os.W_OK | os.X_OK):
        return []
    why = "is not a folder" if probe.exists() and not probe.is_dir() else "is not writable"
    return [Finding(
        "output-unwritable", "error", f"output folder {output_dir}: {probe} {why}", str(output_dir), "",
        "choose an output folder you can write to",
    )]  # fmt: skip


def check_credentials(preset: Preset, environ: Mapping[str, str] | None = None) -> list[Finding]:
    """Storage must be reachable with something: a connection string or ``account_url``.

    A connection string must name an account and a key or SAS (or the
    emulator's ``UseDevelopmentStorage=true``); its value never appears in the finding.
    """
    env = os.environ if environ is None else environ
    try:
        preset.require_account(env)
    except PresetError as exc:
        return [Finding("credentials", "error", exc.message, None, "", exc.hint or "")]
    conn = env.get(CONNECTION_STRING_ENV)
    if conn:
        parts = connection_parts(conn)
        dev = parts.get("usedevelopmentstorage", "").casefold() == "true"
        has_secret = "accountkey" in parts or "sharedaccesssignature" in parts
        has_endpoint = "accountname" in parts or "blobendpoint" in parts
        if not dev and not (has_secret and has_endpoint):
            return [Finding(
                "credentials", "error",
                f"{CONNECTION_STRING_ENV} has no account name/endpoint with a key or SAS",
                None, "", "copy the whole connection string from the storage account's Access keys page",
            )]  # fmt: skip
    return []


def check_pool(preset: Preset, on_azure: bool) -> list[Finding]:
    """Pool settings Batch or the network would refuse (:mod:`azrender.batch.limits`); a
    submit to Azure stops on them before it uploads, whatever ``--force`` says."""
    if not on_azure:
        return []
    from azrender.batch.limits import pool_problems

    return [Finding(p.code, "error", p.message, None, "", p.hint) for p in pool_problems(preset)]


def run_checks(inp: PreflightInput, *, strict: bool = False, promote: Iterable[str] = ()) -> Report:
    """All checks, then the preset's ``[preflight]`` table: ``ignore`` drops codes,
    ``errors`` (and ``promote``) make them errors; ``strict`` makes every warning an error."""
    findings = [
        *check_credentials(inp.preset, inp.environ),
        *check_missing(inp.assets),
        *check_scan_warnings(inp.assets),
        *check_mapping(inp.assets, inp.plan, inp.preset.paths),
        *check_long_paths(inp.assets, inp.plan, inp.job),
        *check_case_collisions(inp.assets),
        *check_temp_disk(inp.assets, inp.plan, inp.preset.pool, inp.on_azure),
        *check_node_sync(inp.plan, inp.preset.batch, inp.on_azure),
        *check_pool(inp.preset, inp.on_azure),
        *check_azure_files(inp.assets, inp.preset),
        *check_renderer(inp.preset.preflight, inp.job, inp.scene),
        *check_blender_version(inp),
        *check_node_os(inp.job, inp.plan, inp.scene, inp.on_azure),
        *check_local_node(inp),
        *check_frames(inp.job, inp.scene),
        *check_outputs(inp.job),
        *check_output_dir(inp.output_dir),
    ]
    settings = inp.preset.preflight
    report = Report(findings).without(_words(settings.ignore))
    return report.promote({*_words(settings.errors), *promote}, all_warnings=strict)
