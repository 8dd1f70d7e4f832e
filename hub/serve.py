"""``dvchub serve``: the API, the inbound consumer and the relay, together or alone.

Each part runs in its own thread of one process, or alone in its own process for scale-out
(``--no-api``, ``--no-inbound``, ``--no-relay``, ``--no-projections``). With no Kafka
configured, the API and the projections run on the embedded store and rejects go to a file
under the data directory.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import structlog
import uvicorn
from kafka import KafkaAdminClient

from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.api.progress import ReadModels
from hub.audit.publish import run_sealer
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.inbound import InboundConsumer
from hub.bus.rejects import FileRejectSink, KafkaRejectSink, RejectSink
from hub.bus.relay import Relay
from hub.bus.sources import Source, bus_source
from hub.bus.topics import wait_for_topics
from projections.reuse.worker import PROJECTION as REUSE_INDEX
from projections.reuse.worker import ReuseIndexWorker
from projections.runner import ProgressWorker

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
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        def run() -> None:
            try:
                target(self.stop)
            except Exception:
                logger.exception("service.crashed", service=name)
                raise

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if isinstance(self.rejects, KafkaRejectSink):
            self.rejects.close()
        self.credentials.close()
        self.hub.close()


def projection_source(hub: Hub, projection: str = "") -> Source:
    """Where a projection's workers read the bus. Each projection other than progress has
    its own consumer group (``<projections group>.<projection>``) and so its own offsets."""
    settings = hub.settings
    suffix = f".{projection}" if projection else ""
    return bus_source(
        hub.store,
        settings.kafka_bootstrap,
        settings.kafka_events_topic,
        settings.kafka_projections_group + suffix,
        f"dvchub-projections{suffix}-{settings.instance_id}",
        settings.kafka_poll_records,
    )


def kafka_readiness(bootstrap: str) -> Callable[[], None]:
    def check() -> None:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000)
        admin.close()

    return check


@contextlib.contextmanager
def running(hub: Hub, parts: Parts) -> Iterator[Services]:
    """Start the background parts; stop them on exit."""
    settings = hub.settings
    credentials = CredentialStore(settings)
    rejects: RejectSink
    if settings.kafka_bootstrap:
        rejects = KafkaRejectSink(settings.kafka_bootstrap, settings.kafka_rejects_topic)
    else:
        rejects = FileRejectSink(settings.data_dir / "rejects" / "http.jsonl")
    services = Services(hub, credentials, rejects)
    try:
        if settings.kafka_bootstrap:
            wait_for_topics(settings, services.stop)  # a broker away at start is waited for
        if settings.kafka_bootstrap and parts.inbound:
            consumer = InboundConsumer(settings, hub.ingestor, credentials, settings.instance_id)
            services.start("inbound", consumer.run)
        if settings.kafka_bootstrap and parts.relay:
            services.start("relay", Relay(settings, hub.store).run)
        if parts.projections:
            worker = ProgressWorker(ReadModelDatabase(settings), projection_source(hub))
            services.start("projections", worker.run)
            index = ReuseIndexWorker(
                ReadModelDatabase(settings), projection_source(hub, REUSE_INDEX)
            )
            services.start("reuse-index", index.run)
            services.start("audit-sealer", lambda stop: run_sealer(settings, hub.store, stop))
        if parts.connector and settings.dvcqg_url:
            from hub.cli_connector import connector_tasks

            for name, task in connector_tasks(hub):
                services.start(name, task)
        yield services
    finally:
        services.shutdown()


def serve(
    hub: Hub,
    parts: Parts,
    host: str,
    port: int,
    extra: Sequence[tuple[str, Callable[[threading.Event], None]]] = (),
) -> None:
    """Run the parts (and ``extra`` background tasks) until interrupted."""
    settings = hub.settings
    with running(hub, parts) as services:
        for name, target in extra:
            services.start(name, target)
        if parts.api:
            readiness = (
                kafka_readiness(settings.kafka_bootstrap) if settings.kafka_bootstrap else None
            )
            read_models = ReadModels(settings)
            app = create_app(hub, services.credentials, services.rejects, readiness, read_models)
            logger.info(
                "api.listening", url=f"http://{host}:{port}", board=f"http://{host}:{port}/"
            )
            try:
                uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
            finally:
                read_models.close()
        else:
            signal.signal(signal.SIGTERM, lambda *_: services.stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                while not services.stop.wait(1.0):
                    if not all(t.is_alive() for t in services.threads):
                        raise SystemExit("a service thread stopped; see the log")
