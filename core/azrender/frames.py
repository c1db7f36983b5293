"""Frame ranges in render-farm syntax, and the chunks one task each renders.

>>> frames = FrameRange.parse("1-10x3")
>>> frames.frames
(1, 4, 7, 10)
>>> [c.frames for c in frames.chunks(2)]
[(1, 4), (7, 10)]
>>> FrameRange.parse("1-100:5").count  # fileseq's staggered order: all 100, reordered
100
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from azrender.errors import UsageError


@dataclass(frozen=True)
class FrameChunk:
    """Frames rendered by one task, in render order."""

    frames: tuple[int, ...]

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def is_contiguous(self) -> bool:
        """True when the chunk is ``first..last`` ascending by one, i.e. a start/end pair."""
        return all(b - a == 1 for a, b in zip(self.frames, self.frames[1:], strict=False))

    def label(self) -> str:
        if len(self.frames) == 1:
            return str(self.first)
        if self.is_contiguous:
            return f"{self.first}-{self.last}"
        from fileseq.frameset import FrameSet  # only here: fileseq costs a scan's start-up ~20 ms

        return str(FrameSet(list(self.frames)))


#: Frames one job may have unless the preset says otherwise (``render.max_frames``).
MAX_FRAMES = 100_000

# One comma-separated part of a frame spec: ``7``, ``1-100``, ``1-100x5`` (every 5th),
# ``1-100y5`` (all but every 5th), ``1-100:5`` (fileseq's staggered order).
_TERM = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:([xy:])(\d+))?)?$")


def _term_frames(term: str, spec: str) -> int:
    """How many frames one part of a spec names, by arithmetic (nothing is expanded)."""
    m = _TERM.match(term)
    if m is None:
        if "." in term:
            raise UsageError(
                f"frame range {spec!r} has a sub-frame ({term})",
                hint="render farms take whole frames only",
            )
        raise UsageError(
            f"cannot read frame range {spec!r} (at {term!r})",
            hint="use forms like 1-100, 1-100x5, 1,3,5-7 or 10-1",
        )
    start, end, mode, step = m.group(1), m.group(2), m.group(3), m.group(4)
    if end is None:
        return 1
    size = abs(int(end) - int(start)) + 1
    if mode is None:
        return size
    if int(step) < 1:
        raise UsageError(f"frame range {spec!r}: a step must be 1 or more", hint="e.g. 1-100x5")
    stepped = (size - 1) // int(step) + 1
    return {"x": stepped, "y": size - stepped, ":": size}[mode]


@dataclass(frozen=True)
class FrameRange:
    """An ordered set of frames parsed from the usual render-farm syntax.

    Accepts ``1-100``, ``1-100x5`` (every 5th), ``1,3,5-7``, ``10-1`` (reverse)
    and single frames; built on fileseq, so ``1-10:2`` staggered ranges work too.

    The spec is checked and counted by arithmetic before anything is expanded,
    so ``1-9999999999`` is refused at once when it is over ``max_frames``;
    :attr:`frames` is expanded on first use and :meth:`chunks` cuts it lazily.
    """

    spec: str
    count: int

    @classmethod
    def parse(cls, spec: str, *, max_frames: int = MAX_FRAMES) -> FrameRange:
        text = spec.strip().replace(" ", "")
        if not text:
            raise UsageError("empty frame range", hint="give frames like 1-100, 1-100x5 or 1,3,5-7")
        count = sum(_term_frames(term, spec) for term in text.split(","))
        if count > max_frames:
            raise UsageError(
                f"frame range {spec!r} has {count:,} frames, more than the {max_frames:,} "
                "one job may have",
                hint="split it into several jobs, or raise `render.max_frames` in the preset",
            )
        if count == 0:
            raise UsageError(f"frame range {spec!r} has no frames")
        found = cls(spec=text, count=count)
        found.frames  # noqa: B018 - expand now (at most max_frames): errors belong to parse
        return found

    @functools.cached_property
    def frames(self) -> tuple[int, ...]:
        """Every frame in render order (fileseq's expansion of the checked spec)."""
        from decimal import Decimal  # here, with fileseq: a scan never expands a range

        from fileseq.exceptions import ParseException
        from fileseq.frameset import FrameSet

        try:
            frameset = FrameSet(self.spec)
        except (ParseException, ValueError) as exc:
            raise UsageError(
                f"cannot read frame range {self.spec!r}: {str(exc).splitlines()[0]}",
                hint="use forms like 1-100, 1-100x5, 1,3,5-7 or 10-1",
            ) from exc
        frames: list[int] = []
        for f in frameset:
            if isinstance(f, Decimal) and f != f.to_integral_value():
                raise UsageError(
                    f"frame range {self.spec!r} has a sub-frame ({f})",
                    hint="render farms take whole frames only",
                )
            frames.append(int(f))
        if not frames:
            raise UsageError(f"frame range {self.spec!r} has no frames")
        return tuple(frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[int]:
        return iter(self.frames)

    def chunks(self, size: int) -> FrameChunks:
        """Tasks of at most ``size`` frames, keeping the render order; made as they are read."""
        if size < 1:
            raise UsageError(f"chunk size must be 1 or more, got {size}")
        return FrameChunks(self.frames, size)


class FrameChunks(Sequence["FrameChunk"]):
    """The chunks of a frame list, as a sequence whose items are made when asked for.

    >>> chunks = FrameChunks(tuple(range(1, 8)), 3)
    >>> len(chunks), chunks[-1].frames, [c.frames[0] for c in chunks]
    (3, (7,), [1, 4, 7])
    """

    def __init__(self, frames: tuple[int, ...], size: int) -> None:
        self._frames = frames
        self._size = size

    def __len__(self) -> int:
        return -(-len(self._frames) // self._size)

    @overload
    def __getitem__(self, index: int) -> FrameChunk: ...
    @overload
    def __getitem__(self, index: slice) -> list[FrameChunk]: ...
    def __getitem__(self, index: int | slice) -> FrameChunk | list[FrameChunk]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return FrameChunk(self._frames[index * self._size : (index + 1) * self._size])

    def __iter__(self) -> Iterator[FrameChunk]:
        for i in range(0, len(self._frames), self._size):
            yield FrameChunk(self._frames[i : i + self._size])
