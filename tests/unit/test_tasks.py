"""Background tasks of a command: stopped together, and a task that ends alone fails it."""

from __future__ import annotations

import threading

import pytest

from hub.tasks import run_tasks


def _waits(stop: threading.Event) -> None:
    stop.wait()


def _fails(stop: threading.Event) -> None:
    raise RuntimeError("broker gone")


def _returns(stop: threading.Event) -> None:
    return None


def test_a_failing_task_stops_the_others_and_fails_the_command() -> None:
    stop = threading.Event()
    with pytest.raises(SystemExit, match=r"worker stopped \(RuntimeError\('broker gone'\)\)"):
        run_tasks([("waiting", _waits), ("worker", _fails)], stop)
    assert stop.is_set()


def test_a_task_that_returns_on_its_own_fails_the_command() -> None:
    with pytest.raises(SystemExit, match=r"quitter stopped \(it returned\)"):
        run_tasks([("waiting", _waits), ("quitter", _returns)], threading.Event())


def test_tasks_stopped_from_outside_end_quietly() -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    run_tasks([("a", _waits), ("b", _waits)], stop)
    assert stop.is_set()
