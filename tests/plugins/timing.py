"""What the run cost: time per file (set-up, call and tear-down of its tests), printed at
the end after pytest's slowest tests, so that every change sees what it adds."""

from __future__ import annotations

from collections import defaultdict

import pytest

_per_file: defaultdict[str, float] = defaultdict(float)
_tests: defaultdict[str, set[str]] = defaultdict(set)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    _per_file[path] += report.duration
    _tests[path].add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _per_file:
        return
    terminalreporter.section("time per file")
    total = sum(_per_file.values())
    for path, seconds in sorted(_per_file.items(), key=lambda kv: -kv[1]):
        share = seconds / total if total else 0.0
        terminalreporter.write_line(
            f"{seconds:9.1f} s {share:6.1%} {len(_tests[path]):5d} tests  {path}"
        )
    terminalreporter.write_line(f"{total:9.1f} s in all (summed over workers)")
