"""Python's cycle collector paused while a scan builds its results.

A scan makes hundreds of thousands of small objects (block records, paths,
assets) and lets go of them by reference counting; none of them form cycles
the collector would have to find. CPython still runs a collection every 700
net allocations of container objects (the first of ``gc.get_threshold()``,
"gc — Garbage Collector interface" in the Python docs), and the older
generations' passes walk every object still alive, the scan's growing result
included: on a 10,000-image .blend they were a tenth of a cold scan and a
third of an answer from the scan cache, and found nothing.

The collector is switched off for the scan and back on after it, only if it
was on (a caller that paused it already keeps it paused)::

    with collector_paused():
        assets = scan_blend(scene)
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """``gc.disable()`` for the ``with`` block, then ``gc.enable()`` if it was enabled."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
