"""What the progress projection needs of an accepted event, and nothing more.

Reading only these fields keeps a rebuild fast: the rebuild decodes only them from the
stored JSON (:func:`fact_from_json`, :mod:`projections.progress.log_scan`), and so does the
live runner from the bus's bytes (Kafka's record, the embedded log's stored JSON); a record
already decoded gives its fact with :func:`fact_of`. They must agree; a test compares them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

import msgspec

from hub.domain.vietnam import VIETNAM


class Fact(NamedTuple):
    position: int
    dossier_code: str
    event_type: str
    unit_code: str
    day: date  # the day it occurred, in Vietnam
    status_after: int
    counted_due_day: date | None  # the counted due date after it, in Vietnam
    procedure_code: str | None
    channel: int | None
    return_method: int | None
    #: The competent authority a dossier was received for, when not the receiving unit.
    authority_code: str | None = None


def vietnam_day(instant: str) -> date:
    """The date in Vietnam of an RFC 3339 instant."""
    if instant.endswith("+07:00"):  # Vietnam has kept UTC+7 since 1975: the date is as written
        return date.fromisoformat(instant[:10])
    return datetime.fromisoformat(instant).astimezone(VIETNAM).date()


def fact_of(position: int, record: dict[str, Any], transition: dict[str, Any]) -> Fact:
    """The fact of a published event (its ``record`` and ``transition`` as JSON objects)."""
    payload = record["payload"]
    due = transition.get("counted_due_after")
    return Fact(
        position,
        record["dossier_code"],
        record["event_type"],
        record["unit_code"],
        vietnam_day(record["occurred_at"]),
        int(transition["status_after"]),
        None if due is None else vietnam_day(due),
        payload.get("procedure_code"),
        payload.get("channel"),
        payload.get("method"),
        payload.get("authority_code"),
    )


# The fields of a stored event that make its fact. Decoding into these shapes skips every
# other field without building it: four times the rate of parsing the whole event.
class _Payload(msgspec.Struct):
    procedure_code: str | None = None
    channel: int | None = None
    method: int | None = None
    authority_code: str | None = None


class _Record(msgspec.Struct):
    dossier_code: str
    event_type: str
    unit_code: str
    occurred_at: str
    payload: _Payload


class _Transition(msgspec.Struct):
    status_after: int
    counted_due_after: str | None = None


class _Stored(msgspec.Struct):
    record: _Record
    transition: _Transition


_decode = msgspec.json.Decoder(_Stored).decode


class UnreadableEventError(ValueError):
    """A stored event that does not have the shape the hub stores."""


def fact_from_json(position: int, state: bytes) -> Fact:
    """The fact of a stored event; the same as :func:`~projections.progress.facts.fact_of`
    of its record and transition."""
    try:
        stored = _decode(state)
    except msgspec.DecodeError as error:
        raise UnreadableEventError(f"stored event at position {position}: {error}") from None
    record, transition, payload = stored.record, stored.transition, stored.record.payload
    due = transition.counted_due_after
    return Fact(
        position,
        record.dossier_code,
        record.event_type,
        record.unit_code,
        vietnam_day(record.occurred_at),
        transition.status_after,
        None if due is None else vietnam_day(due),
        payload.procedure_code,
        payload.channel,
        payload.method,
        payload.authority_code,
    )
