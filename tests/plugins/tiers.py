"""Tiers: every test is marked by what it needs, from the fixtures and helpers it uses, so
that ``-m`` selects a lane without anyone remembering to mark a test.

- ``postgres``: a real PostgreSQL server (the ``postgres_url`` fixture, or the postgres
  parameter of ``settings``);
- ``kafka``: a real Kafka broker (the ``kafka`` fixture);
- ``process``: hub commands in child processes (a module that uses ``CliProcess``);
- ``browser``: Chromium (the ``browser`` fixture);
- ``slow``: a province-sized event log (the ``camau`` fixture).

The fast lane a developer runs on every change (``./scripts/test --fast``) is
``-m "not slow and not kafka and not process and not browser"``; the full suite runs all.
"""

from __future__ import annotations

import os

import pytest

TIERS = {
    "postgres": "needs a real PostgreSQL server (one of the run's own unless configured)",
    "kafka": "needs a real Kafka broker (one of the run's own unless configured)",
    "process": "runs hub commands in child processes",
    "browser": "drives Chromium",
    "slow": "needs the province-sized event log (simulated once per run)",
}
BY_FIXTURE = {"postgres_url": "postgres", "kafka": "kafka", "browser": "browser", "camau": "slow"}
PROCESS_HELPERS = ("CliProcess",)


def tiers_of(item: pytest.Item) -> set[str]:
    fixtures = set(getattr(item, "fixturenames", ()))
    tiers = {tier for fixture, tier in BY_FIXTURE.items() if fixture in fixtures}
    module = getattr(item, "module", None)
    if module is not None and any(hasattr(module, name) for name in PROCESS_HELPERS):
        tiers.add("process")
    return tiers


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark each test with its tiers as it is collected, before ``-m`` selects by them."""
    present = {mark.name for mark in item.iter_markers()}
    for tier in sorted(tiers_of(item) - present):
        item.add_marker(getattr(pytest.mark, tier))


class _AfterSelection:
    """After ``-m`` and ``-k`` have selected: if a test that runs needs the province's log,
    it starts being made now, beside the tests, and the slow tests run last, so that by the
    time one needs it, most of it is done; and on different workers."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        slow = [item for item in items if item.get_closest_marker("slow")]
        if not slow:
            return
        from tests import province_log, services

        if not os.environ.get("DVCHUB_TEST_PROVINCE_LOG"):
            services.shared("camau", province_log.start_building)
        # Each slow test is followed by two quick ones, so that under pytest-xdist (handing
        # tests out one at a time, --maxschedchunk 1) no slow test is queued as another's next
        # on the same worker: each runs on the first worker free when its turn comes.
        rest = [item for item in items if not item.get_closest_marker("slow")]
        tail: list[pytest.Item] = []
        for test in slow:
            tail.append(test)
            for _ in range(2):
                if rest:
                    tail.append(rest.pop())
        items[:] = rest + tail


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")
    config.pluginmanager.register(_AfterSelection(), "dvchub-after-selection")
