"""What the portal is told of a dossier: every date from the event it describes and in the
documented form, the due date the province is scored by, nothing invented."""

from __future__ import annotations

from typing import Any

from connectors.dvcqg.mapping import SyncState, dossier_payload, fold, progress_step
from connectors.dvcqg.protocol import parse_portal_time
from tests.factories import INTEGRATED_PROCEDURE, at, event, received, resolution

PROCEDURE = INTEGRATED_PROCEDURE
DUE = at("2021-03-18 09:00").isoformat()
NEW_DUE = at("2021-03-25 17:00").isoformat()


def _transition(status: int, due: str | None = None, counted: str | None = None) -> dict[str, Any]:
    return {"status_after": status, "due_after": due, "counted_due_after": counted or due}


def _history(*steps: tuple[dict[str, Any], dict[str, Any]]) -> SyncState | None:
    state = None
    for record, transition in steps:
        state = fold(state, record, transition)
    return state


def test_a_dossier_refused_at_reception_is_dated_by_its_refusal_and_invents_no_applicant() -> None:
    refused = event("dossier.refused", {"reason": "Thiếu giấy tờ", "procedure_code": "1.001776"})
    state = _history((refused, _transition(3)))
    assert state is not None
    sent = dossier_payload(state, PROCEDURE)
    assert sent.NgayTiepNhan == "20210315090000"
    assert sent.LoaiDoiTuong is None
    assert sent.MaDoiTuong is None


def test_a_dossier_registered_but_not_received_is_dated_by_its_registration() -> None:
    registered = event("dossier.registered", received(), when="2021-03-14 20:30")
    state = _history((registered, _transition(1)))
    assert state is not None
    sent = dossier_payload(state, PROCEDURE)
    assert sent.NgayTiepNhan == "20210314203000"
    assert sent.LoaiDoiTuong == 1


def test_every_date_is_in_the_documented_form() -> None:
    state = _history(
        (event("dossier.received", received()), _transition(2, DUE)),
        (event("dossier.resolved", resolution(), when="2021-03-17 10:00"), _transition(5, DUE)),
    )
    assert state is not None
    sent = dossier_payload(state, PROCEDURE)
    dates = [sent.NgayTiepNhan, sent.NgayHenTra, sent.NgayKetThucXuLy]
    dates += [paper.NgayBanHanh for paper in sent.DanhSachGiayToKetQua]
    for text in dates:
        assert text is not None
        parse_portal_time(text)  # yyyyMMddHHmmss, or ValueError
    assert sent.DanhSachGiayToKetQua[0].NgayBanHanh == "20210317000000"


def test_an_apology_does_not_move_the_due_date_the_province_is_scored_by() -> None:
    extended = event(
        "dossier.deadline_extended",
        {"new_due_at": NEW_DUE, "reason": "Chờ ý kiến liên ngành"},
        when="2021-03-18 08:00",
    )
    extension = _transition(2, NEW_DUE, DUE)
    state = _history(
        (event("dossier.received", received()), _transition(2, DUE)), (extended, extension)
    )
    assert state is not None
    assert dossier_payload(state, PROCEDURE).NgayHenTra == "20210318090000"
    step = progress_step(extended, extension)
    assert step.NgayKetThucTheoQuyDinh == "20210325170000"  # the new date, in its own step


def test_a_late_step_has_no_regulated_end_before_it_began() -> None:
    late = event("dossier.resolved", resolution(), when="2021-03-22 10:00")
    step = progress_step(late, _transition(5, DUE))
    assert step.NgayBatDau == "20210322100000"
    assert step.NgayKetThucTheoQuyDinh is None
    on_time = progress_step(event("dossier.received", received()), _transition(2, DUE))
    assert on_time.NgayKetThucTheoQuyDinh == "20210318090000"
