"""The files an XGen collection (``.xgen``) refers to: ptex maps, guides, caches.

Maya stores an XGen collection in a text file next to the scene
(``<scene>__<collection>.xgen``, named by the ``xgmPalette`` node). It is a
list of blocks, each a header line (``Palette``, ``Description``, ``Patch
Subd``, ``FXModule ClumpingFXModule``...), then one ``<attribute>\\t<value>``
per line, closed by ``endAttrs`` (``endPatch`` for patches)::

    Palette
        name            collection1
        xgDataPath      ${PROJECT}xgen/collections/collection1
        xgProjectPath   /show/proj/
    endAttrs

    Description
        name            hair
    endAttrs

    FXModule  ClumpingFXModule
        name            clumping1
        mapDir          ${DESC}/clumping1/
        cutExpr         $a=map('${DESC}/paintmaps/cut');#3dpaint,5.0\\n$a
    endAttrs

Paths hide in values and in SeExpr expressions (``map('...')``). Tokens:
``${PROJECT}`` is ``xgProjectPath``, ``${DESC}`` the data path followed by
the current description's name, ``${FXMODULE}`` the current module's name. A
path ending in ``/`` or naming a folder (``map()`` takes a folder of
``.ptx`` files, one per patch) stands for the ``.ptx`` files in it.

>>> c = parse_xgen("Palette\\n\\tname\\tc1\\n\\txgDataPath\\t/d/c1\\nendAttrs\\n"
...                "Description\\n\\tname\\thair\\nendAttrs\\n"
...                "Primitive\\tSplinePrimitive\\n\\tcacheFileName\\t${DESC}/g.abc\\nendAttrs\\n")
>>> [(p.path, p.referrer) for p in referenced_paths(c)]
[('/d/c1/hair/g.abc', 'hair SplinePrimitive.cacheFileName')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Attribute values that are paths as a whole, or quoted inside an expression.
_QUOTED = re.compile(r"""['"]([^'"\n]*(?:\$\{(?:DESC|PROJECT|FXMODULE)\}|/)[^'"\n]*)['"]""")
_FILE_SUFFIX = re.compile(r"\.(?:ptx|abc|xuv|caf|obj|fbx|xarc|png|tif|tiff|exr|jpg|jpeg|tx)$", re.I)
_TOKEN = re.compile(r"\$\{(DESC|PROJECT|FXMODULE)\}")
_BLOCK_END = ("endAttrs", "endPatch")


@dataclass
class XgenBlock:
    """One block: its header words (``("FXModule", "ClumpingFXModule")``) and attributes."""

    header: tuple[str, ...]
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class XgenCollection:
    """A parsed ``.xgen`` file: its blocks in order."""

    blocks: list[XgenBlock] = field(default_factory=list)

    def palette(self) -> XgenBlock | None:
        """The ``Palette`` block (one per collection)."""
        return next((b for b in self.blocks if b.header[:1] == ("Palette",)), None)


@dataclass(frozen=True)
class XgenPath:
    """A path the collection names, tokens expanded; ``folder`` when it stands for ``*.ptx``."""

    path: str
    referrer: str
    folder: bool = False


def parse_xgen(text: str) -> XgenCollection:
    """Read the blocks of a ``.xgen`` file. Comments (``#``) and blank lines are skipped.

    Raises :class:`ValueError` when the text has no ``Palette`` block: not an XGen collection.
    """
    collection = XgenCollection()
    current: XgenBlock | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if current is None or not line[:1].isspace():
            if stripped in _BLOCK_END:
                current = None
                continue
            if line[:1].isspace():
                continue  # an attribute outside any block: nothing to attach it to
            words = tuple(stripped.split())
            if words[0] in ("FileVersion",):
                continue
            current = XgenBlock(words)
            collection.blocks.append(current)
            continue
        key, _, value = stripped.partition("\t") if "\t" in stripped else stripped.partition(" ")
        current.attrs[key] = value.strip()
    if collection.palette() is None:
        raise ValueError("no Palette block: not an XGen collection file")
    return collection


_ROOTED = re.compile(r"^(?:/|[A-Za-z]:[\\/]|\\\\)")


def _candidates(value: str) -> list[str]:
    """Path-looking strings in one attribute value (whole value or quoted in an expression).

    Only strings holding an XGen token or starting at a root count: ``0.5/2``
    in an expression is arithmetic, not a file.
    """
    found = [m.group(1) for m in _QUOTED.finditer(value)]
    if not found and " " not in value:
        found.append(value)
    return [c for c in found if _TOKEN.search(c) or _ROOTED.match(c)]


def referenced_paths(collection: XgenCollection, project: str = "") -> list[XgenPath]:
    """Every path the collection's blocks name, with ``${DESC}``/``${PROJECT}``/``${FXMODULE}`` expanded.

    ``project`` stands in for an empty ``xgProjectPath`` (the Maya project root).
    """
    palette = collection.palette()
    assert palette is not None  # parse_xgen guarantees it
    project_path = palette.attrs.get("xgProjectPath", "") or project
    if project_path and not project_path.endswith(("/", "\\")):
        project_path += "/"
    # xgDataPath may list several folders (``;``); the first is where XGen writes.
    data_path = (
        palette.attrs.get("xgDataPath", "").split(";")[0].replace("${PROJECT}", project_path)
    )
    out: list[XgenPath] = []
    description = ""
    for block in collection.blocks:
        if block is palette:
            continue
        if block.header[0] == "Description":
            description = block.attrs.get("name", "")
        values = {
            "PROJECT": project_path,
            "DESC": data_path.rstrip("/") + "/" + description,
            "FXMODULE": block.attrs.get("name", ""),
        }
        label = " ".join([description, *block.header[1:]]).strip() or block.header[0]
        for attr, value in block.attrs.items():
            if attr == "name":
                continue
            for written in _candidates(value):
                expanded = _TOKEN.sub(lambda m: values[m.group(1)], written)  # noqa: B023
                folder = expanded.endswith(("/", "\\")) or not _FILE_SUFFIX.search(expanded)
                path = expanded.rstrip("/\\") if folder else expanded
                out.append(XgenPath(path, f"{label}.{attr}", folder))
    return out
