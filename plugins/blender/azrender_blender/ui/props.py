"""The add-on's data: preferences (preset search path) and the per-scene panel state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from azrender.model import RenderOptions

from .presets import (
    MISSING_PRESET,
    NO_PRESET,
    EnumItem,
    chosen_number,
    find_presets,
    preset_choices,
    preset_dirs,
)

# The add-on's module name: ``azrender_blender`` as a legacy add-on,
# ``bl_ext.<repo>.azrender_blender`` as an installed extension.
ADDON_ID = __package__.rpartition(".")[0] if __package__ else "azrender_blender"

# Blender keeps only pointers to the strings a dynamic enum returns: they must
# stay referenced by Python, or the menu shows garbage.
_PRESET_ITEMS: list[EnumItem] = []

# "As saved in the scene" in the engine and device pickers: no override on the node.
SCENE_CHOICE = "SCENE"
# EEVEE's engine id: BLENDER_EEVEE_NEXT in Blender 4.2 to 4.5, BLENDER_EEVEE before and since 5.0.
# The farm renders with the artist's Blender version, so the id of this Blender is the one to send.
EEVEE_ID = "BLENDER_EEVEE_NEXT" if (4, 2) <= tuple(bpy.app.version[:2]) < (5, 0) else "BLENDER_EEVEE"
ENGINE_ITEMS = [
    (SCENE_CHOICE, "Scene's engine", "Render with the engine saved in the scene"),
    ("CYCLES", "Cycles", "Render with Cycles"),
    (EEVEE_ID, "EEVEE", "Render with EEVEE"),
    ("BLENDER_WORKBENCH", "Workbench", "Render with Workbench"),
]
# Cycles' --cycles-device values (azrender_blender.adapter.CYCLES_DEVICES).
DEVICE_ITEMS = [
    (SCENE_CHOICE, "Scene's device", "Render on the device saved in the scene's Cycles settings"),
    ("CPU", "CPU", "Render on the node's processors"),
    ("CUDA", "CUDA", "NVIDIA GPUs through CUDA"),
    ("OPTIX", "OptiX", "NVIDIA RTX GPUs through OptiX"),
    ("HIP", "HIP", "AMD GPUs"),
    ("ONEAPI", "oneAPI", "Intel GPUs"),
    ("METAL", "Metal", "Apple GPUs"),
]


class AzrenderPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    preset_path: StringProperty(  # type: ignore[valid-type]
        name="Preset search path",
        description="Folders holding the show presets (*.toml), separated by the system's "
        "path separator; AZRENDER_PRESET_PATH adds more",
        default="",
    )
    follow_hours: FloatProperty(  # type: ignore[valid-type]
        name="Follow jobs for (hours)",
        description="How long the panel follows a job and downloads its frames automatically",
        default=24.0,
        min=0.0,
        max=24.0 * 14,
    )

    def draw(self, context: Any) -> None:
        self.layout.prop(self, "preset_path")
        self.layout.prop(self, "follow_hours")


def preferences(context: Any = None) -> Any | None:
    """The add-on preferences, or None when the add-on was registered without being enabled."""
    ctx = context or bpy.context
    addon = ctx.preferences.addons.get(ADDON_ID)
    return addon.preferences if addon is not None else None


def search_path(context: Any = None) -> str:
    prefs = preferences(context)
    return str(prefs.preset_path) if prefs is not None else ""


def preset_items(settings: Any, context: Any) -> list[EnumItem]:
    """Enum items for the preset picker (see :func:`presets.preset_choices`)."""
    found = find_presets(preset_dirs(search_path(context)))
    # Blender keeps only pointers to these strings: the list must outlive the call.
    _PRESET_ITEMS[:] = preset_choices(found, str(settings.preset_file))
    return _PRESET_ITEMS


def _get_preset(settings: Any) -> int:
    return chosen_number(preset_items(settings, bpy.context), str(settings.preset_file))


def _set_preset(settings: Any, number: int) -> None:
    items = preset_items(settings, bpy.context)
    ident = next((i[0] for i in items if i[4] == number), NO_PRESET)
    if ident == NO_PRESET:
        settings.preset_file = ""
    elif ident != MISSING_PRESET:
        settings.preset_file = ident


class AZRENDER_PG_missing(bpy.types.PropertyGroup):
    """One missing file found by "Check dependencies"."""

    path: StringProperty(name="Path")  # type: ignore[valid-type]
    kind: StringProperty(name="Kind")  # type: ignore[valid-type]
    referrer: StringProperty(name="Used by")  # type: ignore[valid-type]


class AZRENDER_PG_job(bpy.types.PropertyGroup):
    """One job submitted from this scene."""

    key: StringProperty(name="Key")  # type: ignore[valid-type]
    job_id: StringProperty(name="Job")  # type: ignore[valid-type]
    state: StringProperty(name="State", default="queued")  # type: ignore[valid-type]
    progress: FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")  # type: ignore[valid-type]
    message: StringProperty(name="Message")  # type: ignore[valid-type]
    error: StringProperty(name="Error")  # type: ignore[valid-type]
    preset: StringProperty(name="Preset", subtype="FILE_PATH")  # type: ignore[valid-type]
    backend: StringProperty(name="Backend")  # type: ignore[valid-type]
    output_root: StringProperty(name="Output folder", subtype="DIR_PATH")  # type: ignore[valid-type]
    output_dir: StringProperty(name="Job folder", subtype="DIR_PATH")  # type: ignore[valid-type]


class AZRENDER_PG_settings(bpy.types.PropertyGroup):
    """What the artist picks in the panel (stored with the scene)."""

    # The choice is the preset's path; the picker below only shows it (see preset_choices).
    preset_file: StringProperty(  # type: ignore[valid-type]
        name="Preset file", subtype="FILE_PATH", default="",
        description="The chosen show preset (kept by its path, so new presets never change it)",
    )
    preset: EnumProperty(  # type: ignore[valid-type]
        name="Preset", description="The show preset: storage, backend and render defaults",
        items=preset_items, get=_get_preset, set=_set_preset,
    )
    use_scene_frames: BoolProperty(  # type: ignore[valid-type]
        name="Scene frame range", description="Render the scene's start, end and step", default=True,
    )
    frames: StringProperty(  # type: ignore[valid-type]
        name="Frames", description="Frames to render: 1-100, 1-100x5, 1,3,5-7", default="",
    )
    chunk: IntProperty(  # type: ignore[valid-type]
        name="Frames per task", description="0 uses the preset's chunk size", default=0, min=0,
    )
    backend: EnumProperty(  # type: ignore[valid-type]
        name="Run on",
        items=[
            ("PRESET", "Preset's backend", "Use the backend the preset names"),
            ("local", "This machine", "The local backend: an emulated Batch node here"),
            ("azure", "Azure Batch", "Azure Batch"),
        ],
        default="PRESET",
    )
    engine: EnumProperty(  # type: ignore[valid-type]
        name="Render engine", items=ENGINE_ITEMS, default=SCENE_CHOICE,
        description="The engine the farm renders with",
    )
    device: EnumProperty(  # type: ignore[valid-type]
        name="Cycles device", items=DEVICE_ITEMS, default=SCENE_CHOICE,
        description="The device Cycles renders on, on the node",
    )
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output folder",
        description="Where frames come back (empty: the folder of the scene's output path)",
        subtype="DIR_PATH", default="",
    )
    checked: BoolProperty(default=False)  # type: ignore[valid-type]
    check_summary: StringProperty(default="")  # type: ignore[valid-type]
    missing: CollectionProperty(type=AZRENDER_PG_missing)  # type: ignore[valid-type]
    missing_index: IntProperty(default=0)  # type: ignore[valid-type]
    jobs: CollectionProperty(type=AZRENDER_PG_job)  # type: ignore[valid-type]
    job_index: IntProperty(default=0)  # type: ignore[valid-type]


def scene_frames(scene: Any) -> str:
    """The scene's own range in farm syntax (``1-250``, ``1-250x2``)."""
    spec = f"{scene.frame_start}-{scene.frame_end}"
    return spec + (f"x{scene.frame_step}" if scene.frame_step > 1 else "")


def effective_engine(scene: Any) -> str:
    """The engine the farm renders ``scene`` with: the panel's override, else the scene's own."""
    engine = str(scene.azrender.engine)
    return str(scene.render.engine) if engine == SCENE_CHOICE else engine


def render_options(scene: Any) -> RenderOptions:
    """The panel's engine and Cycles device as ``submit_scene(render=...)`` takes them.

    The device is a Cycles setting: it is sent only when the farm renders with
    Cycles, which is also the only time the panel shows it.
    """
    settings = scene.azrender
    renderer = None if settings.engine == SCENE_CHOICE else str(settings.engine)
    cycles = effective_engine(scene) == "CYCLES"
    device = str(settings.device) if cycles and settings.device != SCENE_CHOICE else None
    return RenderOptions(renderer=renderer, device=device)


def output_folder(scene: Any) -> Path:
    """The panel's output folder, or the folder of the scene's render output path."""
    if scene.azrender.output_dir:
        return Path(bpy.path.abspath(scene.azrender.output_dir)).absolute()
    raw = bpy.path.abspath(scene.render.filepath)
    # "//render/shot_####" names files in //render; "/tmp/" is a folder itself.
    folder = raw if raw.endswith(("/", "\\")) else os.path.dirname(raw)
    return Path(folder or bpy.path.abspath("//")).absolute()


CLASSES = (
    AzrenderPreferences,
    AZRENDER_PG_missing,
    AZRENDER_PG_job,
    AZRENDER_PG_settings,
)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.azrender = PointerProperty(type=AZRENDER_PG_settings)


def unregister() -> None:
    del bpy.types.Scene.azrender
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
