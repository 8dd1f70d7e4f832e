"""Where signed checkpoints go: files in the audit directory, and the checkpoints topic."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable

import psycopg
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
        self.bootstrap = settings.kafka_bootstrap
        self.topic, self.origin = settings.kafka_checkpoints_topic, settings.audit_origin
        self.producer: KafkaProducer | None = None  # made when first needed: Kafka may be away

    def __call__(self, checkpoint: SignedCheckpoint) -> None:
        if self.producer is None:
            self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=5)
        self.producer.send(
            self.topic, key=self.origin.encode(), value=checkpoint.note.encode()
        ).get(timeout=30)

    def close(self) -> None:
        if self.producer is not None:
            self.producer.close(timeout=10)
            self.producer = None


def publisher(settings: HubSettings) -> Callable[[SignedCheckpoint], None]:
    """Publish to the audit directory and, with Kafka, to the checkpoints topic."""
    kafka = KafkaCheckpoints(settings) if settings.kafka_bootstrap else None

    def publish(checkpoint: SignedCheckpoint) -> None:
        path = publish_file(settings.audit_dir, checkpoint)
        if kafka is not None:
            kafka(checkpoint)
        logger.info("audit.checkpoint_published", tree_size=checkpoint.size, file=str(path))

    return publish


def sealer(
    settings: HubSettings,
    store: DossierStore,
    publish: Callable[[SignedCheckpoint], None] | None = None,
) -> Sealer:
    """A sealer of ``store`` signing with the hub's key, publishing with ``publish``
    (default: :func:`publisher`)."""
    signer = load_signer(settings.audit_origin, settings.audit_key_path)
    return Sealer(ReadModelDatabase(settings), store, signer, publish or publisher(settings))


#: How long the sealer waits before trying again after its database failed.
RETRY_SECONDS = 5.0
#: Failures that mean the database (or the way to it) is away: waited for, not raised.
DATABASE_AWAY: tuple[type[Exception], ...] = (psycopg.Error, sqlite3.Error, OSError)


def run_sealer(settings: HubSettings, store: DossierStore, stop: threading.Event) -> None:
    """Seal new events every second and sign a checkpoint at the configured interval (and
    once more on the way out). Another process holding the sealer's lock does the work
    meanwhile; this one waits to take over. A database that goes away is waited for: the
    sealer connects again, takes the lock again and carries on from the seals stored. Any
    other failure is raised to the supervisor, which restarts the sealer with backoff and
    shows it in ``/readyz`` (:mod:`hub.supervisor`), as it does every service."""
    publish = publisher(settings)
    worker: Sealer | None = None
    last = time.monotonic()
    try:
        while True:
            try:
                if worker is None:
                    worker = sealer(settings, store, publish)
                    while not worker.lock():
                        if stop.wait(RETRY_SECONDS):
                            return
                stopping = stop.wait(1.0)
                worker.seal()
                if stopping or time.monotonic() - last >= settings.audit_checkpoint_seconds:
                    worker.checkpoint()
                    last = time.monotonic()
                if stopping:
                    return
            except DATABASE_AWAY:
                logger.exception("audit.seal_failed", retry_in=RETRY_SECONDS)
                _close(worker)
                worker = None
                if stop.wait(RETRY_SECONDS):
                    return
    finally:
        _close(worker)  # its connection holds the sealer's lock: let the next one take it


def _close(worker: Sealer | None) -> None:
    if worker is not None:
        with contextlib.suppress(Exception):
            worker.db.close()
