"""Output file names from one small token language, spelled the way each renderer wants.

A template is text with tokens in braces: ``{scene}``, ``{shot}``, ``{layer}``,
``{camera}`` and ``{frame}`` (``{frame:04}`` or ``{frame:4}``: four digits;
``{{``/``}}`` are literal braces). Each app turns it into its own syntax:

* Blender (``-o``): values filled in at submit, the frame as ``#`` padding;
* Maya (``Render -im``): ``<Scene>``, ``<RenderLayer>``, ``<Camera>`` tokens
  Maya fills per layer and camera, the frame appended by Maya with ``-pad``;
* 3ds Max (``-outputName:``): values filled in; 3ds Max appends the
  four-digit frame number itself.

>>> ctx = NamingContext(scene="sh010_v3", shot="sh010")
>>> blender_output("{shot}/{scene}_{frame:04}", ctx)
'sh010/sh010_v3_####'
>>> maya_image_prefix("{shot}/{layer}/{scene}_{camera}.{frame:4}", ctx)
('sh010/<RenderLayer>/<Scene>_<Camera>', 4)
>>> max_output_name("{shot}_{scene}_{frame:04}", ctx)
'sh010_sh010_v3_'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from azrender.errors import UsageError

TOKENS = ("scene", "shot", "layer", "camera", "frame")
DEFAULT_TEMPLATE = "{scene}_{frame:04}"

_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")
_FRAME = re.compile(r"^frame(?::0?([1-9]))?$")
# Characters a value may not bring into a file name (a value is one path component):
# separators everywhere, Blender's frame placeholder, what Windows forbids for 3ds Max.
_UNSAFE = {
    "Blender": re.compile(r"[/#\x00-\x1f]"),
    "Maya": re.compile(r"[/\x00-\x1f]"),
    "3ds Max": re.compile(r'[\\/:*?"<>|\x00-\x1f]'),
}


@dataclass(frozen=True)
class NamingContext:
    """Values known at submit time; empty means "not known here"."""

    scene: str
    shot: str = ""
    layer: str = ""
    camera: str = ""


@dataclass(frozen=True)
class Token:
    name: str
    padding: int = 0  # frame only


Part = str | Token


def parse_template(template: str) -> list[Part]:
    """Literal text and tokens, in order; an unknown token is an error with a suggestion.

    >>> parse_template("{scene}.{frame:04}.exr")
    [Token(name='scene', padding=0), '.', Token(name='frame', padding=4), '.exr']
    """
    parts: list[Part] = []
    for match in _PART.finditer(template):
        text = match.group(0)
        if text in ("{{", "}}"):
            parts.append(text[0])
        elif text in ("{", "}"):
            raise UsageError(
                f"output name {template!r} has an unmatched {text!r}",
                hint="write tokens as {scene}, {frame:04}; a literal brace as {{ or }}",
            )
        elif match.group(1) is not None:
            parts.append(_token(match.group(1).strip(), template))
        else:
            parts.append(text)
    if sum(isinstance(p, Token) and p.name == "frame" for p in parts) > 1:
        raise UsageError(f"output name {template!r} has more than one {{frame}}", hint="keep one")
    return parts


def _token(body: str, template: str) -> Token:
    frame = _FRAME.match(body)
    if frame:
        return Token("frame", int(frame.group(1) or 4))
    if body in TOKENS:
        return Token(body)
    close = difflib.get_close_matches(body.split(":")[0], TOKENS, n=1)
    maybe = f"did you mean {{{close[0]}}}? " if close else ""
    raise UsageError(
        f"output name {template!r} has an unknown token {{{body}}}",
        hint=f"{maybe}tokens: {', '.join('{' + t + '}' for t in TOKENS)}; frame padding as {{frame:04}}",
    )


def _value(token: Token, ctx: NamingContext, app: str) -> str:
    value = str(getattr(ctx, token.name))
    if not value:
        raise UsageError(
            f"{app} output name needs {{{token.name}}}, which is not known at submit",
            hint=f"drop {{{token.name}}} from the output name, or set it for this job",
        )
    return _UNSAFE[app].sub("_", value)


def _frame_last(parts: list[Part], template: str, app: str, *, app_adds_dot: bool) -> tuple[list[Part], int]:
    """Parts before a trailing ``{frame}`` (an extension after it is dropped), and its padding.

    ``app_adds_dot``: the app writes ``name.<frame>`` itself (Maya), so a dot
    right before ``{frame}`` is dropped rather than doubled.
    """
    index = next((i for i, p in enumerate(parts) if isinstance(p, Token) and p.name == "frame"), None)
    if index is None:
        return parts, 0
    rest = "".join(p for p in parts[index + 1 :] if isinstance(p, str))
    if any(isinstance(p, Token) for p in parts[index + 1 :]) or not re.fullmatch(r"(\.[A-Za-z0-9]+)?", rest):
        raise UsageError(
            f"{app} puts the frame number at the end of the name: {template!r} has text after {{frame}}",
            hint="end the output name with {frame:04} (an extension after it is fine)",
        )
    head = parts[:index]
    if app_adds_dot and head and isinstance(head[-1], str) and head[-1].endswith("."):
        head = [*head[:-1], head[-1][:-1]]
    token = parts[index]
    assert isinstance(token, Token)
    return head, token.padding


def blender_output(template: str, ctx: NamingContext) -> str:
    """Blender's ``-o`` value (relative to the output folder): ``#`` for each frame digit."""
    out = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part.replace("#", "_"))
        elif part.name == "frame":
            out.append("#" * part.padding)
        else:
            out.append(_value(part, ctx, "Blender"))
    if "#" not in "".join(out):
        out.append("_####")  # Blender would otherwise write every frame to one file
    return "".join(out)


_MAYA_TOKENS = {"scene": "<Scene>", "layer": "<RenderLayer>", "camera": "<Camera>"}


def maya_image_prefix(template: str, ctx: NamingContext) -> tuple[str, int]:
    """Maya's ``Render -im`` prefix and ``-pad`` digits; Maya appends ``.<frame>.<ext>``."""
    head, pad = _frame_last(parse_template(template), template, "Maya", app_adds_dot=True)
    out = []
    for part in head:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(_MAYA_TOKENS.get(part.name) or _value(part, ctx, "Maya"))
    return "".join(out), pad or 4


def max_output_name(template: str, ctx: NamingContext) -> str:
    """3ds Max's ``-outputName:`` file name without extension; 3ds Max appends 4 frame digits."""
    head, pad = _frame_last(parse_template(template), template, "3ds Max", app_adds_dot=False)
    if pad not in (0, 4):
        raise UsageError(
            f"3ds Max always writes four frame digits; {template!r} asks for {pad}",
            hint="use {frame:04} (or leave {frame} out) for 3ds Max",
        )
    return "".join(p if isinstance(p, str) else _value(p, ctx, "3ds Max") for p in head)


# Output format names as presets spell them (Blender's names and common short forms)
# -> the file extension Maya's ``-of`` and 3ds Max's ``-outputName:`` go by.
IMAGE_EXTENSIONS: Mapping[str, str] = {
    "PNG": "png",
    "EXR": "exr",
    "OPEN_EXR": "exr",
    "OPENEXR": "exr",
    "JPEG": "jpg",
    "JPG": "jpg",
    "TIFF": "tif",
    "TIF": "tif",
    "TGA": "tga",
    "TARGA": "tga",
    "BMP": "bmp",
}


def format_key(name: str) -> str:
    """The spelling-insensitive key of an output format name (``open-exr`` → ``OPEN_EXR``)."""
    return name.strip().upper().replace("-", "_").replace(" ", "_")


def lookup_format(name: str, table: Mapping[str, str], app: str) -> str:
    """What ``app`` calls the output format ``name``, or a one-line error listing its formats.

    >>> lookup_format("open exr", {"OPEN_EXR": "exr", "PNG": "png"}, "Maya")
    'exr'
    """
    key = format_key(name)
    if key not in table:
        raise UsageError(
            f"{app} cannot write output format {name!r}",
            hint=f"use one of {', '.join(sorted(set(table)))}",
        )
    return table[key]
