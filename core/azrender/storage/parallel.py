"""Run transfers on a bounded thread pool, stopping early on the first failure.

>>> run_parallel(lambda x: x * 2, [1, 2, 3], max_workers=2)
[2, 4, 6]

On failure the queued (not yet started) calls are cancelled, the running ones
finish, and the first exception is raised; ``on_done`` has then been called for
each call that succeeded, so the caller can record partial progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    max_workers: int = 8,
    on_done: Callable[[T, R], None] | None = None,
) -> list[R]:
    """``[fn(item) for item in items]`` on up to ``max_workers`` threads, in input order."""
    work = list(items)
    if not work:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(work))))
    try:
        futures: list[Future[R]] = [pool.submit(fn, item) for item in work]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            for f in futures:
                f.cancel()
            wait(futures)
        if on_done is not None:
            for item, f in zip(work, futures, strict=True):
                if f.done() and not f.cancelled() and f.exception() is None:
                    on_done(item, f.result())
        if failed is not None:
            exc = failed.exception()
            assert exc is not None
            raise exc
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
