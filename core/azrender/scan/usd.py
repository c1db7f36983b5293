"""Follow a USD stage through its layers: sublayers, references, payloads and asset values.

A scene that loads a USD stage (Maya's ``mayaUsdProxyShape.filePath``, an
Arnold stand-in ``.usd``, Blender's USD cache file) needs every layer the stage
composes and every file those layers name: a texture in a shader's
``asset inputs:file = @./tex/wood.<UDIM>.png@``, a value clip, a sublayer of a
payload. :func:`~azrender.scan.stages.follow_usd_layers` adds them to a scan, recursively, each
layer once (a layer cycle ends), missing files named with the layer that
refers to them.

Two readers, one answer:

* text layers (``#usda 1.0``, in ``.usda`` or ``.usd``) are read here: every
  asset path (``@path@`` or ``@@@path@@@``) outside comments and strings, and
  the field it belongs to (``subLayers``, ``references``, ``payload`` or the
  attribute's name). This needs no dependency and reads a large text layer
  fast.
* crate (binary) layers (``PXR-USDC`` header, ``.usdc`` or ``.usd``) are read
  with Pixar's ``usd-core`` (``pip install azrender[usd]``):
  ``UsdUtils.ExtractExternalReferences`` lists their sublayers, references and
  payloads, and asset-valued attributes with the references. Without
  ``usd-core`` such a layer is still listed, and a warning says that what it
  names was not followed.

Paths resolve as Pixar's default asset resolver (``ArDefaultResolver``,
https://openusd.org/release/api/class_ar_default_resolver.html) does: an
absolute path as it is; ``./`` and ``../`` anchored to the folder of the layer
that names it; any other relative path (a "search path") anchored to that
layer first, then looked up in each folder of ``PXR_AR_DEFAULT_SEARCH_PATH``.
The resolver also searches the current working directory; a scan does not,
since the render node's working directory is not the artist's. ``<UDIM>``
(and other tile tokens) expand to the tiles on disk. ``.usdz`` packages
carry their own files and are listed, not opened.

>>> [(r.field, r.path) for r in usda_asset_paths('''#usda 1.0
... (subLayers = [@./a.usda@ (offset = 2), @b.usda@])
... def "X" (prepend references = @./c.usd@</X>) {
...     asset inputs:file = @tex/<UDIM>.png@  # @not/this.png@
...     string note = "@nor/this.png@"
... }''')]
[('subLayers', './a.usda'), ('subLayers', 'b.usda'), ('references', './c.usd'), ('inputs:file', 'tex/<UDIM>.png')]
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azrender.model import Asset, AssetKind
from azrender.paths import is_windows_path
from azrender.scan.assets import assets_for
from azrender.scan.envvars import env_value
from azrender.scan.resolve import first_visit
from azrender.scan.stages import LAYER_SUFFIXES

USD_SUFFIXES = LAYER_SUFFIXES | {".usdz"}
TEXT_MAGIC = b"#usda"
CRATE_MAGIC = b"PXR-USDC"
SEARCH_PATH_VAR = "PXR_AR_DEFAULT_SEARCH_PATH"
# Composition fields: what they name is a layer (or a file a format plug-in reads, e.g. .abc).
# Value clips name their layers by a template string (``"./clip.#.usd"``), not an asset path.
_CLIP_TEMPLATE = "templateAssetPath"
_ARC_FIELDS = frozenset({"subLayers", "references", "payload"})
_SUFFIX_KINDS: dict[str, AssetKind] = {
    **dict.fromkeys(USD_SUFFIXES, AssetKind.REFERENCE),
    **dict.fromkeys(
        (".png", ".jpg", ".jpeg", ".exr", ".tif", ".tiff", ".tx", ".tex", ".hdr", ".tga",
         ".bmp", ".ptx", ".ptex", ".dds", ".webp", ".gif", ".psd", ".rat", ".b3d"),
        AssetKind.TEXTURE,
    ),
    ".abc": AssetKind.CACHE,
    ".ma": AssetKind.REFERENCE,  # maya-usd's MayaReference prims (asset mayaReference = @rig.mb@)
    ".mb": AssetKind.REFERENCE,
    ".vdb": AssetKind.VOLUME,
    ".wav": AssetKind.AUDIO,
    ".mp3": AssetKind.AUDIO,
}

# The text format's characters that matter here; everything else (numbers, names, punctuation)
# is skipped by one C-level search. Comments and strings are skipped whole (an @ inside them is
# text), asset paths read, brackets nest fields, "=" names the field.
_SPECIAL = re.compile(r"[#\"'@=\[\](){}]")
_STRING = re.compile(r'"""(?:[^\\]|\\.)*?"""|\'\'\'(?:[^\\]|\\.)*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.DOTALL)
# Asset paths as usd-core writes them in text layers: @path@, or @@@path@@@ when the path holds
# an @ (one or two anywhere, also right before the closing @@@; \@@@ for three).
_ASSET = re.compile(r"@@@((?:\\@@@|[^@\n]|@{1,2}[^@\n])*@{0,2})@@@|@([^@\n]*)@")
# The name right before an "=" (namespaced attributes, .timeSamples, .connect included).
_NAME_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_:.]*)\s*\Z")
# A numeric array ("[(0, 1, 2), ..." or "[1, 2, ...]"): the bulk of a geometry layer, no asset
# inside and no "]" before its end, so it is skipped to that "]" in one step.
_NUMERIC_ARRAY = re.compile(r"\[\s*[-+0-9.(]")
# Keys inside a layer offset or reference metadata ((offset = 1; scale = 2)): not a field.
_OFFSET_KEYS = frozenset({"offset", "scale"})


@dataclass(frozen=True)
class LayerRef:
    """One asset path a layer writes, and the field it is in (``subLayers``, an attribute name...)."""

    field: str
    path: str


class UsdLayerError(ValueError):
    """The file is not a USD layer this scanner can read (names the file and why)."""


def usda_asset_paths(text: str) -> list[LayerRef]:
    """Every asset path of a text layer, with its field, in file order.

    The field is the name before the nearest enclosing ``=``: list brackets
    and layer-offset parentheses keep it (``subLayers = [@a@ (offset = 1), @b@]``
    gives two ``subLayers``), ``prepend``/``append``/``delete`` are list edits
    of the same field. A value clip's ``templateAssetPath`` string counts too,
    as ``UsdUtils.ExtractExternalReferences`` counts it.
    """
    found: list[LayerRef] = []
    fields: list[str] = [""]
    pos, size = 0, len(text)
    while (m := _SPECIAL.search(text, pos)) is not None:
        i = m.start()
        ch = text[i]
        pos = i + 1
        if ch == "#":
            eol = text.find("\n", i)
            pos = size if eol < 0 else eol
        elif ch in "\"'":
            quoted = _STRING.match(text, i)
            if quoted is not None:
                pos = quoted.end()
                if fields[-1] == _CLIP_TEMPLATE:
                    found.append(LayerRef(_CLIP_TEMPLATE, _unquote(quoted.group())))
        elif ch == "@":
            asset = _ASSET.match(text, i)
            if asset is not None:
                pos = asset.end()
                if asset.group(1) is not None:
                    found.append(LayerRef(fields[-1], asset.group(1).replace("\\@@@", "@@@")))
                else:
                    found.append(LayerRef(fields[-1], asset.group(2)))
        elif ch == "=":
            name = _NAME_BEFORE.search(text, max(0, i - 256), i)
            if name is not None and name.group(1) not in _OFFSET_KEYS:
                fields[-1] = name.group(1)
        elif ch == "[" and _NUMERIC_ARRAY.match(text, i):
            close = text.find("]", i)
            pos = size if close < 0 else close + 1
        elif ch in "[({":
            fields.append(fields[-1])
        elif len(fields) > 1:  # a closing bracket
            fields.pop()
    return found


def _unquote(token: str) -> str:
    quote = 3 if token[:3] in ('"""', "'''") else 1
    return re.sub(r"\\(.)", r"\1", token[quote:-quote])


def _usd_utils() -> Any:
    # usd-core is optional (about 150 MB) and untyped: imported by name, only for crate layers.
    return importlib.import_module("pxr.UsdUtils")


def _crate_asset_paths(layer: Path) -> list[LayerRef]:
    # ExtractExternalReferences puts asset-valued attributes in with the references.
    sublayers, references, payloads = _usd_utils().ExtractExternalReferences(str(layer))
    return (
        [LayerRef("subLayers", p) for p in sublayers]
        + [LayerRef("references or asset values", p) for p in references]
        + [LayerRef("payload", p) for p in payloads]
    )


def have_usd_core() -> bool:
    """Whether Pixar's ``pxr`` module (``usd-core``) can be imported here."""
    try:
        _usd_utils()
    except ImportError:
        return False
    return True


def layer_asset_paths(layer: Path) -> list[LayerRef]:
    """The asset paths one layer file writes (text read here, crate via ``usd-core``).

    :raises UsdLayerError: the file cannot be read, is not a USD layer, or is
        a crate file and ``usd-core`` is not installed.
    """
    try:
        with layer.open("rb") as f:
            head = f.read(len(CRATE_MAGIC))
            if head.startswith(TEXT_MAGIC):
                text = (head + f.read()).decode("utf-8", errors="replace")
                return usda_asset_paths(text)
    except OSError as exc:
        raise UsdLayerError(f"cannot read the USD layer {layer}: {exc.strerror or exc}") from None
    if head != CRATE_MAGIC:
        raise UsdLayerError(f"{layer} is not a USD layer (neither '#usda' text nor a 'PXR-USDC' crate)")
    if not have_usd_core():
        raise UsdLayerError(
            f"{layer} is a binary (crate) USD layer; its layers and textures were not followed: "
            "install usd-core (pip install 'azrender[usd]') and scan again"
        )
    try:
        return _crate_asset_paths(layer)
    except Exception as exc:  # pxr raises Tf.ErrorException, which has no importable base here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsdLayerError(f"cannot read the USD layer {layer}: {first}") from None


def _kind(ref: LayerRef) -> AssetKind:
    suffix = os.path.splitext(ref.path)[1].lower()
    if suffix in _SUFFIX_KINDS:
        return _SUFFIX_KINDS[suffix]
    return AssetKind.REFERENCE if ref.field in _ARC_FIELDS else AssetKind.OTHER


def _is_search_path(path: str) -> bool:
    """A relative path not starting with ``./`` or ``../`` (looked up in the search path)."""
    if path.startswith("/") or is_windows_path(path):
        return False
    return not (path.startswith("./") or path.startswith("../"))


def _search_dirs(env: Mapping[str, str] | None) -> tuple[str, ...]:
    value = env_value(SEARCH_PATH_VAR, env) or ""
    return tuple(d for d in value.split(os.pathsep) if d)


def layer_assets(
    layer: Path, refs: Iterable[LayerRef], *, env: Mapping[str, str] | None = None
) -> list[Asset]:
    """The files ``refs`` (written in ``layer``) stand for, resolved as ``ArDefaultResolver`` does."""
    found: list[Asset] = []
    folder = layer.parent
    search = _search_dirs(env)
    for ref in refs:
        written = ref.path.strip()
        if not written:
            continue
        roots: Sequence[str | Path] = (folder, *search) if _is_search_path(written) else ()
        found.extend(
            assets_for(
                written,
                _kind(ref),
                f"USD layer {layer}: {ref.field or 'asset'}",
                scene_dir=folder,
                search_roots=roots,
                env=env,
            )
        )
    return found


def usd_dependencies(
    stage: Path,
    *,
    env: Mapping[str, str] | None = None,
    visited: set[Path] | None = None,
) -> tuple[list[Asset], list[str]]:
    """Every file the layer ``stage`` composes or names, recursively (``stage`` itself excluded).

    Returns the assets (missing ones kept, each naming the layer that refers
    to it) and one-line warnings for layers that exist but could not be read.
    A layer already in ``visited`` is not read again, which ends cycles.
    """
    seen = visited if visited is not None else set()
    assets: list[Asset] = []
    warnings: list[str] = []
    pending = [stage]
    while pending:
        layer = pending.pop()
        if not first_visit(seen, layer):
            continue
        try:
            refs = layer_asset_paths(layer)
        except UsdLayerError as exc:
            warnings.append(str(exc))
            continue
        found = layer_assets(layer, refs, env=env)
        assets.extend(found)
        # Depth first, in file order: a layer's own files come before its sublayers' files.
        pending.extend(
            a.path for a in reversed(found) if a.exists and a.path.suffix.lower() in LAYER_SUFFIXES
        )
    return assets, warnings
