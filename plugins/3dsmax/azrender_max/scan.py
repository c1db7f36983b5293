"""Find every file a 3ds Max scene (``.max``) needs, without 3ds Max.

A ``.max`` file is an OLE compound file. Its asset metadata stream (see
:mod:`azrender_max.assetmeta`) lists every file the asset manager tracks:
bitmaps, xrefs, photometric (IES) files, proxies and caches, sounds, render
scripts. Its document summary (see :mod:`azrender_max.summary`) says which of
them the scene really depends on ("External Dependencies"), and the render
settings. A scene saved by 3ds Max 8, 9 or 2009 has no asset metadata: its
files come from that dependency list, with the full paths its ``Scene``
stream holds (see :mod:`azrender_max.scenestream`), and the scan carries a
one-line warning that the file is old.

Paths resolve as 3ds Max resolves them on a machine where the saved path does
not exist: the path as stored, then the file name in the scene's folder, then
in each user map path (``map_paths``, from the preset). A Windows path that
cannot be found here is reported missing exactly as the scene wrote it.
Files under a 3ds Max installation (``...\\Autodesk\\3ds Max 2019\\maps\\...``)
ship with 3ds Max on the node and are not scene dependencies; 3ds Max leaves
them out of its own dependency list too. IFL image lists are expanded to their
images; xref scenes are followed recursively, with cycle detection.

>>> scan_max(Path("shot.max")).assets[0].kind  # doctest: +SKIP
<AssetKind.SCENE: 'scene'>
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import olefile

from azrender.errors import SceneError
from azrender.model import Asset, AssetKind, AssetSet
from azrender.paths import is_windows_path
from azrender.scan import asset_at, assets_for, expand_vars, first_visit, has_tokens
from azrender.scan.inputs import note_folder
from azrender.scan.stages import follow_usd_layers
from azrender_max.assetmeta import (
    KNOWN_VERSIONS,
    AssetRecord,
    parse_asset_stream,
    stream_version,
)
from azrender_max.scenestream import SUMMARY_ID, decompressed, dependency_records
from azrender_max.summary import (
    PID_CODEPAGE,
    MaxSceneInfo,
    groups_from_properties,
    summary_from_groups,
)

APP = "max"
SUMMARY_STREAM = "\x05DocumentSummaryInformation"
SCENE_STREAM = "Scene"

# Asset type names (case-insensitive) -> kind; None means "an output, not an input".
TYPE_KINDS: dict[str, AssetKind | None] = {
    "bitmap": AssetKind.TEXTURE,
    "xref": AssetKind.REFERENCE,
    "container": AssetKind.REFERENCE,
    "photometric": AssetKind.OTHER,
    "animation": AssetKind.CACHE,
    "sound": AssetKind.AUDIO,
    "prerenderscript": AssetKind.SCRIPT,
    "postrenderscript": AssetKind.SCRIPT,
    "externallink": AssetKind.REFERENCE,
    "videopost": AssetKind.OTHER,
    "other": AssetKind.OTHER,
    "renderoutput": None,
    "batchrender": None,
}
# Type "Other" covers plug-in assets: proxies, caches, volumes. The extension says which.
EXTENSION_KINDS: dict[str, AssetKind] = {
    ".abc": AssetKind.CACHE,
    ".vrmesh": AssetKind.CACHE,
    ".rs": AssetKind.CACHE,
    ".pc2": AssetKind.CACHE,
    ".pc": AssetKind.CACHE,
    ".mdd": AssetKind.CACHE,
    ".xmesh": AssetKind.CACHE,
    ".usd": AssetKind.CACHE,
    ".usdc": AssetKind.CACHE,
    ".usda": AssetKind.CACHE,
    ".vdb": AssetKind.VOLUME,
    ".f3d": AssetKind.VOLUME,
    ".aur": AssetKind.VOLUME,
    ".max": AssetKind.REFERENCE,
    ".maxc": AssetKind.REFERENCE,
    ".ms": AssetKind.SCRIPT,
    ".mse": AssetKind.SCRIPT,
    ".py": AssetKind.SCRIPT,
    ".wav": AssetKind.AUDIO,
}
_SCENE_SUFFIXES = (".max", ".maxc")
# A folder of a 3ds Max installation: its bundled maps exist on every node with 3ds Max.
_MAX_INSTALL = re.compile(r"[\\/]Autodesk[\\/]3ds Max [0-9]{4}[^\\/]*[\\/]", re.IGNORECASE)
# An IFL line: an image name, optionally followed by how many frames it holds.
_IFL_LINE = re.compile(r"^\s*(?P<name>.+?)(?:\s+(?P<count>[0-9]+))?\s*$")
_IFL_MAX_LINES = 100_000
_DEPENDENCIES = "External Dependencies"


@dataclass
class MaxScene:
    """What a scanner needs from one ``.max`` file."""

    version: int
    records: list[AssetRecord] = field(default_factory=list)
    info: MaxSceneInfo = field(default_factory=MaxSceneInfo)
    # Saved by 3ds Max 2009 or older: records come from the summary's dependency list.
    old: bool = False


def read_max_scene(path: Path) -> MaxScene:
    """Open ``path`` and read its asset records and summary, or raise one-line :class:`SceneError`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SceneError(
            f"{path}: cannot read the 3ds Max scene: {exc.strerror or exc}",
            hint="check the path and permissions",
        ) from None
    if size == 0:
        raise SceneError(
            f"{path}: the file is empty (0 bytes)", hint="save the scene again from 3ds Max"
        )
    try:
        if not olefile.isOleFile(str(path)):
            raise SceneError(
                f"{path}: not a 3ds Max scene (not an OLE compound file)",
                hint="check that this is the .max file 3ds Max saved",
            )
        ole = olefile.OleFileIO(str(path))
    except SceneError:
        raise
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise SceneError(
            f"{path}: corrupt or truncated 3ds Max scene: {exc}",
            hint="save the scene again from 3ds Max",
        ) from None
    with ole:
        return _read_streams(path, ole)


def _read_streams(path: Path, ole: olefile.OleFileIO[str]) -> MaxScene:
    names = ["/".join(e) for e in ole.listdir(streams=True, storages=False)]
    versions = sorted(v for v in (stream_version(n) for n in names) if v is not None)
    known = [v for v in versions if v in KNOWN_VERSIONS]
    if not known:
        if versions:
            raise SceneError(
                f"{path}: saved by a newer 3ds Max (asset metadata version {versions[-1]}), "
                "which this azrender cannot read",
                hint="upgrade azrender, or save the scene for an older 3ds Max version",
            )
        if SCENE_STREAM in names:
            return _read_old_scene(path, ole, names)
        raise SceneError(
            f"{path}: not a 3ds Max scene (an OLE file without a Scene stream)",
            hint="check that this is the .max file 3ds Max saved",
        )
    version = known[-1]
    try:
        data = ole.openstream(f"FileAssetMetaData{version}").read()
        records = parse_asset_stream(data, version)
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise SceneError(
            f"{path}: corrupt or truncated 3ds Max scene (asset metadata): {exc}",
            hint="save the scene again from 3ds Max",
        ) from None
    return MaxScene(version=version, records=records, info=_read_summary(ole, names))


def _read_summary(ole: olefile.OleFileIO[str], names: list[str]) -> MaxSceneInfo:
    return _summary_and_codepage(ole, names)[0]


def _summary_and_codepage(
    ole: olefile.OleFileIO[str], names: list[str]
) -> tuple[MaxSceneInfo, int | None]:
    if SUMMARY_STREAM not in names:
        return MaxSceneInfo(), None
    try:
        props = ole.getproperties(SUMMARY_STREAM)
    except (OSError, ValueError, struct.error, IndexError, UnicodeDecodeError):
        # The summary is informative; a damaged one must not hide the assets.
        return MaxSceneInfo(), None
    value = props.get(PID_CODEPAGE)
    codepage = value if isinstance(value, int) else None
    return summary_from_groups(groups_from_properties(props, codepage)), codepage


def _read_old_scene(path: Path, ole: olefile.OleFileIO[str], names: list[str]) -> MaxScene:
    """A 3ds Max 8/9/2009 scene: its summary names the files, its Scene stream the full paths.

    The "External Dependencies" group is the list 3ds Max itself wrote of the
    files the scene needs (the same list newer files carry beside their asset
    metadata); each name becomes one record, with every full path the
    ``Scene`` stream holds for it (see :mod:`azrender_max.scenestream`), or
    the bare name, which then resolves like a moved file: scene folder, map paths.
    """
    info, codepage = _summary_and_codepage(ole, names)
    if _DEPENDENCIES not in info.groups:
        raise SceneError(
            f"{path}: saved by 3ds Max 2009 or older (no asset metadata stream), and its "
            "summary has no External Dependencies list to read the files from",
            hint="open and save the scene in a current 3ds Max",
        )
    try:
        stream = decompressed(ole.openstream(SCENE_STREAM).read())
    except OSError:
        stream = None
    encoding = f"cp{codepage}" if codepage and codepage not in (65001, -535, 1200) else "cp1252"
    records = dependency_records(info.external_dependencies, stream, encoding=encoding)
    return MaxScene(version=0, records=records, info=info, old=True)


def is_bundled(path: str) -> bool:
    """True for a file inside a 3ds Max installation (e.g. ``maps\\uvwunwrap\\UV_Checker.png``).

    >>> is_bundled(r"C:\\Program Files\\Autodesk\\3ds Max 2019\\maps\\uvwunwrap\\UV_Checker.png")
    True
    >>> is_bundled(r"D:\\show\\Autodesk\\tex.png")
    False
    """
    return bool(_MAX_INSTALL.search(path))


def kind_of(record: AssetRecord) -> AssetKind | None:
    """The kind of one record: by asset type, and by extension for plug-in (``Other``) assets."""
    type_kind = TYPE_KINDS.get(record.type.replace(" ", "").lower(), AssetKind.OTHER)
    if type_kind is None:
        return None
    if type_kind is AssetKind.OTHER:
        suffix = PureWindowsPath(record.path).suffix.lower()
        return EXTENSION_KINDS.get(suffix, AssetKind.OTHER)
    return type_kind


def _file_name(written: str) -> str:
    return (
        PureWindowsPath(written).name
        if is_windows_path(written) or "\\" in written
        else Path(written).name
    )


@dataclass(frozen=True)
class ScanContext:
    """Where one scene file's relative paths resolve: its folder, the map paths, the environment."""

    scene_dir: Path
    map_paths: tuple[Path, ...]
    env: Mapping[str, str] | None
    label: str


def resolve_record(record: AssetRecord, kind: AssetKind, ctx: ScanContext) -> list[Asset]:
    """The files one record stands for, resolved as 3ds Max does; missing ones kept."""
    referrer = _referrer(record, ctx.label)
    written = expand_vars(record.path.strip(), ctx.env).text
    if not written:
        return []
    if not is_windows_path(written):
        # POSIX absolute, or relative to the scene / map paths: the shared resolver knows.
        found = assets_for(
            written,
            kind,
            referrer,
            scene_dir=ctx.scene_dir,
            search_roots=ctx.map_paths,
            env=ctx.env,
        )
        if any(a.exists for a in found):
            return found
    # Not found where written: 3ds Max looks for the file name in the scene folder, then map paths.
    for name in dict.fromkeys(n for n in (_file_name(written), _file_name(record.resolved)) if n):
        for folder in (ctx.scene_dir, *ctx.map_paths):
            candidate = folder / name
            if (
                has_tokens(name)
                and any(
                    a.exists for a in assets_for(str(candidate), kind, referrer, scene_dir=folder)
                )
            ) or candidate.is_file():
                return assets_for(str(candidate), kind, referrer, scene_dir=folder)
            note_folder(folder)  # a file made here later is found before the one found further on
    return (
        [asset_at(written, kind, referrer)]
        if is_windows_path(written)
        else assets_for(
            written,
            kind,
            referrer,
            scene_dir=ctx.scene_dir,
            search_roots=ctx.map_paths,
            env=ctx.env,
        )
    )


def _referrer(record: AssetRecord, label: str) -> str:
    if record.asset_id == SUMMARY_ID:
        return f"{label}{_DEPENDENCIES} ({record.type})"
    return f"{label}{record.type} {{{record.asset_id}}}"


def ifl_images(ifl: Path, referrer: str) -> list[Asset]:
    """The images an IFL (image file list) names, one per line, relative to the IFL's folder.

    Lines starting with ``;`` are comments; a trailing number is a frame count.
    """
    try:
        text = ifl.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[Asset] = []
    for line in text.splitlines()[:_IFL_MAX_LINES]:
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        m = _IFL_LINE.match(line)
        if m:
            found.extend(
                assets_for(
                    m.group("name"), AssetKind.TEXTURE, referrer + " (IFL)", scene_dir=ifl.parent
                )
            )
    return found


def record_is_used(record: AssetRecord, info: MaxSceneInfo) -> bool:
    """Whether the scene depends on ``record`` per 3ds Max's own dependency list.

    The asset manager also tracks files nothing in the scene uses any more
    (an unassigned material's bitmap); the summary's "External Dependencies"
    leaves those out. Without that list every record counts. Xrefs always
    count: skipping one would hide everything it needs.
    """
    if _DEPENDENCIES not in info.groups:
        return True
    if TYPE_KINDS.get(record.type.replace(" ", "").lower()) is AssetKind.REFERENCE:
        return True
    listed = {d.casefold() for d in info.external_dependencies}
    return any(
        n.casefold() in listed for n in (_file_name(record.path), _file_name(record.resolved)) if n
    )


def scan_max(
    scene: Path,
    *,
    map_paths: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
    parsed: MaxScene | None = None,
) -> AssetSet:
    """Every file ``scene`` needs, xrefs followed recursively; missing files kept.

    Raises :class:`SceneError` (one line naming the file) when the top scene
    or an existing xref scene cannot be read. ``parsed`` is the top scene as
    :func:`read_max_scene` read it, where the caller has read it already.
    """
    top = scene.absolute()
    result = AssetSet(scene=top, app=APP)
    result.add(Asset.from_disk(top, AssetKind.SCENE))
    roots = tuple(Path(p).absolute() for p in map_paths)
    scan_file(top, roots, env, result, set(), label="", parsed=parsed)
    # A USD stage object (or any .usd asset) brings its layers and textures.
    follow_usd_layers(result, env=env)
    return result


def scan_file(
    path: Path,
    map_paths: tuple[Path, ...],
    env: Mapping[str, str] | None,
    result: AssetSet,
    visited: set[Path],
    label: str,
    parsed: MaxScene | None = None,
) -> None:
    """Add ``path``'s dependencies to ``result``, and those of the scenes it references (XRefs)."""
    if not first_visit(visited, path):
        return
    max_scene = parsed if parsed is not None else read_max_scene(path)
    if max_scene.old:
        result.warnings.append(
            f"{path}: saved by 3ds Max 2009 or older (no asset metadata): its files were read from "
            "the scene's External Dependencies list; open and save it in a current 3ds Max to be sure"
        )
    ctx = ScanContext(scene_dir=path.parent, map_paths=map_paths, env=env, label=label)
    for record in max_scene.records:
        kind = kind_of(record)
        if kind is None or is_bundled(record.path) or not record_is_used(record, max_scene.info):
            continue
        assets = resolve_record(record, kind, ctx)
        result.extend(assets)
        for asset in assets:
            suffix = asset.path.suffix.lower()
            if asset.exists and suffix == ".ifl":
                result.extend(ifl_images(asset.path, _referrer(record, ctx.label)))
            if asset.exists and kind is AssetKind.REFERENCE and suffix in _SCENE_SUFFIXES:
                scan_file(
                    asset.path, map_paths, env, result, visited, label=f"{asset.path.name}: "
                )


def scene_info(scene: Path) -> MaxSceneInfo:
    """The render settings and versions the scene's summary carries."""
    return read_max_scene(scene.absolute()).info
