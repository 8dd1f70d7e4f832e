"""Where rejected actions go: the rejects topic, or a file in embedded mode.

A reject keeps the action's original bytes and says why, so that nothing sent to the hub is
lost, even when it cannot be accepted.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson
from kafka import KafkaProducer

from events.bus import (
    REJECT_FIELD_HEADER,
    REJECT_MESSAGE_HEADER,
    REJECT_REASON_HEADER,
    REJECT_SOURCE_HEADER,
)
from hub.ingest import Outcome


@dataclass(frozen=True, slots=True)
class Reject:
    original: bytes
    outcome: Outcome
    source: str  # where it came from: "kafka:<topic>/<partition>/<offset>", "http:<request>"
    key: bytes | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        outcome = self.outcome
        assert outcome.reason is not None
        headers = [
            (REJECT_REASON_HEADER, outcome.reason.value.encode()),
            (REJECT_MESSAGE_HEADER, (outcome.message or "").encode()[:4_000]),
            (REJECT_SOURCE_HEADER, self.source.encode()),
        ]
        if outcome.field:
            headers.append((REJECT_FIELD_HEADER, outcome.field.encode()))
        return headers


class RejectSink(Protocol):
    def publish(self, rejects: list[Reject]) -> None:
        """Keep ``rejects`` durably before returning."""


class KafkaRejectSink:
    """Rejects onto the rejects topic, with an idempotent producer, made when first needed
    (so the hub starts while the broker is away; ``publish`` raises :class:`KafkaError`
    until it answers)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _ready(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=5,
                )
            return self._producer

    def publish(self, rejects: list[Reject]) -> None:
        producer = self._ready()
        futures = [
            producer.send(self.topic, key=r.key, value=r.original, headers=r.headers())
            for r in rejects
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close()
                self._producer = None


class FileRejectSink:
    """Rejects appended to a JSON-lines file (embedded mode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def publish(self, rejects: list[Reject]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = b"".join(
            orjson.dumps(
                {
                    "source": r.source,
                    "headers": {name: value.decode() for name, value in r.headers()},
                    "original_base64": base64.b64encode(r.original).decode("ascii"),
                }
            )
            + b"\n"
            for r in rejects
        )
        with self._lock, self.path.open("ab") as out:
            out.write(lines)
