"""Blender's spelling of an output name template (:mod:`azrender.naming`): the ``-o`` value.

Values are filled in at submit and the frame becomes ``#`` padding:

>>> from azrender.naming import NamingContext
>>> blender_output("{shot}/{scene}_{frame:04}", NamingContext(scene="sh010_v3", shot="sh010"))
'sh010/sh010_v3_####'
"""

from __future__ import annotations

import re

from azrender.naming import NamingContext, parse_template, token_value

# What a value may not bring into one path component: separators and Blender's frame placeholder.
_UNSAFE = re.compile(r"[/#\x00-\x1f]")


def blender_output(template: str, ctx: NamingContext) -> str:
    """Blender's ``-o`` value (relative to the output folder): ``#`` for each frame digit."""
    out = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part.replace("#", "_"))
        elif part.name == "frame":
            out.append("#" * part.padding)
        else:
            out.append(token_value(part, ctx, "Blender", _UNSAFE))
    if "#" not in "".join(out):
        out.append("_####")  # Blender would otherwise write every frame to one file
    return "".join(out)
