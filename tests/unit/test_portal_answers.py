"""The connector reads the portal's answers by meaning, not by one deployment's codes."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from connectors.dvcqg.answers import (
    AnswerCodes,
    UnreadableAnswer,
    already_exists,
    looked_up,
    not_found,
    session_expired,
)
from connectors.dvcqg.protocol import PortalAnswer

CODE = "000.00.01.H12-210301-0001"


def _error(code: int, message: str | None) -> PortalAnswer:
    return PortalAnswer(error_code=code, message=message)


@pytest.mark.parametrize(
    "answer",
    [
        _error(2, None),
        _error(99, f"Hồ sơ {CODE} đã tồn tại"),
        _error(-1, "HỒ SƠ ĐÃ TỒN TẠI TRÊN HỆ THỐNG"),
        _error(1, unicodedata.normalize("NFD", "Mã hồ sơ đã tồn tại")),  # decomposed
        _error(500, "Dossier already exists"),
    ],
)
def test_already_exists_by_message_whatever_the_code(answer: PortalAnswer) -> None:
    assert already_exists(answer)
    assert not session_expired(answer)
    assert not not_found(answer)


@pytest.mark.parametrize(
    "answer",
    [
        _error(0, "đã tồn tại"),  # success is success
        _error(3, f"Hồ sơ {CODE} không tồn tại"),
        _error(1, "Dữ liệu không hợp lệ: NgayTiepNhan"),
    ],
)
def test_other_answers_are_not_already_exists(answer: PortalAnswer) -> None:
    assert not already_exists(answer)


@pytest.mark.parametrize(
    "answer",
    [
        _error(401, None),
        _error(-2, "Phiên làm việc đã hết hạn"),
        _error(10, "Session expired, please log in again"),
        _error(7, "Token không hợp lệ"),
        _error(7, "Mã truy cập đã hết hiệu lực"),
        _error(1, "Vui lòng đăng nhập lại"),
        _error(1, "Unauthorized"),
        _error(1, "Invalid session"),
    ],
)
def test_session_expiry_in_every_form(answer: PortalAnswer) -> None:
    assert session_expired(answer)
    assert not already_exists(answer)


@pytest.mark.parametrize(
    "answer",
    [
        _error(1, "Dữ liệu không hợp lệ: TrangThaiHoSo"),
        _error(3, "Không tìm thấy hồ sơ"),
        _error(2, "đã tồn tại"),
    ],
)
def test_refusals_are_not_taken_for_expiry(answer: PortalAnswer) -> None:
    assert not session_expired(answer)


@pytest.mark.parametrize(
    "answer",
    [
        _error(3, None),
        _error(1, f"Hồ sơ {CODE} không tồn tại"),
        _error(44, "Không tìm thấy hồ sơ"),
        _error(404, "Dossier not found"),
    ],
)
def test_not_found_as_an_error(answer: PortalAnswer) -> None:
    assert not_found(answer)


def _found(result: Any) -> dict[str, Any] | None:
    return looked_up(PortalAnswer(error_code=0, result=result), CODE)


STEP = {"ThoiDiemXuLy": "20210301080000", "TrangThai": 2, "NoiDungXuLy": "Tiếp nhận"}


@pytest.mark.parametrize("empty", [None, [], {}, ""])
def test_an_empty_look_up_is_not_found(empty: Any) -> None:
    assert _found(empty) is None


@pytest.mark.parametrize(
    ("result", "steps"),
    [
        ({"MaHoSo": CODE, "TrangThaiHoSo": 2, "TienDoXuLy": [STEP]}, [STEP]),
        ({"MaHoSo": CODE, "TrangThaiHoSo": 2, "DanhSachTienDo": [STEP]}, [STEP]),
        ({"MaHoSo": CODE, "TrangThaiHoSo": 2, "QuaTrinhXuLy": STEP}, [STEP]),
        ({"MaHoSo": CODE, "TrangThaiHoSo": 2}, []),
        ({"MaHoSo": CODE, "TrangThaiHoSo": 2, "TienDoXuLy": None}, []),
        ([{"MaHoSo": CODE, "TrangThaiHoSo": 2, "TienDoXuLy": [STEP]}], [STEP]),
        ([{"MaHoSo": "other"}, {"MaHoSo": CODE, "TrangThaiHoSo": 2}], []),
        ([{"TrangThaiHoSo": 2, "TienDoXuLy": [STEP]}], [STEP]),  # the only one, unnamed
    ],
)
def test_a_look_up_of_any_plausible_shape(result: Any, steps: list[dict[str, Any]]) -> None:
    found = _found(result)
    assert found is not None
    assert found["TrangThaiHoSo"] == 2
    assert found["TienDoXuLy"] == steps


def test_a_list_of_other_dossiers_is_not_found() -> None:
    assert _found([{"MaHoSo": "other-1"}, {"MaHoSo": "other-2"}]) is None


@pytest.mark.parametrize(
    "result",
    [
        "OK",
        42,
        ["OK"],
        [{"MaHoSo": CODE}, {"MaHoSo": CODE}],
        {"MaHoSo": "another dossier"},
        {"MaHoSo": CODE, "TienDoXuLy": "none"},
        {"MaHoSo": CODE, "TienDoXuLy": ["a step as text"]},
    ],
)
def test_an_answer_of_no_known_shape_is_unreadable_and_kept(result: Any) -> None:
    with pytest.raises(UnreadableAnswer) as caught:
        _found(result)
    assert caught.value.answer.result == result
    assert CODE in str(caught.value)


def test_a_deployment_s_own_codes_are_read_even_when_its_message_says_nothing() -> None:
    terse = [_error(7, "Lỗi"), _error(8, "Lỗi"), _error(9, "Lỗi")]
    assert not any(
        check(answer) for answer in terse for check in (already_exists, session_expired, not_found)
    )
    codes = AnswerCodes(exists=frozenset({7}), expired=frozenset({8}), not_found=frozenset({9}))
    exists, expired, missing = terse
    assert already_exists(exists, codes)
    assert not session_expired(exists, codes)
    assert session_expired(expired, codes)
    assert not already_exists(expired, codes)
    assert not_found(missing, codes)
    assert not session_expired(missing, codes)
    # The simulator's codes are not that deployment's.
    assert not already_exists(_error(2, "Lỗi"), codes)


def test_the_codes_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.dvcqg.runtime import portal_client
    from hub.settings import HubSettings

    monkeypatch.setenv("DVCHUB_DVCQG_EXISTS_CODES", "[7, 2]")
    monkeypatch.setenv("DVCHUB_DVCQG_EXPIRED_CODES", "[-1]")
    client = portal_client(HubSettings(dvcqg_url="http://portal"))
    try:
        assert client.codes == AnswerCodes(
            exists=frozenset({7, 2}), expired=frozenset({-1}), not_found=frozenset({3})
        )
    finally:
        client.close()
