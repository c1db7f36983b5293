"""Find every file a Maya scene (``.ma`` or ``.mb``) needs, without Maya.

Both formats are read into the same :class:`~azrender_maya.mel.MayaScene`
(nodes with their attribute values, references, plug-ins), and one table,
:data:`PATH_ATTRIBUTES`, says which node attributes name files and of what
kind, so ``.ma`` and ``.mb`` of the same scene give the same answer.

References (``file -r``) are followed recursively with cycle detection, each
once it resolves; a reference that stays missing is listed with the node that
refers to it and a warning says its own files are unknown. Paths resolve as
Maya resolves them (:mod:`azrender_maya.project`: exact, the project-relative
part after a ``//`` marker, the project's file rules, the scene's folder);
Windows paths that do not resolve are kept as written. The scene's
colour-management config (``defaultColorMgtGlobals.cfp``, what Maya's
``colorManagementPrefs -configFilePath`` sets) is a dependency, with the LUT
files it names beside it; Maya's own configs (``<MAYA_RESOURCES>/...``) are
named as coming with Maya and not uploaded.

>>> scan_maya(Path("shot.ma")).assets[0].kind  # doctest: +SKIP
<AssetKind.SCENE: 'scene'>
"""

from __future__ import annotations

import os
import posixpath
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from azrender.errors import SceneError
from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan import (
    asset_at,
    assets_for,
    first_visit,
    resolve_path,
    resolved_assets,
    tile_pattern,
)
from azrender.scan.pathmaker import PathMaker
from azrender.scan.stages import follow_usd_layers
from azrender_maya.colour import colour_config_assets
from azrender_maya.mayabinary import MayaBinaryError, parse_mb
from azrender_maya.mel import MayaNode, MayaScene, MelSyntaxError, parse_ma
from azrender_maya.project import MayaProject, maya_project, resolve_maya_path, split_project_marker
from azrender_maya.xgen import parse_xgen, referenced_paths

APP = "maya"


@dataclass(frozen=True)
class PathAttribute:
    """Node type, the names its file attribute is written under (short, long), and the kind."""

    node_type: str
    attrs: tuple[str, ...]
    kind: AssetKind


# (node type, attribute names as .ma/.mb write them, kind). ``file`` nodes get
# uvTilingMode / useFrameExtension handling; ``cacheFile`` joins path and name.
PATH_ATTRIBUTES: tuple[PathAttribute, ...] = (
    PathAttribute("file", ("ftn", "fileTextureName"), AssetKind.TEXTURE),
    PathAttribute("imagePlane", ("imn", "imageName"), AssetKind.TEXTURE),
    PathAttribute("aiImage", ("filename",), AssetKind.TEXTURE),
    PathAttribute("aiStandIn", ("dso",), AssetKind.CACHE),
    PathAttribute("aiVolume", ("filename",), AssetKind.VOLUME),
    PathAttribute("AlembicNode", ("fn", "abc_File"), AssetKind.CACHE),
    PathAttribute("gpuCache", ("cfn", "cacheFileName"), AssetKind.CACHE),
    PathAttribute("audio", ("f", "filename"), AssetKind.AUDIO),
    PathAttribute("RedshiftProxyMesh", ("fn", "fileName"), AssetKind.CACHE),
    PathAttribute("RedshiftVolumeShape", ("fn", "fileName"), AssetKind.VOLUME),
    PathAttribute("VRayMesh", ("fn", "fileName"), AssetKind.CACHE),
    PathAttribute("VRayVolumeGrid", ("if", "inFile", "inPath"), AssetKind.VOLUME),
    PathAttribute("MaterialXStack", ("dfp", "documentFilePath", "filePath"), AssetKind.OTHER),
    PathAttribute("materialXStack", ("dfp", "documentFilePath", "filePath"), AssetKind.OTHER),
    PathAttribute("mayaUsdProxyShape", ("fp", "filePath"), AssetKind.REFERENCE),
    PathAttribute("pxrUsdProxyShape", ("fp", "filePath"), AssetKind.REFERENCE),
    PathAttribute("pxrUsdReferenceAssembly", ("fp", "filePath"), AssetKind.REFERENCE),
    PathAttribute("xgmPalette", ("xfn", "xgFileName"), AssetKind.OTHER),
)

_BY_TYPE: dict[str, tuple[PathAttribute, ...]] = {}
for _entry in PATH_ATTRIBUTES:
    _BY_TYPE[_entry.node_type] = (*_BY_TYPE.get(_entry.node_type, ()), _entry)

# Per node type, the attributes PATH_ATTRIBUTES already reads.
_CLAIMED: dict[str, frozenset[str]] = {
    node_type: frozenset(a for e in entries for a in e.attrs)
    for node_type, entries in _BY_TYPE.items()
}

_TRUE = frozenset({"1", "yes", "true", "on"})
# What makes a path stand for more than its text: variables, tile and frame tokens.
_NEEDS_EXPANSION = re.compile(r"[$%<#@]")
# Maya appends {N} to the second and later loads of the same reference file.
_COPY_NUMBER = re.compile(r"\{[0-9]+\}$")
# A string that looks like a file path: a folder separator and an extension.
_LOOKS_LIKE_PATH = re.compile(r"^(?:[A-Za-z]:)?[^\n]*[\\/][^\n\\/]+\.[A-Za-z0-9]{1,5}$")


# The newest Maya whose files the tests read (real 2026 files in shared/fixtures).
# A newer file is still read, on purpose: .ma is a MEL script and .mb an IFF
# file whose statements and chunks have kept their meaning since Maya 2008
# (only FOR4 -> FOR8 changed, in 2014, and both are read), the reader skips
# what it does not know, and refusing would block every artist the day a new
# Maya ships. What the version changes is the error: a newer file that does
# not parse says so, instead of calling the file corrupt.
NEWEST_MAYA_VERSION = 2026

_MA_VERSION = re.compile(rb"^\s*//Maya ASCII ([0-9]{4})")
_MB_VERSION = re.compile(rb"VERS.{4,12}?([0-9]{4})", re.DOTALL)
# What bytes.lstrip() then [:12] == b"//Maya ASCII" checks, without copying the file.
_MA_MAGIC = re.compile(rb"[ \t\n\r\x0b\x0c]*//Maya ASCII")


def written_by(data: bytes) -> int | None:
    """The Maya version that wrote ``data`` (``//Maya ASCII 2024``, ``.mb`` ``VERS``), if known.

    >>> written_by(b"//Maya ASCII 2024 scene\\n"), written_by(b"hello")
    (2024, None)
    """
    head = data[:512]
    m = _MA_VERSION.match(head) or _MB_VERSION.search(head)
    return int(m.group(1)) if m else None


def _broken(path: Path, data: bytes, what: str, exc: Exception) -> SceneError:
    version = written_by(data)
    if version is not None and version > NEWEST_MAYA_VERSION:
        return SceneError(
            f"{path}: saved by Maya {version}, newer than this scanner knows "
            f"(up to {NEWEST_MAYA_VERSION}), and it does not read as a {what}: {exc}",
            hint="save a copy from Maya with File > Save As for an older version, or update azrender",
        )
    hints = {"binary": "save the scene again from Maya, or submit a .ma copy"}
    return SceneError(
        f"{path}: corrupt or truncated Maya {what} file: {exc}",
        hint=hints.get(what, "save the scene again from Maya"),
    )


def read_maya_scene(path: Path) -> MayaScene:
    """Parse ``path`` (``.ma`` or ``.mb``, decided by content) or raise one-line :class:`SceneError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SceneError(
            f"{path}: cannot read the Maya scene: {exc.strerror or exc}",
            hint="check the path and permissions",
        ) from exc
    if not data:
        raise SceneError(
            f"{path}: the file is empty (0 bytes)", hint="save the scene again from Maya"
        )
    if data[:4] in (b"FOR4", b"FOR8"):
        try:
            return parse_mb(data)
        except (MayaBinaryError, struct.error) as exc:
            raise _broken(path, data, "binary", exc) from None
    if _MA_MAGIC.match(data):
        text = _decode(data)
        try:
            return parse_ma(text)
        except MelSyntaxError as exc:
            raise _broken(path, data, "ASCII", exc) from None
    raise SceneError(
        f"{path}: not a Maya scene (neither '//Maya ASCII' text nor a FOR4/FOR8 binary)",
        hint="check that this is the .ma/.mb file Maya saved",
    )


def _decode(data: bytes) -> str:
    head = data[:400].decode("latin-1")
    m = re.search(r"^//Codeset: *(\S+)", head, re.MULTILINE)
    codeset = m.group(1) if m else "utf-8"
    if codeset.isdigit():
        codeset = "cp" + codeset
    try:
        return data.decode(codeset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _int(value: str | None) -> int:
    try:
        return int(float(value)) if value is not None else 0
    except ValueError:
        return 0


@dataclass
class ScanContext:
    """Where one scene file's paths resolve: its folder, the Maya project, the environment."""

    scene_dir: Path
    project: MayaProject | None
    env: Mapping[str, str] | None
    label: str
    # written path -> the local file it resolved to, where the two differ (for the node's remap)
    resolved: dict[str, str] = field(default_factory=dict)
    # folder -> exists, for this scan (see resolve_maya_path)
    folders: dict[str, bool] = field(default_factory=dict)
    # makes this scan's thousands of texture paths, each folder parsed once
    paths: PathMaker = field(default_factory=PathMaker)

    @property
    def roots(self) -> tuple[Path, ...]:
        return (self.project.root,) if self.project is not None else ()

    def assets(
        self, written: str, kind: AssetKind, referrer: str, *, sequence: bool = False
    ) -> list[Asset]:
        """The files ``written`` stands for, resolved as Maya would (see :mod:`azrender_maya.project`)."""
        text = written.strip()
        if not text:
            return []
        if text[:1] == "/" and not sequence and not _NEEDS_EXPANSION.search(text):
            # step 1, an absolute path that is there (most paths): one stat, as Asset.from_disk does it
            asset = Asset.from_disk(self.paths(posixpath.normpath(text)), kind, referrer)
            if asset.exists:
                return [asset]
        found = resolve_maya_path(
            written, kind, scene_dir=self.scene_dir, project=self.project, env=self.env,
            folders=self.folders,
        )
        if not found.foreign and not found.unresolved and found.path != written:
            self.resolved.setdefault(written, found.path)
        assets = resolved_assets(found, kind, referrer, sequence=sequence, make_path=self.paths)
        marker = split_project_marker(found.path) if found.path == written.strip() else None
        if marker is not None:  # not found in the project: say where Maya looked (a Path drops the `//`)
            where = self.project.root if self.project is not None else "no project (no workspace.mel)"
            note = f" (written {found.path}: {marker[1]} is not in {where})"
            assets = [a if a.exists else replace(a, referrer=a.referrer + note) for a in assets]
        return assets


def node_assets(node: MayaNode, ctx: ScanContext) -> list[Asset]:
    """Assets one node refers to, per :data:`PATH_ATTRIBUTES` (plus ``cacheFile``)."""
    if node.type not in _BY_TYPE and node.type != "cacheFile":
        return []
    found: list[Asset] = []
    referrer_prefix = ctx.label + node.name

    def collect(written: str, attr: str, kind: AssetKind, *, sequence: bool = False) -> None:
        found.extend(ctx.assets(written, kind, f"{referrer_prefix}.{attr}", sequence=sequence))

    if node.type == "cacheFile":
        folder = node.attrs.get("cp") or node.attrs.get("cachePath") or ""
        name = node.attrs.get("cn") or node.attrs.get("cacheName") or ""
        if name:
            base = (folder.rstrip("/\\") + "/" + name) if folder else name
            collect(base + ".xml", "cachePath", AssetKind.CACHE)
            resolved = resolve_maya_path(
                base, AssetKind.CACHE, scene_dir=ctx.scene_dir, project=ctx.project, env=ctx.env
            )
            data_files = _cache_data_files(resolved.path)
            found.extend(
                asset_at(p, AssetKind.CACHE, f"{referrer_prefix}.cacheName") for p in data_files
            )
        return found

    for entry in _BY_TYPE.get(node.type, ()):
        for attr in entry.attrs:
            written = node.attrs.get(attr)
            if not written:
                continue
            if node.type in ("file", "imagePlane"):
                mode = _int(node.attrs.get("uvt") or node.attrs.get("uvTilingMode"))
                if mode in (1, 2, 3):
                    written = tile_pattern(written, mode)
                ufe = node.attrs.get("ufe") or node.attrs.get("useFrameExtension")
                collect(written, attr, entry.kind, sequence=_truthy(ufe))
            else:
                collect(written, attr, entry.kind)
            break
    return found


def _cache_data_files(base: str) -> list[Path]:
    """A Maya nCache's data files: ``<name>.mc``, ``<name>.mcx``, ``<name>Frame12.mc``..."""
    p = Path(base)
    try:
        names = os.listdir(p.parent)
    except OSError:
        return []
    rx = re.compile(re.escape(p.name) + r"(?:Frame[0-9]+(?:Tick[0-9]+)?)?\.(?:mc|mcx)")
    return sorted(p.parent / n for n in names if rx.fullmatch(n))


def _other_existing_paths(node: MayaNode, ctx: ScanContext, known: set[Path]) -> list[Asset]:
    """Any other string attribute naming a file that exists: kind ``other``."""
    found: list[Asset] = []
    claimed = _CLAIMED.get(node.type, frozenset())
    for attr, value in node.attrs.items():
        if attr in claimed or not _LOOKS_LIKE_PATH.match(value):
            continue
        resolved = resolve_path(value, scene_dir=ctx.scene_dir, search_roots=ctx.roots, env=ctx.env)
        p = Path(resolved.path)
        if resolved.foreign or not p.is_absolute() or p in known:
            continue
        # One stat a path: the resolver's when it found the file there, else asset_at's own.
        asset = asset_at(p, AssetKind.OTHER, f"{ctx.label}{node.name}.{attr}", stat=resolved.stat)
        if asset.exists:  # a regular file that is there; anything else is not a path after all
            found.append(asset)
    return found


_XGEN_KINDS = {".ptx": AssetKind.TEXTURE, ".abc": AssetKind.CACHE, ".xuv": AssetKind.CACHE}


def xgen_assets(collection_file: Path, ctx: ScanContext) -> list[Asset]:
    """The files an existing ``.xgen`` collection refers to (ptex folders expand to ``*.ptx``).

    Raises :class:`SceneError` when the file is not an XGen collection.
    """
    try:
        text = collection_file.read_text(encoding="utf-8", errors="replace")
        collection = parse_xgen(text)
    except (OSError, ValueError) as exc:
        raise SceneError(
            f"{collection_file}: cannot read the XGen collection: {exc}",
            hint="re-export the collection from Maya's XGen window, or remove the xgmPalette",
        ) from None
    project = str(ctx.roots[0]) if ctx.roots else str(ctx.scene_dir)
    found: list[Asset] = []
    for ref in referenced_paths(collection, project):
        referrer = f"{ctx.label}{collection_file.name}: {ref.referrer}"
        if not ref.folder:
            kind = _XGEN_KINDS.get(Path(ref.path).suffix.lower(), AssetKind.OTHER)
            found.extend(
                assets_for(ref.path, kind, referrer, scene_dir=collection_file.parent, env=ctx.env)
            )
            continue
        resolved = resolve_path(ref.path, scene_dir=collection_file.parent, env=ctx.env)
        folder = Path(resolved.path)
        if resolved.foreign or resolved.unresolved or not folder.is_dir():
            found.append(
                Asset(path=folder, kind=AssetKind.TEXTURE, exists=False, referrer=referrer)
            )
            continue
        ptex = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".ptx" and p.is_file())
        found.extend(asset_at(p, AssetKind.TEXTURE, referrer) for p in ptex)
    return found


def scan_maya(scene: Path, env: Mapping[str, str] | None = None) -> AssetSet:
    """Every file ``scene`` needs, references followed recursively; missing files kept.

    Raises :class:`SceneError` (one line naming the file) for the top scene if
    it is unreadable; a broken *referenced* file is reported as a missing
    reference only if it does not exist, and raises if it exists but is corrupt.
    """
    return scan_maya_paths(scene, env)[0]


def scan_maya_paths(
    scene: Path, env: Mapping[str, str] | None = None, *, parsed: MayaScene | None = None
) -> tuple[AssetSet, dict[str, str]]:
    """:func:`scan_maya`, and each written path that resolved elsewhere -> the local file it found.

    The second part is what the node's remap needs beyond the plain mapping: a
    path written on another machine (``C:/Users/me/proj//sourceimages/a.png``)
    that Maya finds in the scene's project is rewritten to that file's node copy.
    ``parsed`` is the scene as :func:`read_maya_scene` read it, where the caller
    has read it already (the adapter reads its settings from the same parse).
    """
    top = scene.absolute()
    result = AssetSet(scene=top, app=APP)
    result.add(Asset.from_disk(top, AssetKind.SCENE))
    resolved: dict[str, str] = {}
    _scan_file(top, maya_project(top), env, result, set(), "", resolved, parsed)
    # USD stages (proxy shapes, Arnold stand-ins) bring their layers and textures.
    follow_usd_layers(result, env=env)
    return result, resolved


def _scan_file(
    path: Path,
    project: MayaProject | None,
    env: Mapping[str, str] | None,
    result: AssetSet,
    visited: set[Path],
    label: str,
    resolved: dict[str, str],
    parsed: MayaScene | None = None,
) -> None:
    if not first_visit(visited, path):
        return
    maya_scene = parsed if parsed is not None else read_maya_scene(path)
    ctx = ScanContext(scene_dir=path.parent, project=project, env=env, label=label, resolved=resolved)
    for node in maya_scene.nodes:
        assets = node_assets(node, ctx)
        result.extend(assets)
        if node.type == "xgmPalette":
            for a in assets:
                if a.exists and a.path.suffix.lower() == ".xgen":
                    result.extend(xgen_assets(a.path, ctx))
    config = colour_config_assets(maya_scene, ctx.assets, label)
    result.extend(config.assets)
    result.app_files.extend(a for a in config.app_files if a not in result.app_files)
    known = {a.path for a in result.assets}
    for node in maya_scene.nodes:
        result.extend(_other_existing_paths(node, ctx, known))
    for ref in maya_scene.references:
        written = _COPY_NUMBER.sub("", ref.path)
        referrer = ref.reference_node or (f"{ref.namespace}RN" if ref.namespace else "file -r")
        refs = ctx.assets(written, AssetKind.REFERENCE, label + referrer)
        result.extend(refs)
        for asset in refs:
            if asset.path.suffix.lower() not in (".ma", ".mb"):
                continue
            if asset.exists:
                _scan_file(asset.path, project, env, result, visited, f"{asset.path.name}: ", resolved)
            else:
                warn_unknown_reference(result, asset, path)


def warn_unknown_reference(result: AssetSet, asset: Asset, referring_file: Path) -> None:
    """One warning per missing reference: what it needs cannot be scanned (its subtree is unknown)."""
    head = f"reference {asset.path} "
    if not any(w.startswith(head) for w in result.warnings):
        result.warnings.append(
            f"{head}({asset.referrer} in {referring_file.name}) is missing: "
            "the files it needs (textures, caches, its own references) are unknown"
        )
