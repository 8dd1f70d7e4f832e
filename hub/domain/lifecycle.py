"""The dossier lifecycle as a state machine over the national portal's status codes.

:data:`TRANSITIONS` says, for every event type, from which statuses it is allowed and to
which status it leads. :func:`decide` checks an event against a dossier's state and works
out the deadline; :func:`evolve` folds an accepted event into the state using only what
:func:`decide` stored with it, so replaying the log never depends on today's calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from events.enums import Channel, Decision, DossierStatus
from events.errors import EventRejected
from events.models import DossierEvent, ProcessingTime
from events.reasons import RejectReason
from hub.domain.bounds import TimeWindow
from hub.domain.calendar import WorkingCalendar
from hub.domain.ownership import OPERATOR, Publisher, check_involved, check_opening

S = DossierStatus
SAME = "same"
OPENING = frozenset({"dossier.registered", "dossier.received", "dossier.refused"})
_ACTIVE = (S.RECEIVED, S.PROCESSING)
_WAITING = (S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION_REQUESTED, S.STOPPED)

#: event type -> {status before (None: unknown dossier) -> status after}
TRANSITIONS: dict[str, dict[S | None, S | str]] = {
    "dossier.registered": {None: S.REGISTERED},
    "dossier.received": {None: S.RECEIVED, S.REGISTERED: S.RECEIVED},
    "dossier.refused": {None: S.NOT_RECEIVED, S.REGISTERED: S.NOT_RECEIVED},
    "dossier.transferred": dict.fromkeys(_ACTIVE, S.PROCESSING),
    "dossier.supplement_requested": dict.fromkeys(_ACTIVE, S.SUPPLEMENT_REQUESTED),
    "dossier.supplement_received": {S.SUPPLEMENT_REQUESTED: S.PROCESSING},
    "dossier.financial_obligation_requested": dict.fromkeys(
        _ACTIVE, S.FINANCIAL_OBLIGATION_REQUESTED
    ),
    "dossier.fee_paid": {
        S.FINANCIAL_OBLIGATION_REQUESTED: S.PROCESSING,
        S.RECEIVED: SAME,
        S.PROCESSING: SAME,
        S.SUPPLEMENT_REQUESTED: SAME,
        S.FINISHED: SAME,
    },
    "dossier.processing_stopped": dict.fromkeys(
        (*_ACTIVE, S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION_REQUESTED), S.STOPPED
    ),
    "dossier.processing_resumed": {S.STOPPED: S.PROCESSING},
    "dossier.deadline_extended": dict.fromkeys((*_ACTIVE, *_WAITING), SAME),
    "dossier.resolved": dict.fromkeys(_ACTIVE, S.FINISHED),
    "dossier.result_returned": {S.FINISHED: S.RESULT_RETURNED},
    "dossier.withdrawn": dict.fromkeys((S.REGISTERED, *_ACTIVE, *_WAITING), S.WITHDRAWN),
}

#: Why an event is refused when its status is not allowed, checked in this order:
#: the dossier's terminal state, then the event's own reason, then the status's.
_TERMINAL_REASONS = {
    S.NOT_RECEIVED: RejectReason.DOSSIER_REFUSED,
    S.WITHDRAWN: RejectReason.DOSSIER_WITHDRAWN,
    S.RESULT_RETURNED: RejectReason.DOSSIER_CLOSED,
}
_EVENT_REASONS = {
    "dossier.registered": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.received": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.refused": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.supplement_received": RejectReason.SUPPLEMENT_NOT_REQUESTED,
    "dossier.processing_resumed": RejectReason.NOT_STOPPED,
    "dossier.result_returned": RejectReason.RESULT_BEFORE_RESOLUTION,
}
_STATUS_REASONS = {
    S.REGISTERED: RejectReason.DOSSIER_NOT_RECEIVED,
    S.RECEIVED: RejectReason.DOSSIER_NOT_IN_PROCESSING,
    S.PROCESSING: RejectReason.DOSSIER_NOT_IN_PROCESSING,
    S.SUPPLEMENT_REQUESTED: RejectReason.SUPPLEMENT_PENDING,
    S.FINANCIAL_OBLIGATION_REQUESTED: RejectReason.FINANCIAL_OBLIGATION_PENDING,
    S.STOPPED: RejectReason.PROCESSING_STOPPED,
    S.FINISHED: RejectReason.ALREADY_RESOLVED,
}


class SupplementRule(StrEnum):
    """How a completed supplement moves the deadline (see docs/decisions)."""

    RECOMPUTE = "recompute"  # the whole processing time again, from the moment it is complete
    EXTEND = "extend"  # the old deadline plus the office time spent waiting


@dataclass(frozen=True)
class Rules:
    """What :func:`decide` needs besides the state and the event."""

    calendar: WorkingCalendar
    supplement_rule: SupplementRule = SupplementRule.RECOMPUTE
    window: TimeWindow = field(default_factory=TimeWindow)


@dataclass(frozen=True)
class Transition:
    """What an accepted event did to the dossier; stored with the event."""

    status_before: S | None
    status_after: S
    due_before: datetime | None
    due_after: datetime | None
    counted_due_after: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "status_before": None if self.status_before is None else int(self.status_before),
            "status_after": int(self.status_after),
            "due_before": _iso(self.due_before),
            "due_after": _iso(self.due_after),
            "counted_due_after": _iso(self.counted_due_after),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transition:
        before = data["status_before"]
        return cls(
            status_before=None if before is None else S(before),
            status_after=S(data["status_after"]),
            due_before=_parse(data["due_before"]),
            due_after=_parse(data["due_after"]),
            counted_due_after=_parse(data["counted_due_after"]),
        )


@dataclass(frozen=True)
class DossierState:
    """A dossier as the lifecycle sees it."""

    code: str
    status: S
    receiving_unit: str
    handling_unit: str
    procedure_code: str | None
    channel: Channel | None
    occurred_at: datetime
    received_at: datetime | None = None
    processing_time: ProcessingTime | None = None
    due_at: datetime | None = None
    counted_due_at: datetime | None = None
    paused_at: datetime | None = None
    apology_slips: int = 0
    decision: Decision | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    #: The units that may act on it: the unit that opened it and every unit it was
    #: transferred to (hub.domain.ownership).
    units: frozenset[str] = frozenset()


def decide(
    state: DossierState | None,
    event: DossierEvent,
    rules: Rules,
    received_at: datetime,
    by: Publisher = OPERATOR,
) -> Transition:
    """Check ``event``, received at ``received_at`` and brought by ``by``, against the
    window of instants, the dossier's units and its lifecycle; raise
    :class:`EventRejected` if it is refused."""
    rules.window.check(event, received_at)
    before = None if state is None else state.status
    target = TRANSITIONS[event.event_type].get(before)
    if target is None:
        raise EventRejected(_refusal(before, event.event_type), _explain(state, event))
    if state is None:
        check_opening(event.dossier_code, event.unit_code)
    else:
        check_involved(event.dossier_code, event.unit_code, state.units, by)
    if state is not None and event.occurred_at < state.occurred_at:
        raise EventRejected(
            RejectReason.OCCURRED_BEFORE_PREVIOUS,
            f"occurred_at {event.occurred_at.isoformat()} is before the dossier's last event "
            f"({state.occurred_at.isoformat()}); events of a dossier arrive in order",
            field="occurred_at",
        )
    after = before if isinstance(target, str) else target
    assert after is not None
    due, counted = _deadline(state, event, rules)
    if due is not None and (state is None or due != state.due_at):
        where = "payload.processing_time" if event.event_type == "dossier.received" else None
        rules.window.check_due(due, event.occurred_at, where)
    return Transition(before, after, None if state is None else state.due_at, due, counted)


def evolve(state: DossierState | None, event: DossierEvent, change: Transition) -> DossierState:
    """Fold an accepted event into the state."""
    at = event.occurred_at
    changes: dict[str, Any] = {
        "status": change.status_after,
        "due_at": change.due_after,
        "counted_due_at": change.counted_due_after,
        "occurred_at": at,
    }
    # Dispatch on the event type string: isinstance checks on pydantic models are slow, and
    # this runs for every event ingested or replayed.
    if event.event_type == "dossier.received":
        changes.update(
            procedure_code=event.payload.procedure_code,
            channel=event.payload.channel,
            received_at=at,
            processing_time=event.payload.processing_time,
        )
    elif event.event_type == "dossier.registered":
        changes.update(procedure_code=event.payload.procedure_code, channel=event.payload.channel)
    elif event.event_type == "dossier.transferred":
        if event.payload.to_unit_code:
            changes["handling_unit"] = event.payload.to_unit_code
            if state is not None:
                changes["units"] = state.units | {event.payload.to_unit_code}
    elif event.event_type == "dossier.deadline_extended":
        changes["apology_slips"] = (0 if state is None else state.apology_slips) + 1
    elif event.event_type == "dossier.resolved":
        changes.update(decision=event.payload.decision, finished_at=at)
    elif event.event_type == "dossier.result_returned":
        changes["returned_at"] = at
    if change.status_after in _WAITING and change.status_before not in _WAITING:
        changes["paused_at"] = at
    elif change.status_after not in _WAITING:
        changes["paused_at"] = None
    if state is None:
        changes.setdefault("procedure_code", getattr(event.payload, "procedure_code", None))
        changes.setdefault("channel", getattr(event.payload, "channel", None))
        return DossierState(
            code=event.dossier_code,
            receiving_unit=event.unit_code,
            handling_unit=event.unit_code,
            units=frozenset({event.unit_code}),
            **changes,
        )
    return replace(state, **changes)


def _deadline(
    state: DossierState | None, event: DossierEvent, rules: Rules
) -> tuple[datetime | None, datetime | None]:
    calendar = rules.calendar
    if event.event_type == "dossier.received":
        payload = event.payload
        if payload.due_at is not None:
            return payload.due_at, payload.due_at
        assert payload.processing_time is not None
        computed = calendar.due_at(event.occurred_at, payload.processing_time)
        return computed, computed
    if state is None:
        return None, None
    due, counted = state.due_at, state.counted_due_at
    if event.event_type == "dossier.deadline_extended":
        new_due = event.payload.new_due_at
        if due is None:
            raise EventRejected(RejectReason.NO_DEADLINE, "the dossier has no deadline to extend")
        if new_due <= due:
            raise EventRejected(
                RejectReason.DEADLINE_NOT_LATER,
                f"new_due_at {new_due.isoformat()} is not after the current due date "
                f"{due.isoformat()}",
                field="payload.new_due_at",
            )
        return new_due, counted
    resumes = state.status in _WAITING and event.event_type in _RESUMING
    if not resumes or due is None or state.paused_at is None:
        return due, counted
    if (
        event.event_type == "dossier.supplement_received"
        and rules.supplement_rule is SupplementRule.RECOMPUTE
    ):
        new_due = _restart(state, event.occurred_at, calendar)
        return new_due, new_due
    waited = calendar.working_time_between(state.paused_at, event.occurred_at)
    return (
        calendar.add_working_time(due, waited) if waited else due,
        calendar.add_working_time(counted, waited) if waited and counted else counted,
    )


_RESUMING = frozenset(
    {"dossier.supplement_received", "dossier.fee_paid", "dossier.processing_resumed"}
)


def _restart(state: DossierState, at: datetime, calendar: WorkingCalendar) -> datetime:
    """The deadline when the whole processing time runs again from ``at``."""
    if state.processing_time is not None:
        return calendar.due_at(at, state.processing_time)
    assert state.received_at is not None
    assert state.counted_due_at is not None
    allowed = calendar.working_time_between(state.received_at, state.counted_due_at)
    return calendar.add_working_time(at, allowed)


def _refusal(status: S | None, event_type: str) -> RejectReason:
    if status is None:
        return RejectReason.DOSSIER_NOT_RECEIVED
    terminal = _TERMINAL_REASONS.get(status)
    if terminal is not None:
        return terminal
    return _EVENT_REASONS.get(event_type) or _STATUS_REASONS[status]


def _explain(state: DossierState | None, event: DossierEvent) -> str:
    if state is None:
        return (
            f"{event.event_type} for dossier {event.dossier_code}, which the hub has never "
            "seen registered or received"
        )
    allowed = ", ".join(
        "unknown" if s is None else f"{int(s)} {s.name.lower()}"
        for s in TRANSITIONS[event.event_type]
    )
    return (
        f"{event.event_type} is not allowed while dossier {state.code} has status "
        f"{int(state.status)} {state.status.name.lower()} (allowed from: {allowed})"
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
