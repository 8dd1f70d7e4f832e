"""Where rejected actions go: the rejects topic, or a file in embedded mode.

A reject keeps the action's original bytes and says why, so that nothing sent to the hub is
lost, even when it cannot be accepted.
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import orjson

from events.bus import (
    REJECT_FIELD_HEADER,
    REJECT_MESSAGE_HEADER,
    REJECT_REASON_HEADER,
    REJECT_SOURCE_HEADER,
)

if TYPE_CHECKING:
    from kafka import KafkaProducer

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
            (REJECT_MESSAGE_HEADER, utf8_prefix(outcome.message or "", MESSAGE_BYTES)),
            (REJECT_SOURCE_HEADER, utf8_prefix(self.source, FIELD_BYTES)),
        ]
        if outcome.field:
            headers.append((REJECT_FIELD_HEADER, utf8_prefix(outcome.field, FIELD_BYTES)))
        return headers


MESSAGE_BYTES = 4_000
FIELD_BYTES = 300


def utf8_prefix(text: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``text`` as UTF-8, cut between characters, never inside
    one: a consumer in any language reads valid UTF-8. Lone surrogates become '?'."""
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= limit:
        return encoded
    return encoded[:limit].decode("utf-8", errors="ignore").encode("utf-8")


class RejectSink(Protocol):
    def publish(self, rejects: list[Reject]) -> None:
        """Keep ``rejects`` durably before returning."""

    def close(self) -> None:
        """Release what it holds (a producer); nothing for a file."""


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
                from kafka import KafkaProducer

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
    """Rejects appended to a JSON-lines file (embedded mode), readable by its owner only
    (rejected events may hold applicants' details). Past ``rotate_bytes`` the file is
    renamed with the time it was closed (``http.jsonl`` to ``http.20210315T090000Z.jsonl``)
    and a new one begun: nothing is deleted."""

    def __init__(self, path: Path, rotate_bytes: int = 64 * 2**20) -> None:
        self.path = path
        self.rotate_bytes = rotate_bytes
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
        with self._lock:
            self._rotate_if_full()
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "ab") as out:
                out.write(lines)

    def close(self) -> None:
        """Each publish opens and closes the file: nothing held."""

    def _rotate_if_full(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size >= self.rotate_bytes:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self.path.rename(self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}"))


def purge_applicant(directory: Path, applicant_hash: str) -> int:
    """Blank the original bytes of every reject in ``directory``'s files that names the
    applicant (their identity hash): after an erasure their details must not survive in a
    rejected copy. The reject itself (where, why) stays. How many were blanked."""
    needle = applicant_hash.encode()
    blanked = 0
    for path in sorted(directory.glob("*.jsonl")):
        kept: list[bytes] = []
        changed = False
        with path.open("rb") as lines:
            for line in lines:
                row = orjson.loads(line)
                original = base64.b64decode(row.get("original_base64", ""))
                if needle in original:
                    row["original_base64"] = ""
                    row["erased"] = True
                    line = orjson.dumps(row) + b"\n"
                    changed = True
                    blanked += 1
                kept.append(line)
        if changed:
            staged = path.with_suffix(".purging")
            descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.writelines(kept)
                out.flush()
                os.fsync(out.fileno())
            staged.replace(path)
    return blanked
