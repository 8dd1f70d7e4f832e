"""Dossiers across the 2025 reorganisation: a merged unit's dossiers continue under its
successor, and a service centre receives for an authority elsewhere in the province, the
reception counted where it happened and the rest under the authority (decision 0022)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from events import EventRejected, RejectReason, parse_event
from events.catalogue import UnitEntry, UnitLevel, UnitsMerged
from hub.domain.calendar import WorkingCalendar
from hub.domain.dossier import Dossier
from hub.domain.lifecycle import Rules
from hub.domain.unit_tree import UnitTree
from projections.progress.facts import Fact
from projections.progress.fold import METRICS, ProgressFold
from tests.factories import at, event, received

PROVINCE, OLD, NEW, ELSEWHERE = "000.00.00.H12", "000.60.01.H12", "000.00.90.H12", "000.00.21.H12"
CENTRE, AUTHORITY = "000.00.95.H12", "000.00.01.H12"
TREE = UnitTree(
    [
        UnitEntry(code=PROVINCE, name="UBND tỉnh", level=UnitLevel.PROVINCE),
        UnitEntry(code=OLD, name="UBND xã Tân Thuận", level=UnitLevel.COMMUNE, parent=PROVINCE),
        UnitEntry(
            code=NEW,
            name="UBND xã Đầm Dơi",
            level=UnitLevel.COMMUNE,
            parent=PROVINCE,
            valid_from=date(2025, 7, 1),
        ),
        UnitEntry(code=ELSEWHERE, name="Sở Tư pháp", level=UnitLevel.PROVINCE, parent=PROVINCE),
    ],
    [UnitsMerged(units=(OLD,), into=NEW, effective=date(2025, 7, 1))],
)
RULES = Rules(WorkingCalendar(), successors=TREE.successors)
OLD_CODE = f"{OLD}-250625-0001"
CENTRE_CODE = f"{CENTRE}-250801-0001"


def opened(code: str, unit: str, when: str, **payload: Any) -> Dossier:
    first = parse_event(
        event("dossier.received", received(**payload), code=code, unit=unit, when=when)
    )
    return Dossier.open(first, RULES, at(when))


def act(dossier: Dossier, kind: str, unit: str, when: str) -> None:
    item = parse_event(event(kind, code=dossier.state.code, unit=unit, when=when))  # type: ignore[union-attr]
    dossier.record(item, RULES, at(when))


def test_a_merged_units_dossier_continues_under_its_successor_from_the_effective_date() -> None:
    dossier = opened(OLD_CODE, OLD, "2025-06-25 09:00", days=20)
    with pytest.raises(EventRejected) as early:
        act(dossier, "dossier.transferred", NEW, "2025-06-30 16:00")  # not its successor yet
    assert early.value.reason is RejectReason.UNIT_NOT_INVOLVED
    act(dossier, "dossier.transferred", NEW, "2025-07-01 08:00")
    act(dossier, "dossier.resolved", NEW, "2025-07-03 10:00")
    assert dossier.state is not None
    assert dossier.state.status == 9


def test_a_unit_that_is_not_a_successor_still_cannot_act() -> None:
    dossier = opened(OLD_CODE, OLD, "2025-06-25 09:00", days=20)
    with pytest.raises(EventRejected) as caught:
        act(dossier, "dossier.resolved", ELSEWHERE, "2025-07-03 10:00")
    assert caught.value.reason is RejectReason.UNIT_NOT_INVOLVED
    assert "their successors" in str(caught.value)


def test_without_a_unit_history_only_the_dossiers_units_act() -> None:
    first = parse_event(
        event(
            "dossier.received", received(days=20), code=OLD_CODE, unit=OLD, when="2025-06-25 09:00"
        )
    )
    dossier = Dossier.open(first, Rules(WorkingCalendar()), at("2025-06-25 09:00"))
    later = parse_event(event("dossier.resolved", code=OLD_CODE, unit=NEW, when="2025-07-03 10:00"))
    with pytest.raises(EventRejected):
        dossier.record(later, Rules(WorkingCalendar()), at("2025-07-03 10:00"))


def test_a_centre_receives_for_an_authority_that_then_acts_on_the_dossier() -> None:
    dossier = opened(CENTRE_CODE, CENTRE, "2025-08-01 09:00", authority_code=AUTHORITY)
    assert dossier.state is not None
    assert (dossier.state.receiving_unit, dossier.state.handling_unit) == (CENTRE, AUTHORITY)
    assert dossier.state.units == {CENTRE, AUTHORITY}
    act(dossier, "dossier.resolved", AUTHORITY, "2025-08-04 10:00")
    assert dossier.state.status == 9


def test_a_centre_receives_only_for_authorities_of_its_own_province() -> None:
    with pytest.raises(EventRejected) as caught:
        opened(CENTRE_CODE, CENTRE, "2025-08-01 09:00", authority_code="000.00.01.H21")
    assert (caught.value.reason, caught.value.field) == (
        RejectReason.UNIT_NOT_INVOLVED,
        "payload.authority_code",
    )
    assert "000.00.01.H21" in str(caught.value)


def test_the_centre_counts_the_reception_and_the_authority_the_rest() -> None:
    fold = ProgressFold()
    day = date(2025, 8, 1)
    fold.apply(
        Fact(
            1,
            CENTRE_CODE,
            "dossier.received",
            CENTRE,
            day,
            2,
            date(2025, 8, 6),
            "1.001776",
            1,
            None,
            AUTHORITY,
        )
    )
    fold.apply(
        Fact(
            2, "x-refused", "dossier.refused", CENTRE, day, 3, None, "1.001776", 2, None, AUTHORITY
        )
    )
    rows, _ = fold.take()
    named = {key: dict(zip(METRICS, values, strict=True)) for key, values in rows.items()}
    centre, authority = named[(CENTRE, "1.001776", day)], named[(AUTHORITY, "1.001776", day)]
    assert (centre["received_walk_in"], centre["refused"], centre["pending_within_delta"]) == (
        1,
        1,
        0,
    )
    assert (authority["received_walk_in"], authority["pending_within_delta"]) == (0, 1)
    fold.apply(
        Fact(
            3,
            CENTRE_CODE,
            "dossier.resolved",
            AUTHORITY,
            date(2025, 8, 8),
            9,
            date(2025, 8, 6),
            None,
            None,
            None,
        )
    )
    rows, _ = fold.take()
    late = dict(zip(METRICS, rows[(AUTHORITY, "1.001776", date(2025, 8, 8))], strict=True))
    assert (late["resolved_late"], late["overdue_delta"]) == (1, -1)
    assert fold.take_late() == [
        (CENTRE_CODE, AUTHORITY, "1.001776", date(2025, 8, 6), date(2025, 8, 8))
    ]


def _record(kind: str, code: str, unit: str, when: str, **payload: Any) -> dict[str, Any]:
    return {
        "dossier_code": code,
        "event_type": kind,
        "unit_code": unit,
        "occurred_at": at(when).isoformat(),
        "payload": payload,
    }


def test_the_portal_sync_names_the_successor_from_the_effective_date() -> None:
    from connectors.dvcqg.mapping import carry_over, fold

    opened = _record(
        "dossier.received", OLD_CODE, OLD, "2025-06-25 09:00", procedure_code="1.001776", channel=1
    )
    state = fold(None, opened, {"status_after": 2})
    carry_over(state, TREE, date(2025, 6, 30))
    assert state.unit == OLD  # still its own on its last day
    later = _record("dossier.resolved", OLD_CODE, NEW, "2025-07-03 10:00")
    state = fold(state, later, {"status_after": 9})
    carry_over(state, TREE, date(2025, 7, 3))
    assert state.unit == NEW


def test_the_portal_sync_names_the_authority_a_centre_received_for() -> None:
    from connectors.dvcqg.mapping import fold

    opened = _record(
        "dossier.received",
        CENTRE_CODE,
        CENTRE,
        "2025-08-01 09:00",
        procedure_code="1.001776",
        channel=1,
        authority_code=AUTHORITY,
    )
    assert fold(None, opened, {"status_after": 2}).unit == AUTHORITY
