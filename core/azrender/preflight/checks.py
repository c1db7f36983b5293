"""The pre-flight checks: pure functions from what submit already knows to findings.

Nothing here uploads or calls Azure. Each check takes the scan
(:class:`~azrender.model.AssetSet`), the storage plan, the preset and the
planned :class:`~azrender.model.JobSpec`, and returns findings; :func:`run_checks`
runs them all and applies the preset's ``[preflight]`` table::

    report = run_checks(PreflightInput(assets, plan, preset, job, on_azure=True))
    for f in report.findings:
        print(f.severity, f.code, f.message)

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
from azrender.paths import is_windows_path
from azrender.paths.rules import map_path
from azrender.preflight.findings import Finding, Report
from azrender.presets.model import CONNECTION_STRING_ENV, Preset
from azrender.storage.modes import (
    TEMP_DISK_BUDGET,
    TEMP_DISK_GIB,
    StoragePlan,
    check_fits_temp_disk,
)

#: Windows MAX_PATH is 260 characters *including* the terminating NUL, so a
#: usable path has at most 259 (docs: "Maximum Path Length Limitation",
#: learn.microsoft.com/windows/win32/fileio/maximum-file-path-limitation).
WINDOWS_MAX_PATH = 259

#: What Batch's folder variables expand to on a Windows node (docs: "Files and
#: directories in Azure Batch": AZ_BATCH_NODE_ROOT_DIR is D:\batch\tasks). The
#: task folder's job and task parts are filled from the job being checked.
WINDOWS_NODE_DIRS: dict[str, str] = {
    "AZ_BATCH_NODE_SHARED_DIR": "D:\\batch\\tasks\\shared",
    "AZ_BATCH_NODE_MOUNTS_DIR": "D:\\batch\\tasks\\fsmounts",
    "AZ_BATCH_NODE_ROOT_DIR": "D:\\batch\\tasks",
}

#: Azure Files scale target: at most 2,000 concurrent handles on one file or
#: directory (docs: "Azure Files scalability and performance targets"). Every
#: task opens the scene file, so more parallel readers than this fail to open it.
AZURE_FILES_MAX_HANDLES_PER_FILE = 2000

#: Above this share of the temp-disk budget, a blobfuse file cache (only what a
#: frame reads is fetched) serves better than copying every asset to each node.
BLOBFUSE_NOTE_SHARE = 0.5

_VAR = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%")


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
    # Local backend: versions ("5.3.0") of the Blenders this machine renders with, newest first.
    local_blenders: tuple[str, ...] | None = None
    # Local backend: the application's render program when this machine does not have it.
    local_program_missing: str | None = None


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[\s,]+", text) if w}


# --- files ---------------------------------------------------------------------------


def check_missing(assets: AssetSet) -> list[Finding]:
    """Every missing dependency, with the datablock or node that needs it."""
    return [
        Finding(
            "missing-file", "warning", f"missing: {a.path}", str(a.path), a.referrer,
            "fix the path in the scene or restore the file; it renders without it otherwise",
        )
        for a in assets.missing
    ]  # fmt: skip


def check_scan_warnings(assets: AssetSet) -> list[Finding]:
    """What the scan read but cannot vouch for (a missing reference whose own files are unknown...)."""
    return [Finding("scan-warning", "warning", line, None, "", "") for line in assets.warnings]


def check_mapping(assets: AssetSet, plan: StoragePlan, preset: Preset) -> list[Finding]:
    """Files the node cannot see (share modes), and files on drives/shares no rule maps.

    With a mirror (``blob-copy``, ``blobfuse``, ``azure-files``) every file is
    uploaded, so a Windows drive or UNC share that no ``[[paths]]`` rule covers
    is only a warning that the file travels instead of being read from the
    studio's share; without one (``nfs``, ``cifs``) the file is not on the node.
    """
    out: list[Finding] = []
    pairs = [(r.source, r.target) for r in preset.paths]
    for a in assets.present:
        text = str(a.path)
        if plan.pathmap.map(text) is None:
            out.append(Finding(
                "outside-mapped-roots", "warning",
                f"not below any mapped root, so not on the node: {text}", text, a.referrer,
                "move it below a shared root, or add a [[paths]] rule for its folder",
            ))  # fmt: skip
        elif pairs and is_windows_path(text) and map_path(text, pairs) is None:
            anchor = text[:2] if text[1:2] == ":" else "\\\\" + "\\".join(text.lstrip("\\").split("\\")[:2])
            out.append(Finding(
                "unmapped-drive", "warning",
                f"on {anchor}, which no [[paths]] rule maps; it is uploaded instead: {text}",
                text, a.referrer,
                f"add a [[paths]] rule for {anchor}, or move the file below a mapped root",
            ))  # fmt: skip
    return out


def windows_node_path(node_path: str, job_id: str = "job", task_id: str = "task") -> str:
    r"""A Windows node path with Batch's variables expanded as a node expands them.

    >>> windows_node_path(r"%AZ_BATCH_NODE_SHARED_DIR%\assets\P\a.png")
    'D:\\batch\\tasks\\shared\\assets\\P\\a.png'
    """
    dirs = dict(WINDOWS_NODE_DIRS)
    dirs["AZ_BATCH_TASK_WORKING_DIR"] = f"D:\\batch\\tasks\\workitems\\{job_id}\\job-1\\{task_id}\\wd"
    return _VAR.sub(lambda m: dirs.get(m.group(1), m.group(0)), node_path)


def check_long_paths(assets: AssetSet, plan: StoragePlan, job: JobSpec) -> list[Finding]:
    """Node paths longer than Windows allows (Windows nodes only)."""
    if plan.node_os != "windows":
        return []
    out = []
    for a in assets.assets:
        node = plan.pathmap.map(a.path)
        if node is None:
            continue
        full = windows_node_path(node, job.job_id)
        if len(full) > WINDOWS_MAX_PATH:
            out.append(Finding(
                "long-path", "warning",
                f"{len(full)} characters on the Windows node (at most {WINDOWS_MAX_PATH}): {full}",
                str(a.path), a.referrer,
                "shorten folder or file names, or map its root to a short node folder with [[paths]]",
            ))  # fmt: skip
    return out


def check_case_collisions(assets: AssetSet) -> list[Finding]:
    """Paths that differ only by case: one file on Windows and macOS, two on a Linux node."""
    groups: dict[str, list[str]] = {}
    for a in assets.assets:
        groups.setdefault(str(a.path).casefold(), []).append(str(a.path))
    referrers = {str(a.path): a.referrer for a in assets.assets}
    out = []
    for spellings in groups.values():
        if len(spellings) > 1:
            shown = ", ".join(spellings)
            out.append(Finding(
                "case-collision", "warning",
                f"{len(spellings)} paths differ only by case: {shown}", spellings[0],
                referrers[spellings[0]],
                "spell the path the same way everywhere in the scene (Linux nodes tell them apart)",
            ))  # fmt: skip
    return out


# --- capacity ---------------------------------------------------------------------------


def check_temp_disk(assets: AssetSet, plan: StoragePlan, preset: Preset, on_azure: bool) -> list[Finding]:
    """``blob-copy`` on Azure: assets must fit the VM's temporary disk (and a note on blobfuse)."""
    if not (plan.node_sync and on_azure):
        return []
    out = []
    try:
        check_fits_temp_disk(assets.total_bytes, preset.pool.vm_size)
    except PresetError as exc:
        out.append(Finding("assets-exceed-temp-disk", "error", exc.message, None, "", exc.hint or ""))
    gib = TEMP_DISK_GIB.get(preset.pool.vm_size.lower())
    if gib and assets.total_bytes > gib * (1 << 30) * TEMP_DISK_BUDGET * BLOBFUSE_NOTE_SHARE:
        out.append(Finding(
            "consider-blobfuse", "info",
            f"the assets ({assets.total_bytes / (1 << 30):.1f} GiB) fill much of {preset.pool.vm_size}'s "
            f"{gib} GiB temporary disk on every node",
            None, "",
            'storage mode "blobfuse" with a file cache fetches only the files each frame reads',
        ))  # fmt: skip
    return out


def check_node_sync(plan: StoragePlan, preset: Preset, on_azure: bool) -> list[Finding]:
    """``node_sync = "azcopy"`` on a pool azrender does not create: its nodes must bring azcopy."""
    if not (on_azure and plan.sync_tool == "azcopy" and preset.batch.pool_mode == "existing"):
        return []
    return [Finding(
        "azcopy-on-existing-pool", "info",
        f"pool {preset.batch.pool_id!r} is not created by azrender, so its start task does not install azcopy",
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


def check_renderer(preset: Preset, job: JobSpec, scene: SceneFacts) -> list[Finding]:
    """A renderer the pool's image does not declare (``preflight.image_renderers``)."""
    declared = _words(preset.preflight.image_renderers)
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
        local = inp.local_blenders
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
        parts = {k.strip().casefold(): v for k, _, v in (p.partition("=") for p in conn.split(";")) if k.strip()}
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
        *check_mapping(inp.assets, inp.plan, inp.preset),
        *check_long_paths(inp.assets, inp.plan, inp.job),
        *check_case_collisions(inp.assets),
        *check_temp_disk(inp.assets, inp.plan, inp.preset, inp.on_azure),
        *check_node_sync(inp.plan, inp.preset, inp.on_azure),
        *check_pool(inp.preset, inp.on_azure),
        *check_azure_files(inp.assets, inp.preset),
        *check_renderer(inp.preset, inp.job, inp.scene),
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
