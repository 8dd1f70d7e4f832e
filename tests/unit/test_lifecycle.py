"""The dossier lifecycle, exercised through the aggregate's commands (no store)."""

from datetime import datetime
from typing import Any

import pytest

from events import DossierStatus, EventRejected, RejectReason, parse_event
from hub.domain.calendar import WorkingCalendar
from hub.domain.dossier import Dossier, DuplicateEvent
from hub.domain.lifecycle import TRANSITIONS, Rules, SupplementRule
from tests.factories import at, event, received

RULES = Rules(WorkingCalendar())
NOW = at("2021-04-01 10:00")
S = DossierStatus


def run(*events: dict[str, Any], rules: Rules = RULES) -> Dossier:
    first, *rest = (parse_event(e) for e in events)
    dossier = Dossier.open(first, rules, NOW)
    for item in rest:
        dossier.record(item, rules, NOW)
    return dossier


def refused(dossier: Dossier | None, data: dict[str, Any]) -> EventRejected:
    parsed = parse_event(data)
    command = (
        (lambda: Dossier.open(parsed, RULES, NOW))
        if dossier is None
        else (lambda: dossier.record(parsed, RULES, NOW))
    )
    with pytest.raises(EventRejected) as caught:
        command()
    return caught.value


def test_a_dossier_goes_from_received_to_result_returned() -> None:
    dossier = run(
        event("dossier.registered", when="2021-03-15 08:00"),
        event("dossier.received", when="2021-03-15 09:00"),
        event("dossier.transferred", when="2021-03-15 10:00"),
        event("dossier.resolved", when="2021-03-17 10:00"),
        event("dossier.result_returned", when="2021-03-17 15:00"),
    )
    assert dossier.state is not None
    assert dossier.state.status is S.RESULT_RETURNED
    assert dossier.state.due_at == at("2021-03-18 09:00")
    assert dossier.version == 5


# Every (status, event type) pair the lifecycle forbids, with the reason it gives.
PATHS_TO = {
    S.REGISTERED: ["dossier.registered"],
    S.RECEIVED: ["dossier.received"],
    S.NOT_RECEIVED: ["dossier.refused"],
    S.PROCESSING: ["dossier.received", "dossier.transferred"],
    S.SUPPLEMENT_REQUESTED: ["dossier.received", "dossier.supplement_requested"],
    S.FINANCIAL_OBLIGATION_REQUESTED: [
        "dossier.received",
        "dossier.financial_obligation_requested",
    ],
    S.WITHDRAWN: ["dossier.received", "dossier.withdrawn"],
    S.STOPPED: ["dossier.received", "dossier.processing_stopped"],
    S.FINISHED: ["dossier.received", "dossier.resolved"],
    S.RESULT_RETURNED: ["dossier.received", "dossier.resolved", "dossier.result_returned"],
}
EXPECTED_REASON = {
    S.NOT_RECEIVED: RejectReason.DOSSIER_REFUSED,
    S.WITHDRAWN: RejectReason.DOSSIER_WITHDRAWN,
    S.RESULT_RETURNED: RejectReason.DOSSIER_CLOSED,
}
EVENT_REASON = {
    "dossier.registered": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.received": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.refused": RejectReason.DOSSIER_ALREADY_RECEIVED,
    "dossier.supplement_received": RejectReason.SUPPLEMENT_NOT_REQUESTED,
    "dossier.processing_resumed": RejectReason.NOT_STOPPED,
    "dossier.result_returned": RejectReason.RESULT_BEFORE_RESOLUTION,
}
STATUS_REASON = {
    S.REGISTERED: RejectReason.DOSSIER_NOT_RECEIVED,
    S.SUPPLEMENT_REQUESTED: RejectReason.SUPPLEMENT_PENDING,
    S.FINANCIAL_OBLIGATION_REQUESTED: RejectReason.FINANCIAL_OBLIGATION_PENDING,
    S.STOPPED: RejectReason.PROCESSING_STOPPED,
    S.FINISHED: RejectReason.ALREADY_RESOLVED,
}
FORBIDDEN = [
    (status, event_type)
    for status in PATHS_TO
    for event_type in sorted(TRANSITIONS)
    if status not in TRANSITIONS[event_type]
]


@pytest.mark.parametrize(("status", "event_type"), FORBIDDEN)
def test_every_forbidden_transition_is_refused_with_its_reason(
    status: DossierStatus, event_type: str
) -> None:
    path = [event(t, when=f"2021-03-15 {8 + i:02d}:00") for i, t in enumerate(PATHS_TO[status])]
    dossier = run(*path)
    assert dossier.state is not None
    assert dossier.state.status is status
    version = dossier.version
    expected = EXPECTED_REASON.get(status) or EVENT_REASON.get(event_type) or STATUS_REASON[status]
    error = refused(dossier, event(event_type, when="2021-03-15 16:00"))
    assert error.reason is expected
    assert f"status {int(status)}" in error.message
    assert dossier.version == version
    assert len(dossier.pending_events) == version


@pytest.mark.parametrize(
    "event_type",
    sorted(set(TRANSITIONS) - {"dossier.registered", "dossier.received", "dossier.refused"}),
)
def test_an_event_for_a_dossier_never_received_is_refused(event_type: str) -> None:
    error = refused(None, event(event_type))
    assert error.reason is RejectReason.DOSSIER_NOT_RECEIVED
    assert "never seen" in error.message


def test_resending_an_event_is_a_duplicate_and_records_nothing() -> None:
    received_event = event("dossier.received")
    dossier = run(received_event)
    with pytest.raises(DuplicateEvent):
        dossier.record(parse_event(received_event), RULES, at("2021-04-02 10:00"))
    assert dossier.version == 1


def test_reusing_an_event_id_for_other_content_is_refused() -> None:
    first = event("dossier.received")
    dossier = run(first)
    other = event("dossier.transferred", event_id=first["event_id"], when="2021-03-15 10:00")
    assert refused(dossier, other).reason is RejectReason.EVENT_ID_REUSED


def test_events_of_a_dossier_must_not_go_back_in_time() -> None:
    dossier = run(event("dossier.received", when="2021-03-15 09:00"))
    error = refused(dossier, event("dossier.transferred", when="2021-03-15 08:59"))
    assert error.reason is RejectReason.OCCURRED_BEFORE_PREVIOUS
    assert error.field == "occurred_at"


def supplement_path() -> list[dict[str, Any]]:
    return [
        event("dossier.received", received(days=3), when="2021-03-15 09:00"),
        event("dossier.supplement_requested", when="2021-03-16 09:00"),
        event("dossier.supplement_received", when="2021-03-22 09:00"),
    ]


def test_a_complete_supplement_recomputes_the_deadline_by_default() -> None:
    dossier = run(*supplement_path())
    assert dossier.state is not None
    # Three working days again from Monday 22 March 09:00.
    assert dossier.state.due_at == at("2021-03-25 09:00")
    assert dossier.state.counted_due_at == dossier.state.due_at


def test_the_extend_rule_adds_the_office_time_spent_waiting() -> None:
    rules = Rules(WorkingCalendar(), SupplementRule.EXTEND)
    dossier = run(*supplement_path(), rules=rules)
    assert dossier.state is not None
    # Due Thu 18 March 09:00; waited Tue 16 09:00 -> Mon 22 09:00 = 4 working days.
    assert dossier.state.due_at == at("2021-03-24 09:00")


def test_processing_stopped_and_resumed_extends_by_the_pause() -> None:
    dossier = run(
        event("dossier.received", received(days=3), when="2021-03-15 09:00"),
        event("dossier.processing_stopped", when="2021-03-16 09:00"),
        event("dossier.processing_resumed", when="2021-03-17 09:00"),
    )
    assert dossier.state is not None
    assert dossier.state.status is S.PROCESSING
    assert dossier.state.due_at == at("2021-03-19 09:00")


def test_an_apology_slip_moves_the_promised_date_but_not_the_counted_one() -> None:
    dossier = run(
        event("dossier.received", received(days=3), when="2021-03-15 09:00"),
        event("dossier.deadline_extended", when="2021-03-17 16:00"),
    )
    assert dossier.state is not None
    assert dossier.state.due_at == at("2021-03-30 17:00")
    assert dossier.state.counted_due_at == at("2021-03-18 09:00")
    assert dossier.state.apology_slips == 1


def test_an_apology_slip_must_promise_a_later_date() -> None:
    dossier = run(event("dossier.received", received(days=30), when="2021-03-15 09:00"))
    error = refused(dossier, event("dossier.deadline_extended", when="2021-03-16 09:00"))
    assert error.reason is RejectReason.DEADLINE_NOT_LATER
    assert error.field == "payload.new_due_at"


def test_an_agency_due_date_is_kept_as_given() -> None:
    payload = received()
    del payload["processing_time"]
    payload["due_at"] = "2021-03-19T16:00:00+07:00"
    dossier = run(event("dossier.received", payload))
    assert dossier.state is not None
    assert dossier.state.due_at == datetime.fromisoformat("2021-03-19T16:00:00+07:00")


def test_a_transfer_between_units_changes_the_handling_unit() -> None:
    dossier = run(
        event("dossier.received"),
        event(
            "dossier.transferred",
            {"kind": "unit", "to_unit_code": "000.00.21.H12"},
            when="2021-03-15 10:00",
        ),
    )
    assert dossier.state is not None
    assert (dossier.state.receiving_unit, dossier.state.handling_unit) == (
        "000.00.01.H12",
        "000.00.21.H12",
    )


def test_replaying_stored_events_gives_the_same_state() -> None:
    dossier = run(*supplement_path(), event("dossier.resolved", when="2021-03-23 09:00"))
    replayed = None
    for stored in dossier.collect_events():
        replayed = stored.mutate(replayed)
    assert replayed is not None
    assert replayed.state == dossier.state
