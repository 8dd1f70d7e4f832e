"""The dossier lifecycle as a state machine over the national portal's status codes.

:data:`TRANSITIONS` says, for every event type, from which statuses it is allowed and to
which status it leads. :func:`decide` checks an event against a dossier's state and works
out the deadline; :func:`evolve` folds an accepted event into the state using only what
:func:`decide` stored with it, so replaying the log never depends on today's calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from events.enums import DossierStatus
from events.errors import EventRejected
from events.models import DeadlineExtendedPayload, DossierEvent, ReceivedPayload
from events.reasons import RejectReason
from hub.domain.bounds import TimeWindow
from hub.domain.calendar import WorkingCalendar
from hub.domain.event_types import OPENING, REGISTRY, DeadlineRule
from hub.domain.ownership import (
    OPERATOR,
    Publisher,
    Successors,
    check_authority,
    check_involved,
    check_opening,
)
from hub.domain.standing import WAITING
from hub.domain.state import DossierState, Transition
from hub.domain.supplement import SupplementRule

__all__ = [
    "OPENING",
    "TRANSITIONS",
    "DossierState",
    "Rules",
    "SupplementRule",
    "Transition",
    "decide",
    "evolve",
]

S = DossierStatus
#: event type -> {status before (None: unknown dossier) -> status after}, from the registry.
TRANSITIONS: dict[str, Mapping[S | None, S | str]] = {
    name: kind.transitions for name, kind in REGISTRY.items()
}

#: Why an event is refused when its status is not allowed, checked in this order:
#: the dossier's terminal state, then the event's own reason (the registry's), then the
#: status's.
_TERMINAL_REASONS = {
    S.NOT_RECEIVED: RejectReason.DOSSIER_REFUSED,
    S.WITHDRAWN: RejectReason.DOSSIER_WITHDRAWN,
    S.RESULT_RETURNED: RejectReason.DOSSIER_CLOSED,
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


@dataclass(frozen=True)
class Rules:
    """What :func:`decide` needs besides the state and the event."""

    calendar: WorkingCalendar
    supplement_rule: SupplementRule = SupplementRule.RECOMPUTE
    window: TimeWindow = field(default_factory=TimeWindow)
    #: Where a unit's dossiers went after it merged or split (the catalogue's unit history);
    #: None: no history, a dossier's units are only those it involves.
    successors: Successors | None = None


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
        check_involved(
            event.dossier_code,
            event.unit_code,
            state.units,
            by,
            rules.successors,
            event.occurred_at,
        )
    authority = getattr(event.payload, "authority_code", None)
    if authority is not None:
        check_authority(event.dossier_code, event.unit_code, authority)
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
        starts = REGISTRY[event.event_type].deadline is DeadlineRule.STARTS
        where = "payload.processing_time" if starts else None
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
    changes.update(REGISTRY[event.event_type].evolve(event, state))
    if change.status_after in WAITING and change.status_before not in WAITING:
        changes["paused_at"] = at
    elif change.status_after not in WAITING:
        changes["paused_at"] = None
    if state is None:
        opened: dict[str, Any] = {
            "procedure_code": getattr(event.payload, "procedure_code", None),
            "channel": getattr(event.payload, "channel", None),
            "handling_unit": event.unit_code,
            "units": frozenset({event.unit_code}),
        }
        return DossierState(
            code=event.dossier_code, receiving_unit=event.unit_code, **{**opened, **changes}
        )
    return replace(state, **changes)


def _deadline(
    state: DossierState | None, event: DossierEvent, rules: Rules
) -> tuple[datetime | None, datetime | None]:
    calendar = rules.calendar
    rule = REGISTRY[event.event_type].deadline
    if rule is DeadlineRule.STARTS:
        payload = cast(ReceivedPayload, event.payload)
        if payload.due_at is not None:
            return payload.due_at, payload.due_at
        assert payload.processing_time is not None
        computed = calendar.due_at(event.occurred_at, payload.processing_time)
        return computed, computed
    if state is None:
        return None, None
    due, counted = state.due_at, state.counted_due_at
    if rule is DeadlineRule.EXTENDS:
        new_due = cast(DeadlineExtendedPayload, event.payload).new_due_at
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
    resumes = state.status in WAITING and rule is DeadlineRule.RESUMES
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
    return REGISTRY[event_type].refusal or _STATUS_REASONS[status]


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
