"""``dvchub serve``: the API, the inbound consumer, the relay, the projections, the sealer and
the portal connector, together or alone, under one supervisor.

Each part is a supervised service of one process (:mod:`hub.supervisor`), or runs alone in
its own process for scale-out (``--no-api``, ``--no-inbound``, ``--no-relay``,
``--no-projections``). A part that crashes is restarted with backoff and shows in
``/readyz`` and ``/metrics`` meanwhile. With no Kafka configured, the API and the
projections run on the embedded store and rejects go to a file under the data directory.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import structlog
import uvicorn

from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.audit.publish import run_sealer
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import RejectSink
from hub.bus.sources import Source
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
    connector: bool = True  # when DVCHUB_DVCQG_URL is set


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
    settings = hub.settings
    running = registry.workers(
        lambda: ReadModelDatabase(settings),
        lambda registered: projection_source(hub, registered.group_suffix),
    )
    return [
        *(Service(_SERVICE_NAMES.get(w.name, w.name), w.run) for w in running),
        Service("audit-sealer", lambda stop: run_sealer(settings, hub.store, stop)),
    ]


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
            services.supervisor.start_all(projection_services(hub))
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
) -> None:
    """Run the parts (and ``extra`` services) until interrupted."""
    settings = hub.settings
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with running(hub, parts) as services:
        services.supervisor.start_all(extra)
        read_models = ReadModels(settings) if parts.api else None
        try:
            if parts.api and read_models is not None:
                app = create_app(
                    hub,
                    services.credentials,
                    services.rejects,
                    hub.bus.readiness(),
                    read_models,
                    services.supervisor.readiness,
                )
                config = uvicorn.Config(
                    app,
                    host=host,
                    port=port,
                    log_level="warning",
                    access_log=False,
                    http="httptools",  # the C parser and loop: twice the requests per core
                    loop="uvloop",
                )
                bound = config.bind_socket()  # a port in use fails the command at once

                def api(stop: threading.Event) -> None:
                    nonlocal bound
                    if bound.fileno() == -1:  # closed by a run that crashed: bind anew
                        bound = config.bind_socket()
                    _Server(config, stop).run(sockets=[bound])

                services.start("api", api)
                logger.info(
                    "api.listening", url=f"http://{host}:{port}", board=f"http://{host}:{port}/"
                )
            with contextlib.suppress(KeyboardInterrupt):
                while not stopping.wait(0.5):
                    if not services.supervisor.alive():
                        raise SystemExit("every service stopped; see the log")
        finally:
            services.supervisor.shutdown()
            if read_models is not None:
                read_models.close()
