"""Consume ``dvc.dossier-actions.v1`` into the store; send what is refused to the rejects topic.

For each batch of records polled:

1. every record is admitted or refused: its credential (the ``authorization`` header), its
   JSON, its codes, the units its credential may publish for;
2. the admitted events go through the one ingest path (lifecycle, duplicates) and are stored
   in one transaction;
3. the rejects and the batch's consumed offsets are committed in one Kafka transaction.

A crash after 2 and before 3 delivers the batch again: its events are then answered as
duplicates and store nothing, and its rejects are produced again in a new transaction (the
interrupted one is aborted). So every record ends up stored once or rejected once, and a
poison record is one reject among the others: it never stalls its partition. If the store
cannot be written, the batch is not committed: the consumer seeks back and tries again.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import structlog
from eventsourcing.persistence import PersistenceError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from events.bus import AUTHORIZATION_HEADER
from events.errors import EventRejected, shown
from events.models import DossierEvent
from events.reasons import RejectReason
from hub import metrics
from hub.auth.bearer import MalformedAuthorizationError, bearer_token
from hub.auth.credentials import Principal
from hub.auth.store import AuthenticationError, CredentialStore
from hub.bus.backoff import Backoff
from hub.bus.rejects import Reject
from hub.domain.ownership import Publisher, Transport
from hub.ingest import Ingestor, Outcome, admit, publisher_of
from hub.settings import HubSettings

logger = structlog.get_logger("hub.bus.inbound")


class InboundConsumer:
    def __init__(
        self,
        settings: HubSettings,
        ingestor: Ingestor,
        credentials: CredentialStore,
        instance: str,
    ) -> None:
        assert settings.kafka_bootstrap is not None
        self.settings = settings
        self.ingestor = ingestor
        self.credentials = credentials
        self.instance = instance
        self.transactional_id = f"{settings.kafka_inbound_group}-{instance}"
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set. The broker may be away at any time, the start
        included: the consumer and the producer are made (again) once it answers."""
        backoff = Backoff()
        try:
            while not stop.is_set():
                try:
                    polled = self._consumer().poll(timeout_ms=500)
                except KafkaError as error:  # the broker is away: wait for it, lose nothing
                    logger.warning("inbound.poll_failed", error=repr(error))
                    stop.wait(backoff.next())
                    continue
                records = [r for batch in polled.values() for r in batch]
                if not records:
                    continue
                try:
                    self._handle(records)
                    backoff.reset()
                except (PersistenceError, KafkaError) as error:
                    logger.warning("inbound.batch_failed", error=repr(error), records=len(records))
                    self._rewind(records)
                    self._drop_producer()
                    stop.wait(backoff.next())
        finally:  # anything else is a crash: the supervisor starts it again, afresh
            self._drop_producer()
            if self.consumer is not None:
                with contextlib.suppress(KafkaError):
                    self.consumer.close()
                self.consumer = None

    def _consumer(self) -> KafkaConsumer:
        if self.consumer is None:
            settings = self.settings
            self.consumer = KafkaConsumer(
                settings.kafka_actions_topic,
                bootstrap_servers=settings.kafka_bootstrap,
                group_id=settings.kafka_inbound_group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                max_poll_records=settings.kafka_poll_records,
                max_partition_fetch_bytes=8 * 2**20,
                fetch_max_bytes=64 * 2**20,
                client_id=f"dvchub-inbound-{self.instance}",
            )
        return self.consumer

    def _handle(self, records: list[ConsumerRecord]) -> None:
        known: dict[tuple[Any, ...], Principal | Exception] = {}  # one check per credential
        admitted = [self._admit(record, known) for record in records]
        outcomes = self.ingestor.submit_items(
            [item for item, _ in admitted], [by for _, by in admitted]
        )
        metrics.count("kafka", outcomes)
        rejects = [
            Reject(
                original=record.value or b"",
                outcome=outcome,
                source=f"kafka:{record.topic}/{record.partition}/{record.offset}",
                key=record.key,
            )
            for record, outcome in zip(records, outcomes, strict=True)
            if outcome.status == "rejected"
        ]
        producer = self._producer()
        producer.begin_transaction()
        for reject in rejects:
            producer.send(
                self.settings.kafka_rejects_topic,
                key=reject.key,
                value=reject.original,
                headers=reject.headers(),
            )
        consumer = self._consumer()
        producer.send_offsets_to_transaction(_next_offsets(records), consumer.group_metadata())
        producer.commit_transaction()
        self._report_lag()

    def _admit(
        self, record: ConsumerRecord, known: dict[tuple[Any, ...], Principal | Exception]
    ) -> tuple[DossierEvent | Outcome, Publisher]:
        """Authenticate and parse one record; ``known`` keeps the batch's answers per
        authorisation header (the records of a batch mostly share one)."""
        values = tuple(v for k, v in record.headers or [] if k.lower() == AUTHORIZATION_HEADER)
        if values not in known:
            try:
                known[values] = self.credentials.authenticate(bearer_token(list(values)))
            except (AuthenticationError, MalformedAuthorizationError) as error:
                known[values] = error
        principal = known[values]
        if isinstance(principal, Exception):
            refusal = EventRejected(
                RejectReason.UNAUTHENTICATED,
                f"{principal}; send one header '{AUTHORIZATION_HEADER}: Bearer <API key>'",
            )
            return Outcome.rejected(refusal), publisher_of(None, Transport.KAFKA)
        item = admit(record.value or b"", principal)
        by = publisher_of(principal, Transport.KAFKA)
        if isinstance(item, Outcome) or record.key == item.dossier_code.encode():
            return item, by
        refusal = EventRejected(
            RejectReason.KEY_NOT_DOSSIER_CODE,
            f"the record's key is {_key_shown(record.key)}, not the event's dossier code "
            f"{item.dossier_code}: key every record by its dossier code, which keeps a "
            "dossier's events in one partition, in order",
        )
        return Outcome.rejected(refusal, item), by

    def _producer(self) -> KafkaProducer:
        if self.producer is None:
            self.producer = KafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                transactional_id=self.transactional_id,
                client_id=f"{self.transactional_id}-rejects",
            )
            self.producer.init_transactions()
        return self.producer

    def _drop_producer(self) -> None:
        if self.producer is not None:
            with contextlib.suppress(KafkaError):
                self.producer.close(timeout=5)
            self.producer = None

    def _rewind(self, records: list[ConsumerRecord]) -> None:
        first: dict[TopicPartition, int] = {}
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            first[tp] = min(first.get(tp, record.offset), record.offset)
        consumer = self._consumer()
        assigned = consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:  # a partition lost in a rebalance resumes at its new owner
                consumer.seek(tp, offset)

    def _report_lag(self) -> None:
        lag = 0
        consumer = self._consumer()
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                lag += max(0, high - consumer.position(tp))
        metrics.INBOUND_LAG.set(lag)


def _next_offsets(records: list[ConsumerRecord]) -> dict[TopicPartition, OffsetAndMetadata]:
    offsets: dict[TopicPartition, OffsetAndMetadata] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        current = offsets.get(tp)
        if current is None or record.offset + 1 > current.offset:
            offsets[tp] = OffsetAndMetadata(record.offset + 1, "", -1)
    return offsets


def _key_shown(key: bytes | None) -> str:
    return "missing" if key is None else shown(key.decode("utf-8", errors="replace"))
