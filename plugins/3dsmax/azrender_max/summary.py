"""What 3ds Max writes into a scene's document summary: version, renderer, frames, dependencies.

3ds Max fills the standard ``\\x05DocumentSummaryInformation`` property set of
the compound file with its "File Properties": the heading pairs (PID 12) name
groups and their sizes, the document parts (PID 13) hold the items in the same
order. A real file has, for example::

    General               3ds Max Version: 19,00 | Uncompressed | Build: ... | Saved As Version: 19,00
    External Dependencies a.png | b.jpg | ...        (lower-case file names)
    Used Plug-Ins         mtl.dlt | rend.dlr | ...
    Render Data           Render Width=640 | Renderer Name=Scanline Renderer |
                          Animation Start=0 | Animation End=100 | ...

Every string of the set is in its code page (PID 1, a VT_I2; [MS-OSHARED]
2.3.3.2.2.1 requires it and makes all string properties share it): UTF-8
(65001, read by olefile as the signed -535) in current files, the ANSI code
page (e.g. 1252) in 3ds Max 9 era files, UTF-16 strings with 1200.

>>> info = summary_from_groups({"General": ["3ds Max Version: 21,00"],
...     "Render Data": ["Renderer Name=Arnold", "Animation Start=0", "Animation End=10"]})
>>> info.max_version, info.renderer, info.frame_start, info.frame_end
(21.0, 'Arnold', 0, 10)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

PID_CODEPAGE = 1
PID_HEADING_PAIRS = 12
PID_DOC_PARTS = 13


@dataclass(frozen=True)
class MaxSceneInfo:
    """Scene facts from the summary; a value the file does not carry is None / empty."""

    max_version: float | None = None
    saved_as_version: float | None = None
    compressed: bool | None = None
    renderer: str = ""
    width: int | None = None
    height: int | None = None
    frame_start: int | None = None
    frame_end: int | None = None
    external_dependencies: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "max_version": self.max_version,
            "saved_as_version": self.saved_as_version,
            "compressed": self.compressed,
            "renderer": self.renderer,
            "width": self.width,
            "height": self.height,
            "frame_start": self.frame_start,
            "frame_end": self.frame_end,
            "external_dependencies": list(self.external_dependencies),
            "plugins": list(self.plugins),
        }


def _number(text: str) -> float | None:
    # 3ds Max writes the decimal separator of the artist's locale: "19,00" or "19.00".
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    value = _number(text)
    return int(value) if value is not None else None


def groups_from_properties(
    props: Mapping[int, object], codepage: int | None = None
) -> dict[str, tuple[str, ...]]:
    """Pair the heading pairs with the document parts: ``{"General": (...), ...}``.

    Items that do not add up (a damaged property set) end the grouping early
    rather than shifting every later group.
    """
    pairs = props.get(PID_HEADING_PAIRS)
    parts = props.get(PID_DOC_PARTS)
    if not isinstance(pairs, list) or not isinstance(parts, list):
        return {}
    encoding = "utf-8" if codepage in (None, 65001, -535) else f"cp{codepage}"

    def text(value: object) -> str:
        if isinstance(value, bytes):
            try:
                return value.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                return value.decode("latin-1")
        return str(value)

    groups: dict[str, tuple[str, ...]] = {}
    pos = 0
    for i in range(0, len(pairs) - 1, 2):
        name, count = pairs[i], pairs[i + 1]
        if not isinstance(count, int) or count < 0 or pos + count > len(parts):
            break
        groups[text(name)] = tuple(text(p) for p in parts[pos : pos + count])
        pos += count
    return groups


def summary_from_groups(groups: Mapping[str, Sequence[str]]) -> MaxSceneInfo:
    """Read the known groups; unknown groups are kept in ``groups`` as they are."""
    general: dict[str, str] = {}
    compressed: bool | None = None
    for item in groups.get("General", ()):
        key, sep, value = item.partition(":")
        if sep:
            general[key.strip()] = value.strip()
        elif item.strip() in ("Compressed", "Uncompressed"):
            compressed = item.strip() == "Compressed"
    render: dict[str, str] = {}
    for item in groups.get("Render Data", ()):
        key, sep, value = item.partition("=")
        if sep:
            render[key.strip()] = value.strip()
    version = general.get("3ds Max Version")
    saved_as = general.get("Saved As Version")
    return MaxSceneInfo(
        max_version=_number(version) if version else None,
        saved_as_version=_number(saved_as) if saved_as else None,
        compressed=compressed,
        renderer=render.get("Renderer Name", ""),
        width=_int(render.get("Render Width")),
        height=_int(render.get("Render Height")),
        frame_start=_int(render.get("Animation Start")),
        frame_end=_int(render.get("Animation End")),
        external_dependencies=tuple(groups.get("External Dependencies", ())),
        plugins=tuple(groups.get("Used Plug-Ins", ())),
        groups={k: tuple(v) for k, v in groups.items()},
    )
