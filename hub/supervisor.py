"""One supervisor for a process's background services, with one policy.

Every service (the API, the inbound consumer, the relay, the projection workers, the
sealer, the connector) runs in a thread of its own as ``run(stop)``. A service that raises,
or returns without being asked to stop, has crashed: the crash is logged with its
traceback, and the service is started again after a backoff that doubles from one second
up to a minute, and resets once it has run well for a while. Nothing else stops with it.

Health is what operators see in ``/readyz`` and ``/metrics``: a process is ready while
every service is running and none is stuck. A service shows it is alive each time it
looks at its stop signal (every service's loop does, between polls and batches): one
that has not looked for ``stuck_after`` seconds, and is not waiting on it, is stuck.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import structlog
from prometheus_client import Counter, Gauge

logger = structlog.get_logger("hub.supervisor")

Task = Callable[[threading.Event], None]

UP = Gauge("dvchub_service_up", "1 while the service runs and is not stuck", ["service"])
RESTARTS = Counter(
    "dvchub_service_restarts_total", "Times the service crashed and was restarted", ["service"]
)

FIRST_BACKOFF = 1.0
LONGEST_BACKOFF = 60.0
#: Running this long without a crash resets the backoff.
HEALTHY_RUN = 60.0


class State(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"  # crashed; waiting out its backoff
    DONE = "done"  # a service meant to finish has finished
    STOPPED = "stopped"


@dataclass(frozen=True)
class Service:
    name: str
    run: Task
    #: A service that ends its work on its own (a demo feed): returning is not a crash.
    finishes: bool = False


class Lifeline(threading.Event):
    """A service's stop signal. Each look at it is a sign of life; while the service waits
    on it, it is idle, not stuck."""

    def __init__(self) -> None:
        super().__init__()
        self.beat = time.monotonic()
        self.waiting = 0

    def is_set(self) -> bool:
        self.beat = time.monotonic()
        return super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        self.beat = time.monotonic()
        self.waiting += 1
        try:
            return super().wait(timeout)
        finally:
            self.waiting -= 1
            self.beat = time.monotonic()

    def silent_for(self) -> float:
        """Seconds since the service last showed it is alive (0 while it waits)."""
        return 0.0 if self.waiting else time.monotonic() - self.beat


@dataclass
class Health:
    name: str
    state: State = State.STARTING
    restarts: int = 0
    last_crash: str | None = None  # the exception's type, never its text
    lifeline: Lifeline = field(default_factory=Lifeline)

    def stuck(self, after: float) -> bool:
        return self.state is State.RUNNING and self.lifeline.silent_for() > after


@dataclass(frozen=True)
class Readiness:
    ready: bool
    services: dict[str, dict[str, object]]
    reason: str | None = None


class Supervisor:
    def __init__(self, stuck_after: float = 120.0) -> None:
        self.stuck_after = stuck_after
        self.stop = threading.Event()
        self.health: dict[str, Health] = {}
        self._threads: list[threading.Thread] = []

    def start(self, service: Service) -> None:
        if service.name in self.health:
            raise ValueError(f"a service named {service.name!r} is already supervised")
        health = self.health[service.name] = Health(service.name)
        thread = threading.Thread(
            target=self._keep, args=(service, health), name=service.name, daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def start_all(self, services: Sequence[Service]) -> None:
        for service in services:
            self.start(service)

    def _keep(self, service: Service, health: Health) -> None:
        log = logger.bind(service=service.name)
        backoff = FIRST_BACKOFF
        while not self.stop.is_set():
            health.lifeline = Lifeline()
            if self.stop.is_set():
                break
            health.state = State.RUNNING
            UP.labels(service.name).set(1)
            started = time.monotonic()
            try:
                service.run(health.lifeline)
            except BaseException as error:  # a service's crash is never the process's
                if self.stop.is_set():
                    break
                health.last_crash = type(error).__name__
                log.error("service.crashed", error_type=type(error).__name__, exc_info=error)
            else:
                if self.stop.is_set() or health.lifeline.is_set():
                    break
                if service.finishes:
                    health.state = State.DONE
                    log.info("service.done")
                    return
                health.last_crash = "returned"
                log.error("service.crashed", error_type="returned")
            if time.monotonic() - started >= HEALTHY_RUN:
                backoff = FIRST_BACKOFF
            health.state = State.RESTARTING
            health.restarts += 1
            UP.labels(service.name).set(0)
            RESTARTS.labels(service.name).inc()
            log.warning("service.restarting", in_seconds=backoff, restarts=health.restarts)
            if self.stop.wait(backoff):
                break
            backoff = min(backoff * 2, LONGEST_BACKOFF)
        health.state = State.STOPPED
        UP.labels(service.name).set(0)

    def readiness(self) -> Readiness:
        """Ready while every service runs (or has done its work) and none is stuck."""
        services: dict[str, dict[str, object]] = {}
        reason = None
        for name, health in self.health.items():
            stuck = health.stuck(self.stuck_after)
            state = "stuck" if stuck else health.state.value
            services[name] = {"state": state, "restarts": health.restarts}
            if health.last_crash is not None:
                services[name]["last_crash"] = health.last_crash
            ok = health.state in (State.RUNNING, State.DONE) and not stuck
            UP.labels(name).set(1 if ok else 0)
            if not ok and reason is None:
                reason = f"service {name} is {state}"
        return Readiness(reason is None, services, reason)

    def alive(self) -> bool:
        """Whether any service thread is still running."""
        return any(thread.is_alive() for thread in self._threads)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Ask every service to stop and wait for them."""
        self.stop.set()
        for health in self.health.values():
            health.lifeline.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("service.did_not_stop", service=thread.name)


def run_supervised(
    services: Sequence[Service], stop: threading.Event, stuck_after: float = 120.0
) -> None:
    """Supervise ``services`` until ``stop`` is set (or every one has finished)."""
    supervisor = Supervisor(stuck_after)
    supervisor.start_all(services)
    try:
        while not stop.wait(0.5):
            if not supervisor.alive():
                break
    finally:
        supervisor.shutdown()
