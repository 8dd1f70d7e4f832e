"""The portal's sync interface, as provincial connectors use it (see ../shared/domain.md).

Log in with ``{username, password}`` and a ``dstcode`` header; then every call is a POST of
``{session, madonvi, service, ...}`` answered by ``{error_code, message, result}``, 0 meaning
success. Dates travel as ``yyyyMMddHHmmss`` in Vietnam time.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.domain.vietnam import VIETNAM

PORTAL_TIME = "%Y%m%d%H%M%S"
_PORTAL_TIME_RE = re.compile(r"^\d{14}$")

Service = Literal["TraCuuHoSo", "DongBoHoSoMC", "CapNhatTienDoHoSoMC"]
SUCCESS = 0
#: Error codes of the simulator's answers (the portal's own codes were not published).
INVALID_SESSION = 401
VALIDATION_FAILED = 1
ALREADY_EXISTS = 2
NOT_FOUND = 3


def portal_time(moment: datetime) -> str:
    """``moment`` as the portal writes dates: yyyyMMddHHmmss in Vietnam time."""
    return moment.astimezone(VIETNAM).strftime(PORTAL_TIME)


def parse_portal_time(text: str) -> datetime:
    """A portal date as an aware datetime; ValueError if it is not yyyyMMddHHmmss."""
    if not _PORTAL_TIME_RE.match(text):
        raise ValueError(f"{text!r} is not a date in the form yyyyMMddHHmmss")
    return datetime.strptime(text, PORTAL_TIME).replace(tzinfo=VIETNAM)


PortalTime = Annotated[str, Field(pattern=r"^\d{14}$", description="yyyyMMddHHmmss, Vietnam")]


class PortalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubmittedFile(PortalModel):
    TenTepDinhKem: str
    MaThanhPhanHoSo: str
    DuongDanTaiTepTin: str | None = None


class Fee(PortalModel):
    TenPhiLePhi: str
    SoTien: str
    MaBienLai: str | None = None


class Supplement(PortalModel):
    NgayYeuCau: PortalTime
    NoiDungYeuCau: str
    NgayHenTraTruoc: PortalTime | None = None
    NgayHenTraMoi: PortalTime | None = None
    NgayBoSung: PortalTime | None = None


class ResultPaper(PortalModel):
    TenGiayTo: str
    SoKyHieu: str
    NgayBanHanh: PortalTime  # a date: its midnight


class PortalDossier(PortalModel):
    """A dossier as ``DongBoHoSoMC`` takes it."""

    MaHoSo: str
    MaTTHC: str
    TenTTHC: str | None = None
    MaLinhVuc: str | None = None
    TenLinhVuc: str | None = None
    KenhThucHien: Literal[1, 2, 3]
    ChuHoSo: str
    LoaiDoiTuong: Literal[1, 2, 3, 4] | None = None
    MaDoiTuong: str | None = None
    TrichYeuHoSo: str | None = None
    NgayTiepNhan: PortalTime
    NgayHenTra: PortalTime | None = None
    TrangThaiHoSo: int = Field(ge=1, le=10)
    NgayTra: PortalTime | None = None
    HinhThuc: Literal[0, 1] | None = None
    NgayKetThucXuLy: PortalTime | None = None
    DonViXuLy: str
    TaiLieuNop: tuple[SubmittedFile, ...] = ()
    DanhSachLePhi: tuple[Fee, ...] = ()
    DanhSachHoSoBoSung: tuple[Supplement, ...] = ()
    DanhSachGiayToKetQua: tuple[ResultPaper, ...] = ()


class ProgressStep(PortalModel):
    """A processing step as ``CapNhatTienDoHoSoMC`` takes it."""

    MaHoSo: str
    NguoiXuLy: str
    ChucDanh: str | None = None
    ThoiDiemXuLy: PortalTime
    PhongBanXuLy: str | None = None
    NoiDungXuLy: str
    TrangThai: int = Field(ge=1, le=10)
    NgayBatDau: PortalTime | None = None
    NgayKetThucTheoQuyDinh: PortalTime | None = None


class PortalAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    error_code: int
    message: str | None = None
    result: Any = None
    session: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code == SUCCESS
