"""Publish a scenario's events through a normal ingest path: the store's ingest (embedded),
the Kafka actions topic, or the HTTP API."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

import httpx
import orjson
import stamina

from events.bus import AUTHORIZATION_HEADER
from hub.ingest import Ingestor


@dataclass
class PublishReport:
    published: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)


class Sink(Protocol):
    def send(self, batch: list[dict[str, Any]], report: PublishReport) -> None: ...

    def close(self) -> None: ...


class StoreSink:
    """The embedded path: straight into the ingest service (lifecycle, duplicates, store)."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor

    def send(self, batch: list[dict[str, Any]], report: PublishReport) -> None:
        for outcome in self.ingestor.submit_json(batch):
            report.outcomes[outcome.status] += 1
            if outcome.reason is not None:
                report.reasons[outcome.reason.value] += 1

    def close(self) -> None:
        """The ingestor belongs to the caller."""


class NotAcknowledged(Exception):
    """Events the broker did not acknowledge: they may not be on the actions topic."""

    def __init__(self, failed: int, first: BaseException) -> None:
        super().__init__(f"{failed:,} events were not acknowledged by Kafka (first: {first!r})")
        self.failed, self.first = failed, first


class KafkaSink:
    """The actions topic, keyed by dossier code, with a publisher's API key in a header.

    Sends are not waited for one by one; :meth:`close` waits for all of them and raises
    :class:`NotAcknowledged` if the broker did not take some."""

    def __init__(self, bootstrap: str, topic: str, api_key: str) -> None:
        from kafka import KafkaProducer  # the Kafka client only for this path

        self.topic = topic
        self.headers = [(AUTHORIZATION_HEADER, f"Bearer {api_key}".encode())]
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            linger_ms=20,
            batch_size=512 * 1024,
            client_id="dvchub-simulate",
        )
        self._lock = threading.Lock()  # failures are counted on the producer's I/O thread
        self._failed = 0
        self._first: BaseException | None = None

    def _on_error(self, error: BaseException) -> None:
        with self._lock:
            self._failed += 1
            self._first = self._first or error

    def send(self, batch: list[dict[str, Any]], report: PublishReport) -> None:
        for event in batch:
            self.producer.send(
                self.topic,
                key=event["dossier_code"].encode(),
                value=orjson.dumps(event),
                headers=self.headers,
            ).add_errback(self._on_error)
        report.outcomes["sent"] += len(batch)

    def close(self) -> None:
        try:
            self.producer.flush()
        finally:
            self.producer.close()
        if self._first is not None:
            raise NotAcknowledged(self._failed, self._first)


class HttpSink:
    """POST /v1/events in batches, retried on connection errors and 5xx answers."""

    def __init__(self, url: str, api_key: str) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
        )

    def send(self, batch: list[dict[str, Any]], report: PublishReport) -> None:
        body = orjson.dumps(batch)
        for attempt in stamina.retry_context(on=_retryable, attempts=10, timeout=120):
            with attempt:
                answer = self.client.post(
                    "/v1/events", content=body, headers={"Content-Type": "application/json"}
                )
                answer.raise_for_status()
        data = answer.json()
        for status in ("accepted", "duplicate", "rejected"):
            report.outcomes[status] += data[status]
        for result in data["results"]:
            if result.get("reason"):
                report.reasons[result["reason"]] += 1

    def close(self) -> None:
        self.client.close()


def _retryable(error: Exception) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    return isinstance(error, httpx.TransportError)


def batches(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch
