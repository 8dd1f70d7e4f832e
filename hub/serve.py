"""``dvchub serve``: the API, the inbound consumer, the relay, the projections, the sealer and
the portal connector, together or alone, under one supervisor.

Each part is a supervised service of one process (:mod:`hub.supervisor`), or runs alone in
its own process for scale-out (``--role projections``, or ``--no-api``, ``--no-inbound``…).
A part that crashes is restarted with backoff and shows in ``/readyz`` and ``/metrics``
meanwhile; a process without the API answers those on its probe port
(:mod:`hub.api.probes`). With no Kafka configured, the API and the projections run on the
embedded store and rejects go to a file under the data directory.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field

import structlog
import uvicorn
from fastapi import FastAPI

from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.api.probes import Dependencies, create_probe_app
from hub.audit.publish import run_sealer
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import RejectSink
from hub.bus.sources import Source
from hub.service_roles import ServiceRole
from hub.supervisor import Service, Supervisor, Task
from projections import registry
from projections.read_models import ReadModels

logger = structlog.get_logger("hub.serve")


@dataclass
class Parts:
    api: bool = True
    inbound: bool = True
    relay: bool = True
    projections: bool = True
    sealer: bool = True
    connector: bool = True  # when DVCHUB_DVCQG_URL is set

    @classmethod
    def only(cls, roles: Collection[ServiceRole]) -> Parts:
        """The roles given, and no other."""
        return cls(**{role.value: role in roles for role in ServiceRole})


@dataclass
class Services:
    hub: Hub
    credentials: CredentialStore
    rejects: RejectSink
    supervisor: Supervisor = field(default_factory=Supervisor)

    @property
    def stop(self) -> threading.Event:
        return self.supervisor.stop

    def start(self, name: str, target: Task, *, finishes: bool = False) -> None:
        self.supervisor.start(Service(name, target, finishes))

    def shutdown(self) -> None:
        self.supervisor.shutdown()
        self.rejects.close()
        self.credentials.close()
        self.hub.close()


def projection_source(hub: Hub, suffix: str = "") -> Source:
    """Where a projection's workers read the bus: the projections group with the
    projection's suffix (:data:`projections.registry.PROJECTIONS`), so its own offsets."""
    settings = hub.settings
    return hub.bus.source(
        settings.kafka_projections_group + suffix,
        f"dvchub-projections{suffix}-{settings.instance_id}",
    )


def projection_services(hub: Hub) -> list[Service]:
    """The read side of a process: a worker per projection (:mod:`projections.registry`)
    and the sealer."""
    return [*projection_workers(hub), sealer_service(hub)]


def projection_workers(hub: Hub) -> list[Service]:
    """A worker per projection (:mod:`projections.registry`)."""
    settings = hub.settings
    running = registry.workers(
        lambda: ReadModelDatabase(settings),
        lambda registered: projection_source(hub, registered.group_suffix),
    )
    return [Service(_SERVICE_NAMES.get(w.name, w.name), w.run) for w in running]


def sealer_service(hub: Hub) -> Service:
    """The audit sealer: signs a checkpoint of the log when it grew."""
    return Service("audit-sealer", lambda stop: run_sealer(hub.settings, hub.store, stop))


#: Services keep the names operators already watch in /readyz and the logs.
_SERVICE_NAMES = {"unit_progress": "projections", "reuse_index": "reuse-index"}


@contextlib.contextmanager
def running(hub: Hub, parts: Parts) -> Iterator[Services]:
    """Start the background parts; stop them on exit."""
    settings = hub.settings
    credentials = CredentialStore(settings)
    rejects = hub.bus.rejects()
    services = Services(hub, credentials, rejects, Supervisor(settings.service_stuck_seconds))
    try:
        hub.bus.wait_until_ready(services.stop)  # a broker away at start is waited for
        if not hub.bus.embedded and parts.inbound:
            from hub.bus.inbound import InboundConsumer

            consumer = InboundConsumer(settings, hub.ingestor, credentials, settings.instance_id)
            services.start("inbound", consumer.run)
        if not hub.bus.embedded and parts.relay:
            from hub.bus.relay import Relay

            services.start("relay", Relay(settings, hub.store).run)
        if parts.projections:
            services.supervisor.start_all(projection_workers(hub))
        if parts.sealer:
            services.supervisor.start(sealer_service(hub))
        if parts.connector and settings.dvcqg_url:
            from connectors.dvcqg.runtime import connector_tasks

            for name, task in connector_tasks(hub):
                services.start(name, task)
        yield services
    finally:
        services.shutdown()


class _Server(uvicorn.Server):
    """uvicorn, stopped by the supervisor's signal, which it looks at on every tick."""

    def __init__(self, config: uvicorn.Config, stop: threading.Event) -> None:
        super().__init__(config)
        self.stop = stop

    async def on_tick(self, counter: int) -> bool:
        return await super().on_tick(counter) or self.stop.is_set()


def serve(
    hub: Hub,
    parts: Parts,
    host: str,
    port: int,
    extra: Sequence[Service] = (),
    probe_port: int | None = None,
) -> None:
    """Run the parts (and ``extra`` services) until interrupted. The API listens on
    ``host:port``; without it, ``/healthz``, ``/readyz`` and ``/metrics`` are answered on
    ``host:probe_port`` when one is given."""
    settings = hub.settings
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with running(hub, parts) as services:
        services.supervisor.start_all(extra)
        read_models = ReadModels(settings) if parts.api else None
        try:
            if read_models is not None:
                app = create_app(
                    hub,
                    services.credentials,
                    services.rejects,
                    hub.bus.readiness(),
                    read_models,
                    services.supervisor.readiness,
                )
                _listen(services, "api", app, host, port)
                logger.info(
                    "api.listening", url=f"http://{host}:{port}", board=f"http://{host}:{port}/"
                )
            elif probe_port is not None:
                probes = create_probe_app(
                    Dependencies(
                        hub.store,
                        bus=hub.bus.readiness(),
                        services=services.supervisor.readiness,
                    )
                )
                _listen(services, "probes", probes, host, probe_port)
                logger.info("probes.listening", url=f"http://{host}:{probe_port}/readyz")
            with contextlib.suppress(KeyboardInterrupt):
                while not stopping.wait(0.5):
                    if not services.supervisor.alive():
                        raise SystemExit("every service stopped; see the log")
        finally:
            services.supervisor.shutdown()
            if read_models is not None:
                read_models.close()


def _listen(services: Services, name: str, app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` as the supervised service ``name``; the port is bound
    now, so that a port in use fails the command at once."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        http="httptools",  # the C parser and loop: twice the requests per core
        loop="uvloop",
    )
    bound = config.bind_socket()

    def listen(stop: threading.Event) -> None:
        nonlocal bound
        if bound.fileno() == -1:  # closed by a run that crashed: bind anew
            bound = config.bind_socket()
        _Server(config, stop).run(sockets=[bound])

    services.start(name, listen)
