"""A dossier's history for auditors: its timeline, its state at any instant, and whether it
was resolved early, on time or late. Pure: it works on the dossier's stored events.

Two times are kept apart. The state "as of" an instant folds the events that had
*occurred* by then: what the dossier was at that moment. "Known at" an instant keeps only
the events the hub had *recorded* by then: what the store could have said at that moment
(agencies report some actions late). Both may be given.

The outcome is the domain's (:mod:`hub.domain.standing`), the same the figures count:
resolved before the counted due date's day (in Vietnam) is early, on it on time, after it
late; received and not finished, pending, or overdue once the instant is past its counted due
date with the deadline clock running (a dossier waiting for the applicant is not overdue).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from events.enums import DossierStatus
from hub.domain.standing import Standing, standing
from hub.domain.vietnam import VIETNAM


class TimelineEntry(BaseModel):
    version: int
    event_id: str
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    unit_code: str
    actor_id: str
    actor_name: str | None
    source_system: str
    #: Who brought the event: the credential's key id (none: an operator's file) and the
    #: channel (http, kafka, file). Events stored before the hub kept it have neither.
    key_id: str | None = None
    channel: str | None = None
    procedure_code: str | None
    status_before: str | None
    status_after: str
    due_before: datetime | None
    due_after: datetime | None
    counted_due_after: datetime | None


class DossierAsOf(BaseModel):
    dossier_code: str
    as_of: datetime | None
    known_at: datetime | None
    events: int
    status: str | None
    receiving_unit: str | None
    procedure_code: str | None
    received_at: datetime | None
    due_at: datetime | None
    counted_due_at: datetime | None
    resolved_at: datetime | None
    outcome: Standing | None


class DossierHistory(BaseModel):
    dossier_code: str
    timeline: list[TimelineEntry]
    state: DossierAsOf


def _status(value: int | None) -> str | None:
    return None if value is None else DossierStatus(value).name.lower()


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _day(value: datetime) -> date:
    return value.astimezone(VIETNAM).date()


#: A stored event: its version, its record, its transition and its provenance.
StoredEvent = tuple[int, dict[str, Any], dict[str, Any], dict[str, Any] | None]


def timeline(events: list[StoredEvent]) -> list[TimelineEntry]:
    """Stored events as timeline entries."""
    entries = []
    for version, record, transition, provenance in events:
        actor = record.get("actor") or {}
        brought = provenance or {}
        entries.append(
            TimelineEntry(
                version=version,
                event_id=record["event_id"],
                event_type=record["event_type"],
                occurred_at=datetime.fromisoformat(record["occurred_at"]),
                recorded_at=datetime.fromisoformat(record["recorded_at"]),
                unit_code=record["unit_code"],
                actor_id=actor.get("id", ""),
                actor_name=actor.get("name"),
                source_system=record.get("source_system", ""),
                key_id=brought.get("key_id"),
                channel=brought.get("channel"),
                procedure_code=(record.get("payload") or {}).get("procedure_code"),
                status_before=_status(transition["status_before"]),
                status_after=_status(transition["status_after"]) or "",
                due_before=_instant(transition["due_before"]),
                due_after=_instant(transition["due_after"]),
                counted_due_after=_instant(transition["counted_due_after"]),
            )
        )
    return entries


def history(
    code: str,
    events: list[StoredEvent],
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    now: datetime | None = None,
) -> DossierHistory:
    """The dossier's timeline and its state, as of ``as_of`` (events occurred by then) and
    known at ``known_at`` (events recorded by then); ``now`` judges a dossier still pending
    overdue or not when no ``as_of`` is given (default: its last event)."""
    entries = timeline(events)
    if known_at is not None:
        entries = [entry for entry in entries if entry.recorded_at <= known_at]
    if as_of is not None:
        entries = [entry for entry in entries if entry.occurred_at <= as_of]
    state = state_of(code, entries, as_of, known_at, as_of or now)
    return DossierHistory(dossier_code=code, timeline=entries, state=state)


def state_of(
    code: str,
    entries: list[TimelineEntry],
    as_of: datetime | None,
    known_at: datetime | None,
    now: datetime | None,
) -> DossierAsOf:
    if not entries:
        return DossierAsOf(
            dossier_code=code,
            as_of=as_of,
            known_at=known_at,
            events=0,
            status=None,
            receiving_unit=None,
            procedure_code=next((e.procedure_code for e in entries if e.procedure_code), None),
            received_at=None,
            due_at=None,
            counted_due_at=None,
            resolved_at=None,
            outcome=None,
        )
    last = entries[-1]
    received = next((e for e in entries if e.event_type == "dossier.received"), None)
    resolved = next((e for e in entries if e.event_type == "dossier.resolved"), None)
    judged_due = None if resolved is None else resolved.counted_due_after or resolved.due_after
    judged = standing(
        DossierStatus[last.status_after.upper()],
        last.counted_due_after or last.due_after,
        now or last.recorded_at,
        finished_on=None if resolved is None else _day(resolved.occurred_at),
        due_on=None if judged_due is None else _day(judged_due),
    )
    return DossierAsOf(
        dossier_code=code,
        as_of=as_of,
        known_at=known_at,
        events=len(entries),
        status=last.status_after,
        receiving_unit=entries[0].unit_code,
        procedure_code=next((e.procedure_code for e in entries if e.procedure_code), None),
        received_at=None if received is None else received.occurred_at,
        due_at=last.due_after,
        counted_due_at=last.counted_due_after,
        resolved_at=None if resolved is None else resolved.occurred_at,
        outcome=judged,
    )
