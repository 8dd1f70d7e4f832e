"""The embedded bus: subscribers read the store's log directly, by polling.

eventsourcing's SQLite recorder has no subscriptions, and its PostgreSQL subscription waits
on NOTIFY without a timeout (upstream issue #305), so the log is polled. Subscribers get the
same :class:`events.bus.PublishedEvent` values, in the same order, as Kafka consumers of the
events topic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from events.bus import PublishedEvent
from hub.application import DossierStore
from hub.bus.published import published_value
from hub.log_reader import log_page


class InProcessBus:
    def __init__(self, store: DossierStore, poll_seconds: float = 0.2, page: int = 1_000) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.page = page

    def read(self, after: int, limit: int | None = None) -> list[PublishedEvent]:
        """Published events after position ``after``, at most ``limit`` of them."""
        events = log_page(self.store, start=after + 1, limit=limit or self.page)
        return [PublishedEvent.model_validate_json(published_value(e)) for e in events]

    def follow(self, after: int, stop: threading.Event) -> Iterator[PublishedEvent]:
        """Every published event after ``after``, as they are stored, until ``stop`` is set."""
        position = after
        while not stop.is_set():
            events = self.read(position)
            yield from events
            if events:
                position = events[-1].position
            else:
                stop.wait(self.poll_seconds)
