"""The one exception the contract raises: an event that cannot be accepted, and why."""

from __future__ import annotations

from events.reasons import RejectReason


class EventRejected(Exception):
    """An event was refused; ``reason`` is machine-readable, ``message`` is for people.

    ``field`` names the offending field as a dotted path when one is to blame.
    """

    def __init__(self, reason: RejectReason, message: str, field: str | None = None) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.field = field
