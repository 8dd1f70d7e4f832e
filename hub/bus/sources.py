"""Where consumers of published events (projections, connectors) read them from: the
events topic in Kafka, or, embedded, the store's log.

Both give :class:`Delivery` values: the part (Kafka partition; 0 for the log), the offset
to resume from, the event's position in the hub's log, and its record and transition,
decoded only when asked for (events a consumer has already applied are skipped unread).
A consumer keeps its own checkpoints; a source asks it for them (:class:`Resume`) whenever
it is handed parts, so offsets live with the consumer's data, not in Kafka.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from hub.adapters.sql import database_errors
from hub.application import DossierStore
from hub.log_reader import (
    LoggedEvent,
    last_position,
    log_page,
    record_and_transition,
    stored_page,
)

logger = structlog.get_logger("hub.bus.sources")


@dataclass(frozen=True)
class Checkpoint:
    """Where a consumer stands in one part: the last position it applied, and the next
    offset to read (None: unknown, read the part from its start and skip by position)."""

    part: int
    position: int
    offset: int | None


Resume = Callable[[list[int]], dict[int, Checkpoint]]


@dataclass(frozen=True, slots=True)
class Delivery:
    part: int
    offset: int
    position: int
    value: bytes | LoggedEvent

    def decode(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The event's contract record and its transition, as JSON objects; both empty for
        bytes that are not an event's (a row changed behind the hub's back): its readers
        park or quarantine it and go on, as they do an event they cannot use."""
        if isinstance(self.value, LoggedEvent):
            return self.value.record, self.value.transition
        return record_and_transition(self.value) or ({}, {})


class Source(Protocol):
    name: str

    def start(self, resume: Resume) -> None:
        """Begin reading; ``resume(parts)`` gives the checkpoints of parts it is handed."""

    def poll(self, stop: threading.Event) -> list[Delivery]: ...

    def restart(self) -> None:
        """Forget what was read and resume from the checkpoints again."""

    def rewind(self, batch: list[Delivery]) -> None:
        """Read ``batch`` again (it was not applied)."""

    def acknowledge(self, batch: list[Delivery]) -> None:
        """``batch`` is applied and its checkpoint stored: tell the bus, for monitoring only
        (the stored checkpoint is where reading resumes). Never raises."""

    def close(self) -> None: ...


class LogSource:
    """The embedded bus: the store's log, polled (one part, offsets are positions).

    Pages start at ``page`` events; while the reader is behind (a page comes back full) each
    next page is twice as large, up to ``max_page``: a reader catching up on a large log
    writes and checkpoints fewer, larger batches, and one that keeps up reads small pages.
    """

    name = "log"

    def __init__(
        self,
        store: DossierStore,
        page: int = 5_000,
        poll_seconds: float = 0.2,
        max_page: int = 20_000,
    ) -> None:
        if not 0 < page <= max_page:
            raise ValueError(f"page must be between 1 and max_page ({max_page}), got {page}")
        self.store, self.page, self.poll_seconds = store, page, poll_seconds
        self.max_page = max_page
        self._size = page
        self._resume: Resume | None = None
        self._after = 0

    def start(self, resume: Resume) -> None:
        self._resume = resume
        self.restart()

    def restart(self) -> None:
        assert self._resume is not None
        checkpoint = self._resume([0]).get(0)
        self._after = 0 if checkpoint is None else checkpoint.position
        self._size = self.page

    @property
    def next_page(self) -> int:
        """How many events the next poll asks for."""
        return self._size

    def poll(self, stop: threading.Event) -> list[Delivery]:
        # The stored JSON as it is (decoded by each reader, for the fields it needs) rather
        # than domain events: building them was a third of a live projection's time.
        size = self._size
        stored = stored_page(self.store, self._after + 1, size)
        if stored is None:
            stored = [(e.position, e) for e in log_page(self.store, self._after + 1, size)]
        self._size = min(size * 2, self.max_page) if len(stored) >= size else self.page
        if not stored:
            if not stop.is_set():
                stop.wait(self.poll_seconds)
            return []
        self._after = stored[-1][0]
        return [Delivery(0, position, position, value) for position, value in stored]

    def rewind(self, batch: list[Delivery]) -> None:
        if batch:
            self._after = min(self._after, batch[0].position - 1)

    def acknowledge(self, batch: list[Delivery]) -> None:
        """The store's log has no readers to tell."""

    def lag(self) -> int:
        """Events of the log after the last one this source handed out."""
        return max(0, last_position(self.store) - self._after)

    def close(self) -> None:
        """Nothing to release: the store belongs to the caller."""


def _kafka_errors() -> tuple[type[Exception], ...]:
    """Kafka's errors once a Kafka source has loaded the library; none before (an embedded
    hub never imports it, and then no Kafka error can be raised)."""
    errors = sys.modules.get("kafka.errors")
    return () if errors is None else (errors.KafkaError,)


def last_per_part(batch: list[Delivery]) -> dict[int, Delivery]:
    """The last delivery of each part in ``batch``: where each part's checkpoint moves to."""
    last: dict[int, Delivery] = {}
    for delivery in batch:
        last[delivery.part] = delivery
    return last


def consume(
    source: Source,
    handle: Callable[[list[Delivery]], object],
    reconnect: Callable[[], None],
    stop: threading.Event,
    name: str,
    idle: threading.Event | None = None,
) -> None:
    """Poll ``source`` and ``handle`` each batch until ``stop`` is set, then close it.

    A broker that is away is waited for; a batch the database refuses is read again once
    ``reconnect`` has been tried, with the wait doubling up to 30 s. ``idle`` is set whenever
    a poll finds nothing new.
    """
    delay = 0.5
    try:
        while not stop.is_set():
            try:
                batch = source.poll(stop)
            except _kafka_errors() as error:  # the broker is away: wait for it, lose nothing
                logger.warning(f"{name}.poll_failed", error=repr(error))
                stop.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            if not batch:
                if idle is not None:
                    idle.set()
                continue
            if idle is not None:
                idle.clear()
            try:
                handle(batch)
                delay = 0.5
            except database_errors() as error:
                # Not applied: read the same events again once the database answers.
                logger.warning(f"{name}.batch_failed", error=repr(error), size=len(batch))
                source.rewind(batch)
                stop.wait(delay)
                delay = min(delay * 2, 30.0)
                try:
                    reconnect()
                except database_errors() as again:
                    logger.warning(f"{name}.reconnect_failed", error=repr(again))
    finally:
        source.close()
