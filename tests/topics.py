"""Reading a topic as a consumer of the hub's output does, for tests."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer

from hub.settings import HubSettings


def read_committed(settings: HubSettings, topic: str, until: int, timeout: float) -> list[Any]:
    """Committed records of ``topic`` from the start, until ``until`` are read or time out."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=2_000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < until and time.monotonic() < deadline:
            records.extend(consumer)
    finally:
        consumer.close()
    return records
