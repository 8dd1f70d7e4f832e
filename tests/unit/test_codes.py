from datetime import date

import pytest

from events.codes import (
    DossierCodeError,
    ProcedureCodeError,
    UnitCodeError,
    parse_dossier_code,
    parse_procedure_code,
    parse_unit_code,
)


@pytest.mark.parametrize("code", ["000.00.00.H49", "000.00.21.H12", "123.45.67.K56"])
def test_unit_codes_in_the_qcvn_format_are_accepted(code: str) -> None:
    assert parse_unit_code(code).value == code


def test_unit_code_groups_are_named() -> None:
    unit = parse_unit_code("001.05.22.H12")
    assert (unit.level4, unit.level3, unit.level2, unit.province) == ("001", "05", "22", "H12")


@pytest.mark.parametrize(
    "code", ["", "000.00.00.H4", "00.00.00.H49", "000.00.00.X49", "000.00.00.h49", " 000.00.00.H49"]
)
def test_malformed_unit_codes_are_refused_with_the_expected_form(code: str) -> None:
    with pytest.raises(UnitCodeError, match=r"V1V2V3\.Z1Z2\.Y1Y2\.MX1X2"):
        parse_unit_code(code)


def test_dossier_code_is_split_into_unit_date_and_sequence() -> None:
    code = parse_dossier_code("000.00.21.H12-210315-0042")
    assert code.unit == "000.00.21.H12"
    assert code.received_on == date(2021, 3, 15)
    assert code.sequence == 42
    assert not code.is_shortened


def test_shortened_dossier_codes_seen_in_the_wild_are_accepted() -> None:
    code = parse_dossier_code("H21.65-220914-0011")
    assert code.is_shortened
    assert code.received_on == date(2022, 9, 14)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("000.00.21.H12-210230-0001", "not a calendar date"),
        ("000.00.21.H12-210315-0000", "starts at 0001"),
        ("000.00.21.H12-2103150001", "<unit code>-YYMMDD-XXXX"),
        ("000.00.21.H12-210315-001", "<unit code>-YYMMDD-XXXX"),
        ("X21-210315-0001", "<unit code>-YYMMDD-XXXX"),
    ],
)
def test_malformed_dossier_codes_say_why(code: str, why: str) -> None:
    with pytest.raises(DossierCodeError, match=why):
        parse_dossier_code(code)


def test_procedure_codes_national_and_local() -> None:
    national = parse_procedure_code("1.001776")
    local = parse_procedure_code("1.001776.000.00.00.H56")
    assert (national.national, national.is_local) == ("1.001776", False)
    assert (local.national, local.unit, local.is_local) == ("1.001776", "000.00.00.H56", True)


@pytest.mark.parametrize("code", ["1.00177", "11.001776", "1.001776.H56", "1.001776."])
def test_malformed_procedure_codes_are_refused(code: str) -> None:
    with pytest.raises(ProcedureCodeError, match=r"x\.yyyyyy"):
        parse_procedure_code(code)
