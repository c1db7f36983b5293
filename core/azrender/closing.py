"""``with`` for the objects that hold a process, a file or a connection until they are closed.

>>> class Held(Closes):
...     def close(self) -> None:
...         print("closed")
>>> with Held():
...     pass
closed
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_T = TypeVar("_T", bound="Closes")


class Closes:
    """``with thing:`` gives ``thing`` and calls its :meth:`close` at the end, error or not."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
