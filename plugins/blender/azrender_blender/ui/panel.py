"""The "Render on Azure" panel in Render Properties, and its two lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy

from azrender.errors import AzrenderError

from .presets import MISSING_PRESET
from .props import effective_engine, scene_frames
from .runtime import PRESETS
from .text import label_lines, short_job_id

_STATE_ICONS = {
    "queued": "TIME",
    "uploading": "EXPORT",
    "running": "RENDER_ANIMATION",
    "downloading": "IMPORT",
    "done": "CHECKMARK",
    "failed": "ERROR",
    "cancelled": "CANCEL",
}


def wrapped_label(layout: Any, context: Any, text: str, icon: str = "NONE") -> None:
    """``text`` over as many label lines as the panel's width needs, the icon on the first."""
    region = getattr(context, "region", None)
    width = region.width if region is not None else 300
    column = layout.column(align=True)
    # system.ui_scale is the drawn scale (DPI included); it reads 0 where nothing is drawn.
    prefs = context.preferences
    scale = prefs.system.ui_scale or prefs.view.ui_scale
    for n, line in enumerate(label_lines(text, width, scale)):
        column.label(text=line, icon=icon if n == 0 else "BLANK1")


class AZRENDER_UL_missing(bpy.types.UIList):
    def draw_item(self, context: Any, layout: Any, data: Any, item: Any, icon: Any,
                  active_data: Any, active_propname: str, index: int = 0) -> None:
        row = layout.row(align=True)
        row.label(text=Path(item.path).name, icon="ERROR")
        row.label(text=item.referrer)


class AZRENDER_UL_jobs(bpy.types.UIList):
    def draw_item(self, context: Any, layout: Any, data: Any, item: Any, icon: Any,
                  active_data: Any, active_propname: str, index: int = 0) -> None:
        row = layout.row(align=True)
        # The whole id is under the list for the selected job; a row fits the default width.
        row.label(text=short_job_id(item.job_id) if item.job_id else "(submitting)",
                  icon=_STATE_ICONS.get(item.state, "QUESTION"))
        row.label(text=item.state)
        # A bar with its percentage (UILayout.progress, Blender 4.0+), not the raw 0-1 factor.
        row.progress(factor=item.progress, type="BAR", text=f"{item.progress * 100:.0f}%")


class AZRENDER_PT_render_on_azure(bpy.types.Panel):
    bl_label = "Render on Azure"
    bl_idname = "AZRENDER_PT_render_on_azure"
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "render"

    def draw(self, context: Any) -> None:
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        settings = context.scene.azrender

        row = layout.row(align=True)
        row.prop(settings, "preset")
        row.operator("azrender.refresh_presets", text="", icon="FILE_REFRESH")
        self._draw_preset(layout, settings)

        layout.prop(settings, "use_scene_frames")
        if settings.use_scene_frames:
            layout.label(text=f"Frames {scene_frames(context.scene)}")
        else:
            layout.prop(settings, "frames")
        layout.prop(settings, "chunk")
        layout.prop(settings, "engine")
        if effective_engine(context.scene) == "CYCLES":
            layout.prop(settings, "device")
        layout.prop(settings, "backend")
        layout.prop(settings, "output_dir")

        layout.operator("azrender.check_dependencies", icon="VIEWZOOM")
        if settings.checked:
            layout.label(text=settings.check_summary, icon="ERROR" if settings.missing else "CHECKMARK")
            if settings.missing:
                layout.template_list("AZRENDER_UL_missing", "", settings, "missing", settings,
                                     "missing_index", rows=3)
        layout.operator("azrender.submit", icon="RENDER_ANIMATION")

        layout.label(text="Jobs")
        layout.template_list("AZRENDER_UL_jobs", "", settings, "jobs", settings, "job_index", rows=3)
        if 0 <= settings.job_index < len(settings.jobs):
            job = settings.jobs[settings.job_index]
            if job.job_id:
                wrapped_label(layout, context, f"Job {job.job_id}", icon="INFO")
            if job.error:
                wrapped_label(layout, context, job.error, icon="ERROR")
            elif job.message:
                wrapped_label(layout, context, job.message)
        row = layout.row(align=True)
        row.operator("azrender.cancel", icon="CANCEL")
        row.operator("azrender.retry", icon="FILE_REFRESH")
        row = layout.row(align=True)
        row.operator("azrender.download", icon="IMPORT")
        row.operator("azrender.open_output", icon="FILE_FOLDER")

    @staticmethod
    def _draw_preset(layout: Any, settings: Any) -> None:
        if settings.preset == MISSING_PRESET:
            layout.label(text="The chosen preset is gone:", icon="ERROR")
            layout.label(text=str(settings.preset_file))
            return
        if not settings.preset_file:
            layout.label(text="Choose the show's preset", icon="INFO")
            layout.label(text="(preset folders: add-on preferences)")
            return
        try:
            preset = PRESETS.load(Path(settings.preset_file))
        except AzrenderError as exc:
            layout.label(text=str(exc), icon="ERROR")
            return
        box = layout.box()
        box.label(text=f"Storage: {preset.storage.mode}, assets in '{preset.storage.assets_container}'")
        box.label(text=f"Backend: {preset.backend.kind}, chunk {preset.render.chunk}, "
                       f"format {preset.render.format}")


CLASSES = (AZRENDER_UL_missing, AZRENDER_UL_jobs, AZRENDER_PT_render_on_azure)
