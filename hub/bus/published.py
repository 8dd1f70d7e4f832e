"""Accepted events as the bus carries them (see events.bus.PublishedEvent)."""

from __future__ import annotations

import orjson

from hub.log_reader import LoggedEvent


def published_value(event: LoggedEvent) -> bytes:
    """The JSON value of a record on the events topic."""
    return orjson.dumps(
        {"position": event.position, "record": event.record, "transition": event.transition}
    )
