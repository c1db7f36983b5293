"""The panel's buttons. Input is checked here, on the main thread; long work goes to a thread.

Every failure the artist can act on is one Blender report naming the thing
and what to do, and the operator is cancelled.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any, ClassVar

import bpy
from bpy.props import EnumProperty, StringProperty

from azrender.errors import AzrenderError, UsageError
from azrender.model import AssetSet, FrameRange
from azrender.presets import Preset

from . import flows
from .collect import collect_scene
from .presets import MISSING_PRESET
from .props import output_folder, preferences, render_options, scene_frames
from .runtime import PRESETS, WORK

SNAPSHOT_DIR = ".azrender-snapshots"


def chosen_preset(settings: Any) -> tuple[Path, Preset]:
    """The preset picked in the panel, loaded and validated."""
    value = str(settings.preset_file)
    if not value:
        raise UsageError(
            "no preset is chosen",
            hint="pick the show's preset in the panel; add its folder to the add-on preferences "
                 "(Preset search path) if it is not listed",
        )
    path = Path(value)
    if settings.preset == MISSING_PRESET:
        raise UsageError(
            f"the chosen preset {path} is no longer in the preset folders",
            hint="pick a preset again in the panel, or ask your TD where the show's preset went",
        )
    return path, PRESETS.load(path)


def scene_file_for_submit() -> Path:
    """The file to send: the scene itself when saved, else a snapshot copy beside it.

    The artist's file is never saved behind their back: unsaved edits go into a
    copy in ``<scene folder>/.azrender-snapshots/<time>/<scene name>``; Blender
    rewrites its relative paths for the new folder, and the copy keeps the
    scene's name so frames are named as usual.
    """
    if not bpy.data.filepath:
        raise UsageError("the scene has never been saved", hint="save it (File > Save) first")
    source = Path(bpy.data.filepath)
    if not bpy.data.is_dirty:
        return source
    stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    target = source.parent / SNAPSHOT_DIR / stamp / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(target), copy=True, relative_remap=True)
    return target


def fill_missing(settings: Any, assets: AssetSet) -> None:
    """Show the check's result in the panel: a summary line and every missing file."""
    settings.missing.clear()
    for asset in assets.missing:
        item = settings.missing.add()
        item.path = str(asset.path)
        item.kind = asset.kind.value
        item.referrer = asset.referrer
    megabytes = assets.total_bytes / 1e6
    packed = f", {assets.packed_count} packed" if assets.packed_count else ""
    settings.check_summary = (
        f"{len(assets.present)} files ({megabytes:.1f} MB), {len(assets.missing)} missing{packed}"
    )
    settings.checked = True


def _collect(operator: Any, settings: Any) -> AssetSet | None:
    try:
        assets = collect_scene()
    except ValueError:
        operator.report({"ERROR"}, "the scene has never been saved (save it with File > Save first)")
        return None
    fill_missing(settings, assets)
    return assets


class AZRENDER_OT_check_dependencies(bpy.types.Operator):
    """List every file the scene needs and show the missing ones"""

    bl_idname = "azrender.check_dependencies"
    bl_label = "Check Dependencies"
    bl_options: ClassVar[set[str]] = {"REGISTER"}

    def execute(self, context: Any) -> set[str]:
        settings = context.scene.azrender
        assets = _collect(self, settings)
        if assets is None:
            return {"CANCELLED"}
        level = "WARNING" if assets.missing else "INFO"
        self.report({level}, f"Render on Azure: {settings.check_summary}")
        return {"FINISHED"}


class AZRENDER_OT_submit(bpy.types.Operator):
    """Upload what changed, render on Azure and bring the frames back to the output folder"""

    bl_idname = "azrender.submit"
    bl_label = "Render on Azure"
    bl_options: ClassVar[set[str]] = {"REGISTER"}

    def execute(self, context: Any) -> set[str]:
        scene = context.scene
        settings = scene.azrender
        try:
            preset_path, preset = chosen_preset(settings)
            frames = FrameRange.parse(scene_frames(scene) if settings.use_scene_frames else settings.frames)
            backend = None if settings.backend == "PRESET" else settings.backend
            assets = _collect(self, settings)
            if assets is None:
                return {"CANCELLED"}
            scene_file = scene_file_for_submit()
            output = output_folder(scene)
        except AzrenderError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        prefs = preferences(context)
        hours = float(prefs.follow_hours) if prefs is not None else 24.0
        request = flows.SubmitRequest(
            scene=scene_file,
            preset=preset,
            frames=frames,
            chunk=settings.chunk or None,
            backend=backend,
            output_dir=output,
            render=render_options(scene),
            follow_seconds=hours * 3600.0,
        )
        key = secrets.token_hex(4)
        job = settings.jobs.add()
        job.key, job.state, job.preset = key, "queued", str(preset_path)
        job.backend = backend or preset.backend.kind
        job.output_root = str(output)
        job.message = f"{scene_file.name}, frames {frames.spec}"
        settings.job_index = len(settings.jobs) - 1
        WORK.start(key, lambda reporter: flows.submit_and_follow(request, reporter))
        if assets.missing:
            self.report({"WARNING"}, f"Render on Azure: submitting with {len(assets.missing)} missing files")
        else:
            self.report({"INFO"}, f"Render on Azure: submitting frames {frames.spec}")
        return {"FINISHED"}


def _selected_job(operator: Any, settings: Any) -> Any | None:
    if not 0 <= settings.job_index < len(settings.jobs):
        operator.report({"ERROR"}, "no job is selected in the job list")
        return None
    return settings.jobs[settings.job_index]


def _submitted_job(operator: Any, settings: Any, verb: str) -> Any | None:
    """The selected job when it was submitted, or None after reporting why there is nothing to ``verb``."""
    job = _selected_job(operator, settings)
    if job is not None and not job.job_id:
        operator.report({"ERROR"}, f"this job was never submitted; there is nothing to {verb}")
        return None
    return job


def _job_preset(operator: Any, job: Any) -> Preset | None:
    """The preset ``job`` was submitted with, or None after reporting why it cannot be loaded."""
    try:
        return PRESETS.load(Path(job.preset))
    except AzrenderError as exc:
        operator.report({"ERROR"}, str(exc))
        return None


class AZRENDER_OT_download(bpy.types.Operator):
    """Download the selected job's frames and logs (only files not already here)"""

    bl_idname = "azrender.download"
    bl_label = "Download Frames"

    def execute(self, context: Any) -> set[str]:
        job = _submitted_job(self, context.scene.azrender, "download")
        if job is None:
            return {"CANCELLED"}
        if WORK.running(job.key):
            self.report({"ERROR"}, f"job {job.job_id} is still being followed; its frames come by themselves")
            return {"CANCELLED"}
        preset = _job_preset(self, job)
        if preset is None:
            return {"CANCELLED"}
        job_id, root = job.job_id, Path(job.output_root or output_folder(context.scene))

        def run(reporter: Any) -> None:
            flows.download_job(preset, job_id, root, reporter)

        WORK.start(job.key, run)
        self.report({"INFO"}, f"Render on Azure: downloading {job_id}")
        return {"FINISHED"}


#: Job-list states after which nothing of the job runs any more.
ENDED = ("done", "failed", "cancelled")


class AZRENDER_OT_cancel(bpy.types.Operator):
    """Stop the selected job: its upload (nothing is submitted) or, once submitted, the job itself"""

    bl_idname = "azrender.cancel"
    bl_label = "Cancel"

    def execute(self, context: Any) -> set[str]:
        settings = context.scene.azrender
        job = _selected_job(self, settings)
        if job is None:
            return {"CANCELLED"}
        label = job.job_id or "being submitted"
        if job.state in ENDED:
            self.report({"ERROR"}, f"job {label} has ended ({job.state}); there is nothing to cancel")
            return {"CANCELLED"}
        if job.job_id and job.state == "running":
            preset = _job_preset(self, job)
            if preset is None:
                return {"CANCELLED"}
            job_id, backend = job.job_id, job.backend or None
            # Takes the place of the thread that follows the job (it stops at its next poll).
            WORK.start(job.key, lambda reporter: flows.cancel_job(preset, backend, job_id, reporter))
            self.report({"INFO"}, f"Render on Azure: cancelling job {job_id}")
            return {"FINISHED"}
        if WORK.cancel(job.key):
            # The upload stops at its next progress report and the job is not submitted.
            self.report({"INFO"}, f"Render on Azure: stopping ({job.state})")
            return {"FINISHED"}
        self.report({"ERROR"}, f"job {label} is not running here; there is nothing to cancel")
        return {"CANCELLED"}


class AZRENDER_OT_retry(bpy.types.Operator):
    """Render the selected job's failed tasks again, then bring their frames back"""

    bl_idname = "azrender.retry"
    bl_label = "Retry Failed"

    def execute(self, context: Any) -> set[str]:
        job = _submitted_job(self, context.scene.azrender, "retry")
        if job is None:
            return {"CANCELLED"}
        if WORK.running(job.key) or job.state not in ("failed", "cancelled"):
            self.report({"ERROR"}, f"job {job.job_id} has no failed tasks to retry ({job.state})")
            return {"CANCELLED"}
        preset = _job_preset(self, job)
        if preset is None:
            return {"CANCELLED"}
        prefs = preferences(context)
        request = flows.RetryRequest(
            preset=preset, backend=job.backend or None, job_id=job.job_id,
            output_dir=Path(job.output_root or output_folder(context.scene)),
            follow_seconds=(float(prefs.follow_hours) if prefs is not None else 24.0) * 3600.0,
        )
        job.state = "queued"
        WORK.start(job.key, lambda reporter: flows.retry_and_follow(request, reporter))
        self.report({"INFO"}, f"Render on Azure: retrying the failed tasks of {job.job_id}")
        return {"FINISHED"}


class AZRENDER_OT_open_output(bpy.types.Operator):
    """Open the selected job's folder, or the output folder, in the file browser"""

    bl_idname = "azrender.open_output"
    bl_label = "Open Output Folder"

    def execute(self, context: Any) -> set[str]:
        settings = context.scene.azrender
        folder = output_folder(context.scene)
        if 0 <= settings.job_index < len(settings.jobs) and settings.jobs[settings.job_index].output_dir:
            folder = Path(settings.jobs[settings.job_index].output_dir)
        if not folder.is_dir():
            self.report({"ERROR"}, f"{folder} does not exist yet (download the frames first)")
            return {"CANCELLED"}
        bpy.ops.wm.path_open(filepath=str(folder) + os.sep)
        return {"FINISHED"}


class AZRENDER_OT_refresh_presets(bpy.types.Operator):
    """Read the preset folders again"""

    bl_idname = "azrender.refresh_presets"
    bl_label = "Refresh Presets"

    def execute(self, context: Any) -> set[str]:
        PRESETS.clear()
        return {"FINISHED"}


class AZRENDER_OT_report(bpy.types.Operator):
    """Show a message from a background job as a Blender report"""

    bl_idname = "azrender.report"
    bl_label = "Render on Azure Report"
    bl_options: ClassVar[set[str]] = {"INTERNAL"}

    level: EnumProperty(  # type: ignore[valid-type]
        items=[("INFO", "Info", ""), ("WARNING", "Warning", ""), ("ERROR", "Error", "")],
        default="INFO",
    )
    message: StringProperty()  # type: ignore[valid-type]

    def execute(self, context: Any) -> set[str]:
        self.report({self.level}, self.message)
        return {"FINISHED"}


CLASSES = (
    AZRENDER_OT_check_dependencies,
    AZRENDER_OT_submit,
    AZRENDER_OT_download,
    AZRENDER_OT_cancel,
    AZRENDER_OT_retry,
    AZRENDER_OT_open_output,
    AZRENDER_OT_refresh_presets,
    AZRENDER_OT_report,
)
