"""A workload file in two halves and the figures a report gives of it: for the tests that
stop a deployment between the halves (upgrades, backups) and compare it with one that did
not stop."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson

from hub.simulation.workload import Workload

#: The report the comparisons read: the month the workload covers, as JSON.
REPORT = ("report", "--period", "2021-01", "--format", "json")


def halves(directory: Path, days: int = 20, per_day: int = 6) -> tuple[Path, Path]:
    """A workload of ``days`` from 1 January 2021, written as two JSON-lines files."""
    events = Workload(date(2021, 1, 1), days, per_day, seed=2021).events()
    lines = [orjson.dumps(event) + b"\n" for event in events]
    first, second = directory / "first.jsonl", directory / "second.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2 :]))
    return first, second


def figures(stdout: str) -> Any:
    """The report's JSON without the moment it was made."""
    report = orjson.loads(stdout)
    del report["generated_at"]
    return report
