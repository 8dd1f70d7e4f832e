"""Garbage collection paced by a batch job's own progress.

A job that keeps many objects alive while it runs (the simulator's queue of future events,
the ingest's cache of dossier states) makes CPython's automatic full collections walk all of
them again and again as they grow: a third of the simulator's time went there. Such a job
has few reference cycles, so it turns the automatic collector off and collects once every
``every`` items it has done instead, which bounds what cycles it does make.
"""

from __future__ import annotations

import gc
from types import TracebackType


class PacedCollection:
    """``with PacedCollection(100_000) as gc: ... gc.done(len(batch))``."""

    def __init__(self, every: int) -> None:
        if every <= 0:
            raise ValueError(f"collect every {every} items: must be at least 1")
        self.every = every
        self._since = 0
        self._was_enabled = True

    def __enter__(self) -> PacedCollection:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def done(self, items: int) -> None:
        """``items`` more were done; collect if ``every`` have been since the last time."""
        self._since += items
        if self._since >= self.every:
            self._since = 0
            gc.collect()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._was_enabled:
            gc.enable()
