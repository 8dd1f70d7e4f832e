"""A strict check of what is sent to the portal against its documented interface. No I/O.

Written from the field lists of ../shared/domain.md ("The national portal's sync interface"),
not from the models the connector sends with (:mod:`connectors.dvcqg.protocol`), so that a
payload those models accept but the interface does not is caught. The portal simulator
applies it in strict mode (``dvchub portal-sim --strict``): a payload that fails is refused
with the first finding, and counted.

What is checked, per payload:

- only documented fields at the top level; the required ones present and not empty;
- every date (a field named ``Ngay...`` or ``ThoiDiem...``, in lists too) is ``yyyyMMddHHmmss``,
  a real moment, and not a sentinel (before 2000 or after 2100);
- codes: ``MaHoSo`` a dossier code (Circular 01/2018), ``MaTTHC`` a national procedure code,
  ``DonViXuLy`` a unit code (QCVN 102:2016); enumerations (channel, applicant type, status,
  return method) in their documented ranges;
- what the dates mean: nothing ends before it began (``NgayKetThucXuLy`` and ``NgayTra``
  after ``NgayTiepNhan``, a result returned after it was finished, a step's regulated end
  after its start); a finished dossier says when, a returned one when and how; a dossier
  not finished carries no finish date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from events.codes import CodeFormatError, parse_dossier_code, parse_unit_code

_DATE = re.compile(r"^[0-9]{14}$")
_NATIONAL_PROCEDURE = re.compile(r"^[0-9]\.[0-9]{6}$")
_EARLIEST, _LATEST = 2000, 2100

Rule = Callable[[Any], str | None]


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) else "is not text"


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return f"{value!r} is not a date in the form yyyyMMddHHmmss"
    try:
        moment = datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return f"{value!r} is not a real date and time"
    if not _EARLIEST <= moment.year <= _LATEST:
        return f"{value!r} is a sentinel, not a date"
    return None


def _one_of(*allowed: int) -> Rule:
    def rule(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value in allowed
        return None if ok else f"{value!r} is not one of {', '.join(map(str, allowed))}"

    return rule


def _code(parse: Callable[[str], object]) -> Rule:
    def rule(value: Any) -> str | None:
        if not isinstance(value, str):
            return "is not text"
        try:
            parse(value)
        except CodeFormatError as error:
            return str(error)
        return None

    return rule


def is_national_procedure_code(value: object) -> bool:
    """A national procedure code, ``x.yyyyyy`` (ASCII digits): what ``MaTTHC`` carries."""
    return isinstance(value, str) and bool(_NATIONAL_PROCEDURE.match(value))


def _national_procedure(value: Any) -> str | None:
    if is_national_procedure_code(value):
        return None
    return f"{value!r} is not a national procedure code (x.yyyyyy)"


def _list(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return "is not a list of objects"
    return None


#: ``DongBoHoSoMC``'s dossier fields, as documented; True where a value is required.
DOSSIER_FIELDS: Mapping[str, tuple[Rule, bool]] = {
    "MaHoSo": (_code(parse_dossier_code), True),
    "MaTTHC": (_national_procedure, True),
    "TenTTHC": (_text, False),
    "MaLinhVuc": (_text, False),
    "TenLinhVuc": (_text, False),
    "KenhThucHien": (_one_of(1, 2, 3), True),
    "ChuHoSo": (_text, True),
    "LoaiDoiTuong": (_one_of(1, 2, 3, 4), False),
    "MaDoiTuong": (_text, False),
    "TrichYeuHoSo": (_text, False),
    "NgayTiepNhan": (_date, True),
    "NgayHenTra": (_date, False),
    "TrangThaiHoSo": (_one_of(*range(1, 11)), True),
    "NgayTra": (_date, False),
    "HinhThuc": (_one_of(0, 1), False),
    "NgayKetThucXuLy": (_date, False),
    "DonViXuLy": (_code(parse_unit_code), True),
    "TaiLieuNop": (_list, False),
    "DanhSachLePhi": (_list, False),
    "DanhSachHoSoBoSung": (_list, False),
    "DanhSachGiayToKetQua": (_list, False),
}

#: ``CapNhatTienDoHoSoMC``'s progress fields, as documented.
STEP_FIELDS: Mapping[str, tuple[Rule, bool]] = {
    "MaHoSo": (_code(parse_dossier_code), True),
    "NguoiXuLy": (_text, True),
    "ChucDanh": (_text, False),
    "ThoiDiemXuLy": (_date, True),
    "PhongBanXuLy": (_text, False),
    "NoiDungXuLy": (_text, True),
    "TrangThai": (_one_of(*range(1, 11)), True),
    "NgayBatDau": (_date, False),
    "NgayKetThucTheoQuyDinh": (_date, False),
}

FINISHED = frozenset({9, 10})
RETURNED = 10


def check_dossier(data: Any) -> list[str]:
    """What in a dossier payload does not conform (empty: it does)."""
    findings = _fields(data, DOSSIER_FIELDS)
    if findings:
        return findings
    for name in ("TaiLieuNop", "DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua"):
        for index, item in enumerate(data.get(name) or ()):
            findings += _dates_in(item, f"{name}[{index}]")
    if findings:
        return findings
    status = data["TrangThaiHoSo"]
    finished, returned = data.get("NgayKetThucXuLy"), data.get("NgayTra")
    if status in FINISHED and finished is None:
        findings.append(f"TrangThaiHoSo {status} without NgayKetThucXuLy")
    if status not in FINISHED and finished is not None:
        findings.append(f"NgayKetThucXuLy on a dossier not finished (TrangThaiHoSo {status})")
    if status == RETURNED and (returned is None or data.get("HinhThuc") is None):
        findings.append("a returned dossier without NgayTra or HinhThuc")
    if status != RETURNED and returned is not None:
        findings.append(f"NgayTra on a dossier not returned (TrangThaiHoSo {status})")
    findings += _ordered(data, "NgayTiepNhan", "NgayHenTra")
    findings += _ordered(data, "NgayTiepNhan", "NgayKetThucXuLy")
    findings += _ordered(data, "NgayKetThucXuLy", "NgayTra")
    for index, supplement in enumerate(data.get("DanhSachHoSoBoSung") or ()):
        findings += _ordered(supplement, "NgayYeuCau", "NgayBoSung", f"DanhSachHoSoBoSung[{index}]")
    return findings


def check_step(data: Any) -> list[str]:
    """What in a progress payload does not conform (empty: it does)."""
    findings = _fields(data, STEP_FIELDS)
    if findings:
        return findings
    findings += _ordered(data, "NgayBatDau", "NgayKetThucTheoQuyDinh")
    findings += _ordered(data, "NgayBatDau", "ThoiDiemXuLy")
    return findings


def _fields(data: Any, documented: Mapping[str, tuple[Rule, bool]]) -> list[str]:
    if not isinstance(data, dict):
        return ["is not an object"]
    findings = [f"{name}: not a documented field" for name in data if name not in documented]
    for name, (rule, required) in documented.items():
        value = data.get(name)
        if value is None or value == "":
            if required:
                findings.append(f"{name}: required")
            continue
        problem = rule(value)
        if problem:
            findings.append(f"{name}: {problem}")
    return findings


def _dates_in(item: dict[str, Any], where: str) -> list[str]:
    findings = []
    for name, value in item.items():
        if name.startswith(("Ngay", "ThoiDiem")) and value is not None:
            problem = _date(value)
            if problem:
                findings.append(f"{where}.{name}: {problem}")
    return findings


def _ordered(data: dict[str, Any], first: str, then: str, where: str = "") -> list[str]:
    """``then`` not before ``first`` (both present); dates of one form compare as text."""
    early, late = data.get(first), data.get(then)
    if early is None or late is None or late >= early:
        return []
    prefix = f"{where}." if where else ""
    return [f"{prefix}{then} {late} is before {prefix}{first} {early}"]
