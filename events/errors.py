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


#: The most of an agency's own input a refusal's message repeats.
ECHO_LIMIT = 40


def shown(value: object) -> str:
    """``value`` as a refusal may repeat it: a short prefix of its text, never all of it
    (a message must not carry back a megabyte someone sent)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > ECHO_LIMIT:
        text = text[:ECHO_LIMIT] + "…"
    return repr(text) if isinstance(value, str) else text
