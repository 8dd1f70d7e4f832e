"""The bus the hub runs on, chosen once from the settings: Kafka when
``DVCHUB_KAFKA_BOOTSTRAP`` is set, else the embedded log (the store itself). Everything that
reads accepted events, keeps rejects or waits for the bus asks the :class:`Bus`, never the
settings; the Kafka client is loaded only by a hub on Kafka."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hub.application import DossierStore
from hub.bus.sources import LogSource, Source
from hub.settings import HubSettings

if TYPE_CHECKING:
    from hub.bus.rejects import RejectSink


class Bus(Protocol):
    @property
    def embedded(self) -> bool:
        """True: no broker; readers page through the store's log."""
        ...

    def source(self, group: str, client_id: str) -> Source:
        """Accepted events for consumer group ``group`` (each group keeps its own offsets)."""
        ...

    def rejects(self) -> RejectSink:
        """Where the HTTP API keeps what it refused."""
        ...

    def readiness(self) -> Callable[[], None] | None:
        """A check that raises while the bus does not answer (none for the embedded log)."""
        ...

    def wait_until_ready(self, stop: threading.Event) -> bool:
        """Wait for the bus (its topics made) unless ``stop`` is set first."""
        ...


@dataclass(frozen=True)
class EmbeddedBus:
    settings: HubSettings
    store: DossierStore
    embedded: bool = True

    def source(self, group: str, client_id: str) -> Source:
        return LogSource(self.store)

    def rejects(self) -> RejectSink:
        from hub.bus.rejects import FileRejectSink

        return FileRejectSink(self.settings.data_dir / "rejects" / "http.jsonl")

    def readiness(self) -> Callable[[], None] | None:
        return None

    def wait_until_ready(self, stop: threading.Event) -> bool:
        return not stop.is_set()


@dataclass(frozen=True)
class KafkaBus:
    settings: HubSettings
    bootstrap: str
    embedded: bool = False

    def source(self, group: str, client_id: str) -> Source:
        from hub.bus.kafka_source import KafkaSource

        settings = self.settings
        return KafkaSource(
            self.bootstrap,
            settings.kafka_events_topic,
            group,
            client_id,
            settings.kafka_poll_records,
        )

    def rejects(self) -> RejectSink:
        from hub.bus.rejects import KafkaRejectSink

        return KafkaRejectSink(self.bootstrap, self.settings.kafka_rejects_topic)

    def readiness(self) -> Callable[[], None] | None:
        bootstrap = self.bootstrap

        def check() -> None:
            from kafka import KafkaAdminClient

            KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3_000).close()

        return check

    def wait_until_ready(self, stop: threading.Event) -> bool:
        from hub.bus.topics import wait_for_topics

        return wait_for_topics(self.settings, stop)


def bus_of(settings: HubSettings, store: DossierStore) -> Bus:
    """The bus ``settings`` name: Kafka, or the embedded log of ``store``."""
    if settings.kafka_bootstrap:
        return KafkaBus(settings, settings.kafka_bootstrap)
    return EmbeddedBus(settings, store)
