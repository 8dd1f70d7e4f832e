"""The events topic as a :class:`~hub.bus.sources.Source`: a consumer group whose offsets
live with the read model. Apart from :mod:`hub.bus.sources` so that an embedded hub never
loads the Kafka client.

Reading resumes from the checkpoints stored with the read model (exactly once). Once a
batch is stored, the group's offsets on the broker are moved too, for monitoring alone:
``kafka-consumer-groups --describe`` then shows each group's lag as Kafka's own tools do,
past the relay's transaction markers, and a failed commit there loses nothing."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import structlog
from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from events.bus import POSITION_HEADER
from hub.bus.sources import Delivery, Resume

logger = structlog.get_logger("hub.bus.sources")


class KafkaSource:
    """The events topic, read by a consumer group whose offsets live with the read model.

    The consumer is made on the first poll, not before: a worker started while the broker
    is away waits for it like for any other outage (see :func:`consume`)."""

    def __init__(self, bootstrap: str, topic: str, group: str, client_id: str, poll_records: int):
        self.name = topic
        self.topic = topic
        self._resume: Resume | None = None
        self._config: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": group,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
            "max_poll_records": poll_records,
            "max_partition_fetch_bytes": 8 * 2**20,
            "fetch_max_bytes": 64 * 2**20,
            "client_id": client_id,
        }
        self._consumer: KafkaConsumer | None = None
        # Each partition's next offset after what polls handed out (past transaction
        # markers, which a consumer's position skips and records' offsets do not).
        self._fetched: dict[int, int] = {}
        self._acknowledged: dict[TopicPartition, OffsetAndMetadata] = {}

    def start(self, resume: Resume) -> None:
        self._resume = resume

    @property
    def consumer(self) -> KafkaConsumer:
        """The group's consumer, subscribed (raises :class:`KafkaError` if the broker is away)."""
        if self._consumer is None:
            consumer = KafkaConsumer(**self._config)
            consumer.subscribe([self.topic], listener=_Seeker(self))
            self._consumer = consumer
        return self._consumer

    def poll(self, stop: threading.Event) -> list[Delivery]:
        consumer = self.consumer
        polled = consumer.poll(timeout_ms=500)
        for tp in polled:
            self._fetched[tp.partition] = consumer.position(tp)
        return [_delivery(r) for batch in polled.values() for r in batch]

    def acknowledge(self, batch: list[Delivery]) -> None:
        """Commit the batch's partitions' offsets to the group, asynchronously: monitoring
        only (reading resumes from the stored checkpoints)."""
        if self._consumer is None or not batch:
            return
        consumer = self._consumer
        offsets: dict[int, int] = {}
        for delivery in batch:
            offsets[delivery.part] = max(delivery.offset, self._fetched.get(delivery.part, 0))
        try:
            assigned = {tp.partition for tp in consumer.assignment()}
            commit = {
                TopicPartition(self.topic, part): OffsetAndMetadata(offset, "", -1)
                for part, offset in offsets.items()
                if part in assigned  # a partition given away meanwhile is its new owner's
            }
            self._acknowledged.update(commit)
            consumer.commit_async(commit, callback=_committed)
        except Exception as error:  # monitoring must never stop a worker
            logger.warning("bus.offsets_not_committed", topic=self.topic, error=repr(error))

    def restart(self) -> None:
        if self._consumer is not None:
            self.seek(sorted(tp.partition for tp in self._consumer.assignment()))

    def rewind(self, batch: list[Delivery]) -> None:
        if self._consumer is None:
            return
        for delivery in batch:
            self._fetched.pop(delivery.part, None)
        first: dict[int, int] = {}
        for delivery in batch:
            first.setdefault(delivery.part, delivery.offset - 1)
        assigned = {tp.partition for tp in self.consumer.assignment()}
        for part, offset in first.items():
            if part in assigned:  # a partition lost in a rebalance resumes at its new owner
                self.consumer.seek(TopicPartition(self.topic, part), offset)

    def seek(self, parts: list[int]) -> None:
        assert self._resume is not None
        found = self._resume(parts)
        for part in parts:
            tp = TopicPartition(self.topic, part)
            checkpoint = found.get(part)
            if checkpoint is None or checkpoint.offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, checkpoint.offset)
        logger.info("projections.seek", parts=parts, checkpoints=len(found))

    def lag(self) -> int:
        total = 0
        if self._consumer is None:
            return total
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is not None:
                total += max(0, high - self.consumer.position(tp))
        return total

    def close(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            assigned = set(consumer.assignment()) if self._acknowledged else set()
            last = {tp: o for tp, o in self._acknowledged.items() if tp in assigned}
            if last:  # what an asynchronous commit still had on its way
                try:
                    consumer.commit(last, timeout_ms=5_000)  # a broker away: stop anyway
                except Exception as error:  # monitoring only: the checkpoints hold
                    logger.info("bus.offsets_not_committed", topic=self.topic, error=repr(error))
            self._acknowledged.clear()
            consumer.close()


class _Seeker(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, source: KafkaSource) -> None:
        self.source = source

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Offsets are committed with each batch's read-model transaction: nothing to do."""

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.source.seek(sorted(tp.partition for tp in assigned))


def _committed(offsets: dict[TopicPartition, OffsetAndMetadata], result: object) -> None:
    if isinstance(result, Exception):
        logger.info("bus.offsets_not_committed", error=repr(result), partitions=len(offsets))


def _delivery(record: ConsumerRecord) -> Delivery:
    header = next((v for k, v in record.headers or [] if k == POSITION_HEADER), None)
    value = record.value or b""
    try:
        position = int(header) if header is not None else int(orjson.loads(value)["position"])
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        # Not the relay's: no position in the hub's log. Passed over (as already applied),
        # never a reason to stop reading the partition.
        logger.error(
            "bus.unreadable_record",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
        position = 0
    return Delivery(record.partition, record.offset + 1, position, value)
