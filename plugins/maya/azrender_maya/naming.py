"""Maya's spelling of an output name template (:mod:`azrender.naming`): ``Render -im`` and ``-pad``.

``{scene}``, ``{layer}`` and ``{camera}`` become the ``<Scene>``,
``<RenderLayer>`` and ``<Camera>`` tokens Maya fills per layer and camera; the
frame is appended by Maya with ``-pad`` digits:

>>> from azrender.naming import NamingContext
>>> maya_image_prefix("{shot}/{layer}/{scene}_{camera}.{frame:4}", NamingContext(scene="v3", shot="sh010"))
('sh010/<RenderLayer>/<Scene>_<Camera>', 4)
"""

from __future__ import annotations

import re

from azrender.naming import NamingContext, frame_last, parse_template, token_value

# What a value may not bring into one path component.
_UNSAFE = re.compile(r"[/\x00-\x1f]")

_MAYA_TOKENS = {"scene": "<Scene>", "layer": "<RenderLayer>", "camera": "<Camera>"}


def maya_image_prefix(template: str, ctx: NamingContext) -> tuple[str, int]:
    """Maya's ``Render -im`` prefix and ``-pad`` digits; Maya appends ``.<frame>.<ext>``."""
    head, pad = frame_last(parse_template(template), template, "Maya", app_adds_dot=True)
    out = []
    for part in head:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(_MAYA_TOKENS.get(part.name) or token_value(part, ctx, "Maya", _UNSAFE))
    return "".join(out), pad or 4
