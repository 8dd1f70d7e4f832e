"""The strict check of payloads against the portal's documented interface: what the connector
makes of a whole dossier passes, and each way a payload can break the interface is named."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.dvcqg.conformance import DOSSIER_FIELDS, STEP_FIELDS, check_dossier, check_step
from connectors.dvcqg.mapping import dossier_payload, fold, progress_step
from tests.factories import INTEGRATED_PROCEDURE, at, event, received, resolution

PROCEDURE = INTEGRATED_PROCEDURE
DUE = at("2021-03-18 09:00").isoformat()


def _returned_dossier() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A dossier received, supplemented, resolved and returned, as the connector sends it."""
    history: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (event("dossier.received", received()), {"status_after": 2, "due_after": DUE}),
        (
            event(
                "dossier.supplement_requested",
                {"reason": "Thiếu bản sao", "missing": ["CCCD"]},
                when="2021-03-15 10:00",
            ),
            {"status_after": 5, "due_before": DUE, "due_after": None},
        ),
        (
            event(
                "dossier.supplement_received",
                {"components": [{"code": "BS", "name": "Bản sao", "sha256": "0" * 64}]},
                when="2021-03-16 08:00",
            ),
            {"status_after": 4, "due_after": at("2021-03-19 08:00").isoformat()},
        ),
        (event("dossier.resolved", resolution(), when="2021-03-17 10:00"), {"status_after": 9}),
        (
            event("dossier.result_returned", {"method": 1}, when="2021-03-17 15:00"),
            {"status_after": 10},
        ),
    ]
    state = None
    steps = []
    for record, transition in history:
        state = fold(state, record, transition)
        steps.append(progress_step(record, transition).model_dump(mode="json"))
    assert state is not None
    return dossier_payload(state, PROCEDURE).model_dump(mode="json"), steps


def test_what_the_connector_sends_of_a_whole_dossier_conforms() -> None:
    dossier, steps = _returned_dossier()
    assert check_dossier(dossier) == []
    assert [check_step(step) for step in steps] == [[]] * len(steps)
    assert set(dossier) <= set(DOSSIER_FIELDS)
    assert all(set(step) <= set(STEP_FIELDS) for step in steps)


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"SoCCCD": "001099012345"}, "SoCCCD: not a documented field"),
        ({"NgayTiepNhan": "20210315"}, "NgayTiepNhan: '20210315' is not a date in the form"),
        ({"NgayTiepNhan": "20210231090000"}, "NgayTiepNhan: '20210231090000' is not a real date"),
        ({"NgayHenTra": "19000101000000"}, "NgayHenTra: '19000101000000' is a sentinel"),
        ({"NgayTiepNhan": None}, "NgayTiepNhan: required"),
        ({"ChuHoSo": ""}, "ChuHoSo: required"),
        (
            {"MaTTHC": "1.001776.000.00.00.H12"},
            "MaTTHC: '1.001776.000.00.00.H12' is not a national",
        ),
        ({"MaHoSo": "H12-2103-1"}, "MaHoSo: "),
        ({"DonViXuLy": "Sở Xây dựng"}, "DonViXuLy: "),
        ({"KenhThucHien": 4}, "KenhThucHien: 4 is not one of 1, 2, 3"),
        ({"KenhThucHien": "2"}, "KenhThucHien: '2' is not one of"),
        ({"LoaiDoiTuong": 0}, "LoaiDoiTuong: 0 is not one of 1, 2, 3, 4"),
        ({"TrangThaiHoSo": 11}, "TrangThaiHoSo: 11 is not one of"),
        ({"HinhThuc": 2}, "HinhThuc: 2 is not one of 0, 1"),
        ({"TaiLieuNop": "TP1"}, "TaiLieuNop: is not a list of objects"),
        ({"NgayKetThucXuLy": None}, "TrangThaiHoSo 10 without NgayKetThucXuLy"),
        ({"NgayTra": None}, "a returned dossier without NgayTra or HinhThuc"),
        ({"TrangThaiHoSo": 4}, "NgayKetThucXuLy on a dossier not finished"),
        ({"TrangThaiHoSo": 9}, "NgayTra on a dossier not returned"),
        ({"NgayHenTra": "20210314000000"}, "NgayHenTra 20210314000000 is before NgayTiepNhan"),
        ({"NgayTra": "20210317090000"}, "NgayTra 20210317090000 is before NgayKetThucXuLy"),
    ],
)
def test_each_break_of_the_interface_in_a_dossier_is_named(
    change: dict[str, Any], finding: str
) -> None:
    dossier, _ = _returned_dossier()
    findings = check_dossier({**dossier, **change})
    assert any(f.startswith(finding) for f in findings), findings


def test_dates_inside_the_lists_are_checked_too() -> None:
    dossier, _ = _returned_dossier()
    papers = [{**dossier["DanhSachGiayToKetQua"][0], "NgayBanHanh": "20210317"}]
    assert check_dossier({**dossier, "DanhSachGiayToKetQua": papers}) == [
        "DanhSachGiayToKetQua[0].NgayBanHanh: '20210317' is not a date in the form yyyyMMddHHmmss"
    ]
    supplement = {**dossier["DanhSachHoSoBoSung"][0], "NgayBoSung": "20210314000000"}
    assert check_dossier({**dossier, "DanhSachHoSoBoSung": [supplement]}) == [
        "DanhSachHoSoBoSung[0].NgayBoSung 20210314000000 is before "
        "DanhSachHoSoBoSung[0].NgayYeuCau 20210315100000"
    ]


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"NguoiXuLy": ""}, "NguoiXuLy: required"),
        ({"ThoiDiemXuLy": "2021-03-15T09:00:00"}, "ThoiDiemXuLy: '2021-03-15T09:00:00' is not"),
        ({"TrangThai": 0}, "TrangThai: 0 is not one of"),
        ({"NgayKetThucTheoQuyDinh": "20210301000000"}, "NgayKetThucTheoQuyDinh 20210301000000 is"),
        ({"NgayBatDau": "20210316000000"}, "ThoiDiemXuLy 20210315090000 is before NgayBatDau"),
        ({"MaDonVi": "000.00.01.H12"}, "MaDonVi: not a documented field"),
    ],
)
def test_each_break_of_the_interface_in_a_step_is_named(
    change: dict[str, Any], finding: str
) -> None:
    _, steps = _returned_dossier()
    findings = check_step({**steps[0], **change})
    assert any(f.startswith(finding) for f in findings), findings


def test_a_payload_that_is_not_an_object_is_named() -> None:
    assert check_dossier(["MaHoSo"]) == ["is not an object"]
    assert check_step(None) == ["is not an object"]
