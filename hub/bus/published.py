"""Accepted events as the bus carries them (see events.bus.PublishedEvent)."""

from __future__ import annotations

import orjson

from hub.application import DossierStore
from hub.log_reader import LoggedEvent, log_page


def published_value(event: LoggedEvent) -> bytes:
    """The JSON value of a record on the events topic."""
    return orjson.dumps(
        {"position": event.position, "record": event.record, "transition": event.transition}
    )


def published_after(store: DossierStore, position: int, limit: int) -> list[LoggedEvent]:
    """Up to ``limit`` accepted events after ``position``, in store order."""
    return log_page(store, start=position + 1, limit=limit)
