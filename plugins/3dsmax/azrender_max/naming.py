"""3ds Max's spelling of an output name template (:mod:`azrender.naming`): ``-outputName:``.

Values are filled in; 3ds Max appends the four-digit frame number itself:

>>> from azrender.naming import NamingContext
>>> max_output_name("{shot}_{scene}_{frame:04}", NamingContext(scene="sh010_v3", shot="sh010"))
'sh010_sh010_v3_'
"""

from __future__ import annotations

import re

from azrender.errors import UsageError
from azrender.naming import NamingContext, frame_last, parse_template, token_value

# What a value may not bring into a file name: separators and what Windows forbids.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def max_output_name(template: str, ctx: NamingContext) -> str:
    """3ds Max's ``-outputName:`` file name without extension; 3ds Max appends 4 frame digits."""
    head, pad = frame_last(parse_template(template), template, "3ds Max", app_adds_dot=False)
    if pad not in (0, 4):
        raise UsageError(
            f"3ds Max always writes four frame digits; {template!r} asks for {pad}",
            hint="use {frame:04} (or leave {frame} out) for 3ds Max",
        )
    return "".join(p if isinstance(p, str) else token_value(p, ctx, "3ds Max", _UNSAFE) for p in head)
