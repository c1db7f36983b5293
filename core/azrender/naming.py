"""Output file names from one small token language; each app spells it its own way.

A template is text with tokens in braces: ``{scene}``, ``{shot}``, ``{layer}``,
``{camera}`` and ``{frame}`` (``{frame:04}`` or ``{frame:4}``: four digits;
``{{``/``}}`` are literal braces). This module parses it and holds what every
app's spelling shares (a token's value, a trailing ``{frame}``); each plugin
turns it into its own syntax (``azrender_blender.naming.blender_output``,
``azrender_maya.naming.maya_image_prefix``, ``azrender_max.naming.max_output_name``):

>>> parse_template("{shot}/{scene}_{frame:04}")[-1]
Token(name='frame', padding=4)
>>> token_value(Token("scene"), NamingContext(scene="a/b"), "Maya", re.compile(r"/"))
'a_b'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from azrender.errors import UsageError

TOKENS = ("scene", "shot", "layer", "camera", "frame")
DEFAULT_TEMPLATE = "{scene}_{frame:04}"

_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")
_FRAME = re.compile(r"^frame(?::0?([1-9]))?$")


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
    import difflib  # here: only a misspelt token needs it, and the Maya and 3ds Max adapters load this module

    close = difflib.get_close_matches(body.split(":")[0], TOKENS, n=1)
    maybe = f"did you mean {{{close[0]}}}? " if close else ""
    raise UsageError(
        f"output name {template!r} has an unknown token {{{body}}}",
        hint=f"{maybe}tokens: {', '.join('{' + t + '}' for t in TOKENS)}; frame padding as {{frame:04}}",
    )


def token_value(token: Token, ctx: NamingContext, app: str, unsafe: re.Pattern[str]) -> str:
    """The value of ``token`` for ``app``'s file name, each ``unsafe`` character made ``_``.

    ``unsafe`` is what the app may not take in one path component (separators,
    its frame placeholder, what its OS forbids): the plugin's to say.
    """
    value = str(getattr(ctx, token.name))
    if not value:
        raise UsageError(
            f"{app} output name needs {{{token.name}}}, which is not known at submit",
            hint=f"drop {{{token.name}}} from the output name, or set it for this job",
        )
    return unsafe.sub("_", value)


def frame_last(parts: list[Part], template: str, app: str, *, app_adds_dot: bool) -> tuple[list[Part], int]:
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
