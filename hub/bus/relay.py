"""Publish the store's accepted events, in store order, to ``dvc.dossier-events.v1``.

Exactly once for read_committed consumers: each batch of events is sent in one Kafka
transaction, and the relay's position is not kept anywhere else than in the topic itself:
every record carries its log position (header ``dvc-position``). On start, and after any
failure, the relay fences a previous instance (``init_transactions`` with the same
transactional id aborts its open transaction) and reads back the highest position committed
on the topic; it resumes after it. An event is therefore on the topic once a transaction
holding it commits, and never twice. Records are keyed by dossier code, so one dossier's
events keep their order in one partition.
"""

from __future__ import annotations

import contextlib
import threading

import structlog
from eventsourcing.persistence import PersistenceError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from events.bus import EVENT_TYPE_HEADER, POSITION_HEADER
from hub import metrics
from hub.application import DossierStore
from hub.bus.backoff import Backoff
from hub.bus.published import published_value
from hub.log_reader import decoded_page, last_position
from hub.settings import HubSettings

logger = structlog.get_logger("hub.bus.relay")


class Relay:
    def __init__(
        self,
        settings: HubSettings,
        store: DossierStore,
        batch: int = 5_000,
        poll_seconds: float = 0.1,
    ) -> None:
        assert settings.kafka_bootstrap is not None
        self.settings = settings
        self.store = store
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.producer: KafkaProducer | None = None
        self.position = 0

    def run(self, stop: threading.Event) -> None:
        backoff = Backoff()
        try:
            while not stop.is_set():
                try:
                    if self.producer is None:
                        self.producer = self._new_producer()
                        self.position = self.committed_position()
                        logger.info("relay.resumed", position=self.position)
                    if not self.publish_next():
                        stop.wait(self.poll_seconds)
                    backoff.reset()
                except (KafkaError, PersistenceError) as error:
                    logger.warning("relay.failed", error=repr(error), position=self.position)
                    self._drop_producer()
                    stop.wait(backoff.next())
        finally:
            self._drop_producer()

    def publish_next(self) -> int:
        """Publish the next batch in one transaction; return how many events it held."""
        assert self.producer is not None
        events = decoded_page(self.store, start=self.position + 1, limit=self.batch)
        if events:
            self.producer.begin_transaction()
            for event in events:
                if not event.record:  # a row the hub could not have stored: not published
                    logger.error("relay.unreadable_event", position=event.position)
                    continue
                self.producer.send(
                    self.settings.kafka_events_topic,
                    key=event.record["dossier_code"].encode(),
                    value=published_value(event),
                    headers=[
                        (POSITION_HEADER, str(event.position).encode()),
                        (EVENT_TYPE_HEADER, event.record["event_type"].encode()),
                    ],
                )
            self.producer.commit_transaction()
            self.position = events[-1].position
        metrics.RELAY_POSITION.set(self.position)
        newest = last_position(self.store)
        metrics.STORE_POSITION.set(newest)
        metrics.RELAY_LAG.set(max(0, newest - self.position))
        return len(events)

    def committed_position(self) -> int:
        """The highest log position in a committed record of the events topic (0 if none)."""
        topic = self.settings.kafka_events_topic
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            isolation_level="read_committed",
            enable_auto_commit=False,
            client_id="dvchub-relay-recovery",
        )
        try:
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
            if not partitions:  # never "nothing published yet": that would publish it all again
                raise KafkaError(f"no partitions known for {topic} yet")
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            begins = consumer.beginning_offsets(partitions)
            return max(
                (_last_position(consumer, tp, begins[tp], ends[tp]) for tp in partitions), default=0
            )
        finally:
            consumer.close()

    def _new_producer(self) -> KafkaProducer:
        producer = KafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            transactional_id=self.settings.kafka_relay_transactional_id,
            client_id="dvchub-relay",
            linger_ms=5,
            batch_size=256 * 1024,
            compression_type=None,
        )
        producer.init_transactions()
        return producer

    def _drop_producer(self) -> None:
        if self.producer is not None:
            with contextlib.suppress(KafkaError):
                self.producer.close(timeout=5)
            self.producer = None


def _last_position(consumer: KafkaConsumer, tp: TopicPartition, begin: int, end: int) -> int:
    """The position header of the last committed data record of one partition."""
    window = 16
    while True:
        start = max(begin, end - window)
        consumer.seek(tp, start)
        found = 0
        idle = 0
        while consumer.position(tp) < end:
            records = consumer.poll(timeout_ms=1_000, max_records=1_000).get(tp, [])
            idle = 0 if records else idle + 1
            if idle > 30:
                raise KafkaError(f"could not read {tp} up to offset {end} to find the position")
            for record in records:
                for name, value in record.headers or []:
                    if name == POSITION_HEADER:
                        found = max(found, int(value))
        if found or start == begin:
            return found
        window *= 8
