"""How many events a consumer of the events topic has yet to read, partition by partition.

The relay writes the topic in transactions, so every committed batch leaves a commit marker
at the end of each partition it wrote: the end offset of a partition is past its last event,
and ``end - next offset`` overstates the backlog by one per batch (a consumer that has read
everything would show a lag of 1). The records themselves are therefore counted, read as a
``read_committed`` consumer reads them, up to a cap so that a long backlog costs little.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

#: Records counted at most per partition and offset; a longer backlog is shown as "at least".
CAP = 10_000


@dataclass(frozen=True, slots=True)
class Backlog:
    records: int
    complete: bool  # False: there are at least ``records`` (the cap was reached)

    def __str__(self) -> str:
        return f"{self.records:,} records" if self.complete else f"≥ {self.records:,} records"


def backlogs(
    bootstrap: str, topic: str, starts: Iterable[tuple[int, int]], cap: int = CAP
) -> dict[tuple[int, int], Backlog]:
    """The committed records from each (partition, next offset) to the partition's end.

    Raises :class:`kafka.errors.KafkaError` if the broker does not answer."""
    wanted = sorted(set(starts))
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
        group_id=None,
        client_id="dvchub-status",
    )
    try:
        partitions = {part: TopicPartition(topic, part) for part, _ in wanted}
        consumer.assign(list(partitions.values()))
        ends = consumer.end_offsets(list(partitions.values()))  # the last stable offsets
        return {
            (part, start): _count(consumer, partitions[part], start, ends[partitions[part]], cap)
            for part, start in wanted
        }
    finally:
        consumer.close()


def _count(consumer: KafkaConsumer, tp: TopicPartition, start: int, end: int, cap: int) -> Backlog:
    if start >= end:
        return Backlog(0, True)
    consumer.seek(tp, start)
    records = 0
    idle = 0
    while consumer.position(tp) < end and records < cap and idle < 10:
        batch = consumer.poll(timeout_ms=500, max_records=min(1_000, cap - records)).get(tp, [])
        idle = 0 if batch else idle + 1
        records += sum(1 for record in batch if record.offset < end)
    return Backlog(records, consumer.position(tp) >= end)
