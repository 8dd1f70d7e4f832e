"""Reports (and the board's pages of figures) kept for a short while, so that readers of the
same period do not each sum the read model again.

A report is counted to the end of yesterday (:mod:`projections.as_of`), so the events that
arrive today do not change it; only an event reported late about an earlier day does, and a
kept report shows it once it expires. The key is what the report depends on: the days
counted, the catalogue version and the units with cards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")

#: How long a report is kept, in seconds; the board's pages say the same (max-age).
KEPT_SECONDS = 30


class Kept(Generic[V]):
    """Values kept :data:`KEPT_SECONDS` once made, at most ``size`` of them."""

    def __init__(self, size: int = 64, seconds: float = KEPT_SECONDS) -> None:
        self._kept: TTLCache[Hashable, V] = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()``'s (kept). Two readers missing at
        once may both make it: the same figures, the later kept."""
        with self._lock:
            found = self._kept.get(key)
        if found is not None:
            return found
        made = make()
        with self._lock:
            self._kept[key] = made
        return made

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
