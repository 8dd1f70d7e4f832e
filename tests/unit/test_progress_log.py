"""The simulator's progress in the logs: at most one line per interval, and one at the end."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hub.simulation.progress_log import ProgressLog
from hub.simulation.publish import PublishReport


def test_progress_is_logged_once_per_interval_and_at_the_end() -> None:
    now = [100.0]
    lines: list[dict[str, Any]] = []

    def log(event: str, **figures: Any) -> None:
        lines.append({"event": event, **figures})

    logged = ProgressLog(total_dossiers=500, every=10.0, clock=lambda: now[0], log=log)
    report = PublishReport()
    for _ in range(30):  # a batch every 2 s for a minute
        now[0] += 2.0
        report.published += 1_000
        report.outcomes.update(Counter(accepted=990, duplicate=10))
        logged.update(report)
    logged.done(report)
    progress = [line for line in lines if line["event"] == "simulate.progress"]
    assert [line["published"] for line in progress] == [
        5_000,
        10_000,
        15_000,
        20_000,
        25_000,
        30_000,
    ]
    assert progress[0]["per_second"] == 500
    assert progress[0]["dossiers"] == 500
    assert lines[-1]["event"] == "simulate.done"
    assert lines[-1]["outcomes"] == {"accepted": 29_700, "duplicate": 300}
    assert lines[-1]["seconds"] == 60.0
