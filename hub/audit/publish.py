"""Where signed checkpoints go: files in the audit directory, and the checkpoints topic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from kafka import KafkaProducer

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.audit.checkpoints import SignedCheckpoint, load_signer, publish_file
from hub.audit.sealer import Sealer
from hub.settings import HubSettings

logger = structlog.get_logger("hub.audit.publish")


class KafkaCheckpoints:
    """Publishes each checkpoint on the checkpoints topic, keyed by the log's origin."""

    def __init__(self, settings: HubSettings) -> None:
        assert settings.kafka_bootstrap is not None
        self.topic, self.origin = settings.kafka_checkpoints_topic, settings.audit_origin
        self.producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, acks="all", retries=5
        )

    def __call__(self, checkpoint: SignedCheckpoint) -> None:
        self.producer.send(
            self.topic, key=self.origin.encode(), value=checkpoint.note.encode()
        ).get(timeout=30)

    def close(self) -> None:
        self.producer.close(timeout=10)


def publisher(settings: HubSettings) -> Callable[[SignedCheckpoint], None]:
    """Publish to the audit directory and, with Kafka, to the checkpoints topic."""
    kafka = KafkaCheckpoints(settings) if settings.kafka_bootstrap else None

    def publish(checkpoint: SignedCheckpoint) -> None:
        path = publish_file(settings.audit_dir, checkpoint)
        if kafka is not None:
            kafka(checkpoint)
        logger.info("audit.checkpoint_published", tree_size=checkpoint.size, file=str(path))

    return publish


def sealer(settings: HubSettings, store: DossierStore) -> Sealer:
    signer = load_signer(settings.audit_origin, settings.audit_key_path)
    return Sealer(ReadModelDatabase(settings), store, signer, publisher(settings))


def run_sealer(settings: HubSettings, store: DossierStore, stop: threading.Event) -> None:
    """Seal new events every second and sign a checkpoint at the configured interval (and
    once more on the way out). Another process holding the sealer's lock does the work
    meanwhile; this one waits to take over."""
    worker = sealer(settings, store)
    while not worker.lock():
        if stop.wait(5.0):
            return
    last = time.monotonic()
    while True:
        stopping = stop.wait(1.0)
        try:
            worker.seal()
            if stopping or time.monotonic() - last >= settings.audit_checkpoint_seconds:
                worker.checkpoint()
                last = time.monotonic()
        except Exception:
            logger.exception("audit.seal_failed")
            worker.db.connect()  # a new session: the lock must be taken again
            while not worker.lock():
                if stop.wait(5.0):
                    return
        if stopping:
            return
