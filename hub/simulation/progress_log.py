"""The simulator's progress in the logs: a province's half-year takes minutes, and an
operator running it as a job reads logs, not a terminal's progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from hub.simulation.publish import PublishReport

logger = structlog.get_logger("hub.simulation")


class ProgressLog:
    """Logs ``simulate.progress`` (events published of the total, the rate, the outcomes so
    far) at most every ``every`` seconds, and ``simulate.done`` at the end."""

    def __init__(
        self,
        total_dossiers: int,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[..., Any] | None = None,
    ) -> None:
        self.total_dossiers, self.every, self.clock = total_dossiers, every, clock
        self.log = log or logger.info
        self.started = self._last = clock()

    def update(self, report: PublishReport) -> None:
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self.log("simulate.progress", **self._figures(report, now))

    def done(self, report: PublishReport) -> None:
        self.log("simulate.done", **self._figures(report, self.clock()))

    def _figures(self, report: PublishReport, now: float) -> dict[str, object]:
        seconds = now - self.started
        return {
            "published": report.published,
            "dossiers": self.total_dossiers,
            "seconds": round(seconds, 1),
            "per_second": round(report.published / seconds) if seconds > 0 else None,
            "outcomes": dict(report.outcomes),
        }
