"""The render half of the application contract (:mod:`azrender.apps`): what an adapter is given to
render a chunk on a node, and the local installs it can render with.

Named by :mod:`azrender.apps` too (``from azrender.apps import RenderInvocation``);
a scan loads neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azrender.model import FrameChunk, JobSpec, SceneSettings
    from azrender.presets.vocabulary import NodeOS


@dataclass(frozen=True)
class RenderInvocation:
    """What a task needs to render one chunk on a node (all paths are node paths).

    ``node_os`` is the OS of the node that runs the task, from the job's
    :class:`~azrender.storage.modes.StoragePlan` (``build_job`` sets it). It
    decides the form of the command line: ``/bin/bash -c '...'`` with
    ``$AZ_BATCH_*`` on Linux, ``cmd /c "..."`` with ``%AZ_BATCH_*%`` on Windows.
    Adapters take it from here, never from the look of a path.

    ``settings`` are the scene's saved render settings as the adapter's
    :meth:`AppAdapter.scan <azrender.apps.AppAdapter.scan>` returned them (:attr:`AssetSet.settings
    <azrender.model.AssetSet.settings>`): what the command line defaults to
    (Maya's renderer, camera and layers; 3ds Max's size). None: not read.
    """

    job: JobSpec
    chunk: FrameChunk
    node_scene: str
    remap_script: str
    output_dir: str
    node_os: NodeOS = "linux"
    settings: SceneSettings | None = None


@dataclass(frozen=True)
class LocalInstall:
    """One install of the application the local node can render with, and the version it reported."""

    path: str
    version: str  # "5.3.0"


@dataclass(frozen=True)
class LocalInstalls:
    """What the local node picks from for an application's jobs, by each scene's version.

    ``installs`` are newest first; when there are none, ``searched`` says where the
    adapter looked and ``fix`` what to do (both one line, for ``azrender doctor``).
    """

    program: str  # "Blender"
    installs: tuple[LocalInstall, ...]
    searched: str
    fix: str
