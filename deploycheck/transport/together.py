"""Independent requests sent at the same time, so their waits overlap.

Over a slow link a control that asks four things one after the other waits
four round trips; asked together it waits about one. Threads, not
processes: the work is waiting. Bounded: at most ``LIMIT`` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
LIMIT = 8
MAX_LIMIT = 16  # a caller's own bound may be higher than LIMIT, never than this


def at_once(call: Callable[[T], R], items: Iterable[T], limit: int = LIMIT) -> list[R]:
    """``[call(item) for item in items]``, the calls made concurrently (at
    most ``limit`` at a time, itself at most ``MAX_LIMIT``); the first
    exception raised is raised here, after every call has ended."""
    todo = list(items)
    if len(todo) < 2:
        return [call(item) for item in todo]
    workers = max(1, min(limit, MAX_LIMIT, len(todo)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="together") as pool:
        futures = [pool.submit(call, item) for item in todo]
        return [f.result() for f in futures]


def raise_first(results: Iterable[T | BaseException]) -> list[T]:
    """``results`` when none is an error, else the first error raised: for
    answers gathered with their errors in place (one read serving several
    requests) by a caller that needs them all."""
    found: list[T] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        found.append(result)
    return found
