"""One rule of where a dossier stands, the same in the figures, the auditor's history, the
portal connector and the reuse index: a dossier waiting for a supplement past its old due
date is pending within its deadline (decision 0008); once the supplement is in and the new
due date passes, it is overdue everywhere."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from connectors.dvcqg.mapping import SyncState, dossier_payload, fold
from connectors.dvcqg.protocol import portal_time
from events import DossierStatus, parse_event
from hub.audit.history import StoredEvent, history
from hub.domain.calendar import WorkingCalendar
from hub.domain.lifecycle import Rules, decide, evolve
from hub.domain.standing import WAITING, Standing, resolution, standing
from projections.progress.facts import fact_of
from projections.progress.fold import OVERDUE, WITHIN, ProgressFold
from projections.reuse.fold import OPEN
from projections.reuse.fold import fold as reuse_fold
from tests.factories import INTEGRATED_PROCEDURE, at, event, received

RULES = Rules(WorkingCalendar())
OLD_DUE = at("2021-03-18 09:00")  # 3 working days from 15 March, 09:00
WAITING_PAST_IT = at("2021-03-25 10:00")
NEW_DUE = at("2021-03-31 08:00")  # 3 working days from the supplement, 26 March 08:00
PAST_THE_NEW_ONE = at("2021-04-01 10:00")


def _stored(*events: dict[str, Any]) -> list[StoredEvent]:
    stored: list[StoredEvent] = []
    state = None
    for position, data in enumerate(events, start=1):
        parsed = parse_event(data)
        change = decide(state, parsed, RULES, PAST_THE_NEW_ONE)
        state = evolve(state, parsed, change)
        record = {**data, "recorded_at": data["occurred_at"]}
        stored.append((position, record, change.to_json(), None))
    return stored


def _figures(stored: list[Any], day: date) -> tuple[int, int]:
    """Pending within the deadline and overdue at the end of ``day``, by the figures."""
    progress = ProgressFold()
    for position, record, transition, _ in stored:
        progress.apply(fact_of(position, record, transition))
    rows, _ = progress.take()
    within = sum(v[WITHIN] for (_, _, d), v in rows.items() if d <= day)
    overdue = sum(v[OVERDUE] for (_, _, d), v in rows.items() if d <= day)
    return within, overdue


def _portal(stored: list[Any]) -> dict[str, Any]:
    state: SyncState | None = None
    for _, record, transition, _ in stored:
        state = fold(state, record, transition)
    assert state is not None
    return dossier_payload(state, INTEGRATED_PROCEDURE).model_dump(mode="json")


def _reuse(stored: list[Any]) -> str:
    indexed = None
    for position, record, _, _ in stored:
        indexed = reuse_fold(indexed, position, record)
    assert indexed is not None
    return indexed.status


WAITING_EVENTS = (
    event("dossier.received", received(3), when="2021-03-15 09:00"),
    event("dossier.supplement_requested", when="2021-03-15 10:00"),
)


def test_waiting_for_a_supplement_past_the_old_due_date_is_pending_within_it_everywhere() -> None:
    stored = _stored(*WAITING_EVENTS)
    code = stored[0][1]["dossier_code"]
    last = stored[-1][2]
    assert datetime.fromisoformat(last["counted_due_after"]) == OLD_DUE
    status = DossierStatus(last["status_after"])
    # The domain's rule.
    assert standing(status, OLD_DUE, WAITING_PAST_IT) is Standing.WITHIN
    # The auditor's history.
    assert history(code, stored, now=WAITING_PAST_IT).state.outcome is Standing.WITHIN
    # The figures.
    assert _figures(stored, WAITING_PAST_IT.date()) == (1, 0)
    # The portal connector: waiting for the applicant, the old due date before the request,
    # no new one yet: the portal is told the clock stands still.
    sent = _portal(stored)
    assert sent["TrangThaiHoSo"] in WAITING
    supplement = sent["DanhSachHoSoBoSung"][-1]
    assert supplement["NgayHenTraTruoc"] == portal_time(OLD_DUE)
    assert supplement["NgayHenTraMoi"] is None
    # The reuse index: still open, nothing of it offered.
    assert _reuse(stored) == OPEN


def test_once_the_supplement_is_in_and_the_new_due_date_passes_it_is_overdue_everywhere() -> None:
    stored = _stored(*WAITING_EVENTS, event("dossier.supplement_received", when="2021-03-26 08:00"))
    code = stored[0][1]["dossier_code"]
    assert datetime.fromisoformat(stored[-1][2]["counted_due_after"]) == NEW_DUE
    status = DossierStatus(stored[-1][2]["status_after"])
    assert standing(status, NEW_DUE, PAST_THE_NEW_ONE) is Standing.OVERDUE
    assert history(code, stored, now=PAST_THE_NEW_ONE).state.outcome is Standing.OVERDUE
    assert _figures(stored, PAST_THE_NEW_ONE.date()) == (0, 1)
    assert _figures(stored, date(2021, 3, 30)) == (1, 0)  # the day before its due date
    assert history(code, stored, now=at("2021-03-30 16:00")).state.outcome is Standing.WITHIN
    sent = _portal(stored)
    assert sent["NgayHenTra"] == portal_time(NEW_DUE)
    assert sent["DanhSachHoSoBoSung"][-1]["NgayHenTraMoi"] == portal_time(NEW_DUE)
    assert _reuse(stored) == OPEN


@pytest.mark.parametrize(
    ("finished", "due", "expected"),
    [
        (date(2021, 3, 17), date(2021, 3, 18), Standing.EARLY),
        (date(2021, 3, 18), date(2021, 3, 18), Standing.ON_TIME),
        (date(2021, 3, 19), date(2021, 3, 18), Standing.LATE),
        (date(2021, 3, 19), None, Standing.ON_TIME),
    ],
)
def test_a_finished_dossier_is_judged_by_its_day_against_the_counted_due_day(
    finished: date, due: date | None, expected: Standing
) -> None:
    assert resolution(finished, due) is expected
    assert standing(DossierStatus.RESULT_RETURNED, None, at("2021-04-30 10:00"), finished, due) is (
        expected
    )


def test_a_finished_dossier_without_its_finishing_day_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="the day it finished"):
        standing(DossierStatus.FINISHED, None, at("2021-04-30 10:00"))
