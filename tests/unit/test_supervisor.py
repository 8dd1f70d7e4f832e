"""One supervisor for every background service: a crash is restarted with backoff and shows
in readiness; a service that stops looking at its stop signal is stuck."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from hub import supervisor as supervision
from hub.supervisor import Service, Supervisor, run_supervised
from tests.waiting import eventually


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    eventually(condition, timeout=timeout, what="the supervisor's state", most=0.02)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervision, "FIRST_BACKOFF", 0.05)


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    running = Supervisor(stuck_after=0.3)
    yield running
    running.shutdown(timeout=5)


def _waits(stop: threading.Event) -> None:
    while not stop.wait(0.02):
        pass


def test_a_crashing_service_is_restarted_and_the_others_go_on(
    supervisor: Supervisor, fast_backoff: None
) -> None:
    crashes = {"left": 2}
    healthy = threading.Event()

    def flaky(stop: threading.Event) -> None:
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("broker gone: secret connection string")
        healthy.set()
        _waits(stop)

    supervisor.start_all([Service("steady", _waits), Service("flaky", flaky)])
    _until(healthy.is_set)
    _until(lambda: supervisor.readiness().ready)
    state = supervisor.readiness().services
    assert state["flaky"] == {"state": "running", "restarts": 2, "last_crash": "RuntimeError"}
    assert state["steady"] == {"state": "running", "restarts": 0}
    assert "secret" not in str(state)


def test_a_service_waiting_out_its_backoff_makes_the_process_not_ready(
    supervisor: Supervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervision, "FIRST_BACKOFF", 30.0)

    def broken(stop: threading.Event) -> None:
        raise OSError("disk full")

    supervisor.start(Service("sealer", broken))
    _until(lambda: supervisor.health["sealer"].state.value == "restarting")
    readiness = supervisor.readiness()
    assert not readiness.ready
    assert readiness.reason == "service sealer is restarting"


def test_a_service_that_returns_on_its_own_has_crashed(
    supervisor: Supervisor, fast_backoff: None
) -> None:
    runs = []

    def quitter(stop: threading.Event) -> None:
        runs.append(1)

    supervisor.start(Service("quitter", quitter))
    _until(lambda: len(runs) >= 2)
    assert supervisor.health["quitter"].last_crash == "returned"


def test_a_service_meant_to_finish_is_done_not_down(supervisor: Supervisor) -> None:
    supervisor.start(Service("demo-feed", lambda stop: None, finishes=True))
    _until(lambda: supervisor.health["demo-feed"].state.value == "done")
    assert supervisor.readiness().ready


def test_a_service_that_stops_looking_at_its_signal_is_stuck(supervisor: Supervisor) -> None:
    release = threading.Event()

    def hangs(stop: threading.Event) -> None:
        stop.is_set()
        release.wait()  # blocked elsewhere: not its stop signal
        _waits(stop)

    supervisor.start_all([Service("hangs", hangs), Service("idle", _waits)])
    _until(lambda: supervisor.readiness().services["hangs"]["state"] == "stuck")
    readiness = supervisor.readiness()
    assert not readiness.ready
    assert readiness.services["idle"]["state"] == "running"
    release.set()
    _until(lambda: supervisor.readiness().ready)


def test_services_stopped_from_outside_end_quietly() -> None:
    stop = threading.Event()
    stopped: list[str] = []

    def records(name: str) -> Callable[[threading.Event], None]:
        def run(lifeline: threading.Event) -> None:
            lifeline.wait()
            stopped.append(name)

        return run

    threading.Timer(0.2, stop.set).start()
    run_supervised([Service("a", records("a")), Service("b", records("b"))], stop)
    assert sorted(stopped) == ["a", "b"]
