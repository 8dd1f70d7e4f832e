"""Waiting on a condition, never on a clock: ``eventually`` polls the condition itself, soon
at first and then less often, and fails with what it was waiting for and what it last saw."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotYet(AssertionError):
    """The condition did not hold in time."""


def eventually(
    condition: Callable[[], T],
    *,
    timeout: float,
    what: str,
    alive: Callable[[], None] | None = None,
    first: float = 0.02,
    most: float = 1.0,
) -> T:
    """The first truthy answer of ``condition()``, polled until ``timeout`` seconds pass.

    ``alive`` is called on every poll to fail at once when waiting has become pointless
    (a process the condition depends on died): it raises with its own message."""
    deadline = time.monotonic() + timeout
    pause, last = first, None
    while True:
        last = condition()
        if last:
            return last
        if alive is not None:
            alive()
        left = deadline - time.monotonic()
        if left <= 0:
            raise NotYet(f"{what}: not within {timeout:g} s (last seen: {last!r})")
        time.sleep(min(pause, left))
        pause = min(pause * 1.5, most)


def thread_alive(thread: threading.Thread, message: str) -> None:
    """For ``alive``: fail at once when ``thread`` ended."""
    if not thread.is_alive():
        raise AssertionError(message)
