"""Text for Blender labels, which never wrap by themselves. No ``bpy`` here."""

from __future__ import annotations

import textwrap

# Blender's UI font at scale 1.0 is about this wide per character, on average.
_PIXELS_PER_CHAR = 7.0


def label_lines(text: str, width_px: float, ui_scale: float = 1.0) -> list[str]:
    """``text`` cut into lines that fit a panel ``width_px`` wide (long paths are broken too).

    A failure reason or a job id cut off at the panel's edge is the one thing the
    artist needs to read, so it is wrapped instead.

    >>> label_lines("2 of 10 tasks failed; frames-003: exit code 127: Render: command not found", 300)
    ['2 of 10 tasks failed; frames-003: exit', 'code 127: Render: command not found']
    """
    chars = max(16, int(width_px / (_PIXELS_PER_CHAR * max(ui_scale, 0.1))) - 4)
    return textwrap.wrap(text, chars, break_long_words=True, break_on_hyphens=False) or [""]


def short_job_id(job_id: str) -> str:
    """A job id as the job list shows it: its time and random tail, which tell jobs of one
    scene apart (``<scene>-<date>-<time>-<random>``, see ``azrender.jobs.new_job_id``).

    >>> short_job_id("shot010-20261202-004256-2317"), short_job_id("custom-id")
    ('00:42:56 2317', 'custom-id')
    """
    parts = job_id.rsplit("-", 3)
    if len(parts) == 4 and parts[1].isdigit() and len(parts[2]) == 6 and parts[2].isdigit():
        hhmmss = parts[2]
        return f"{hhmmss[:2]}:{hhmmss[2:4]}:{hhmmss[4:]} {parts[3]}"
    return job_id
