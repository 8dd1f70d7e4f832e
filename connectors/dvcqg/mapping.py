"""From the hub's events to the portal's payloads. No I/O.

The connector keeps, per dossier, what the portal's dossier record needs (:class:`SyncState`,
folded from the dossier's events); each event then becomes one *update*: the dossier as it
stands after the event (``DongBoHoSoMC``) and the processing step the event is
(``CapNhatTienDoHoSoMC``). Local procedure codes map to national ones through the catalogue;
the hub's statuses are the portal's own codes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from connectors.dvcqg.protocol import (
    Fee,
    PortalDossier,
    ProgressStep,
    ResultPaper,
    SubmittedFile,
    Supplement,
    portal_time,
)
from events.catalogue import ProcedureEntry
from hub.domain.event_types import OPENING, REGISTRY
from hub.domain.unit_tree import UnitTree

#: What each event type says it did, as the portal's NoiDungXuLy (the registry's words).
STEP_TEXT = {name: kind.action for name, kind in REGISTRY.items()}


class SyncState(BaseModel):
    """What the connector remembers of a dossier (stored as JSON between events)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    procedure_code: str | None = None
    channel: int = 1
    applicant_type: int | None = None  # unknown until a submission says it
    applicant: str = ""
    summary: str | None = None
    opened_at: str | None = None
    received_at: str | None = None
    due_at: str | None = None  # the promised date: an apology slip moves it
    counted_due_at: str | None = None  # the date on-time is judged by: an apology does not
    status: int = 1
    unit: str = ""
    finished_at: str | None = None
    returned_at: str | None = None
    return_method: int | None = None
    files: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    supplements: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    synced: int = 0  # updates the portal has acknowledged (0: the dossier is not there yet)


def fold(state: SyncState | None, record: dict[str, Any], transition: dict[str, Any]) -> SyncState:
    """The dossier's sync state after ``record`` (``state`` is updated in place)."""
    kind, payload, at = record["event_type"], record["payload"], record["occurred_at"]
    if state is None:
        state = SyncState(code=record["dossier_code"], unit=record["unit_code"], opened_at=at)
    if kind in OPENING:
        state.procedure_code = payload.get("procedure_code") or state.procedure_code
        state.channel = payload.get("channel") or state.channel
        if "applicant_type" in payload:
            state.applicant_type = payload["applicant_type"]
            # Names are personal data the hub does not hold in events: a stable pseudonym.
            state.applicant = f"Người nộp {payload['applicant_id_hash'][:10]}"
            state.summary = payload.get("summary")
            state.files = [
                {"TenTepDinhKem": c["name"], "MaThanhPhanHoSo": c["code"]}
                for c in payload.get("components", ())
            ]
        if kind == "dossier.received":
            state.received_at = at
        if payload.get("authority_code"):  # received for an authority: it processes it
            state.unit = payload["authority_code"]
    elif kind == "dossier.transferred" and payload.get("to_unit_code"):
        state.unit = payload["to_unit_code"]
    elif kind == "dossier.supplement_requested":
        state.supplements.append(
            {
                "NgayYeuCau": _time(at),
                "NoiDungYeuCau": payload["reason"],
                "NgayHenTraTruoc": _time(transition.get("due_before")),
            }
        )
    elif kind == "dossier.supplement_received" and state.supplements:
        state.supplements[-1].update(
            NgayBoSung=_time(at), NgayHenTraMoi=_time(transition.get("due_after"))
        )
    elif kind == "dossier.fee_paid":
        state.fees.append(
            {
                "TenPhiLePhi": payload.get("fee_name") or "Phí, lệ phí",
                "SoTien": str(payload["amount"]),
                "MaBienLai": payload["receipt_number"],
            }
        )
    elif kind == "dossier.resolved":
        state.finished_at = at
        state.results = [
            {
                "TenGiayTo": d["name"],
                "SoKyHieu": d["reference_number"],
                "NgayBanHanh": date.fromisoformat(d["issued_on"]).strftime("%Y%m%d000000"),
            }
            for d in payload.get("result_documents", ())
        ]
    elif kind == "dossier.result_returned":
        state.returned_at = at
        state.return_method = payload["method"]
    state.due_at = transition.get("due_after") or state.due_at
    state.counted_due_at = transition.get("counted_due_after") or state.counted_due_at
    state.status = int(transition["status_after"])
    return state


def carry_over(state: SyncState, tree: UnitTree, day: date) -> None:
    """After the unit processing the dossier merged or split, its successor processes it
    (the one with the largest share): updates from the effective day on name it, as the
    portal knows only the units that exist (decision 0022)."""
    successors = tree.successors(state.unit, day)
    if successors and state.unit not in successors:
        state.unit = max(successors, key=lambda code: (successors[code], code))


def dossier_payload(state: SyncState, procedure: ProcedureEntry) -> PortalDossier:
    """The dossier as the portal records it.

    ``NgayTiepNhan`` is when it was received, or, never received (registered online and
    waiting, or refused at reception), when it was opened: always the moment of an event,
    never of the sync. ``NgayHenTra`` is the due date on-time is judged by (the portal scores
    the province from it): an apology slip's new date is not it, since a dossier that gets
    one still counts as late (../shared/domain.md); the new date travels in the apology's
    step. Fields the hub does not know are left out: ``LoaiDoiTuong`` until a submission
    states it, ``MaDoiTuong`` (the hub keeps no identity numbers)."""
    opened = state.received_at or state.opened_at
    if opened is None:
        raise ValueError(f"{state.code}: no event opened the dossier")
    return PortalDossier(
        MaHoSo=state.code,
        MaTTHC=procedure.national_code or procedure.code,
        TenTTHC=procedure.name,
        MaLinhVuc=procedure.field_code,
        TenLinhVuc=procedure.field_name,
        KenhThucHien=state.channel,
        ChuHoSo=state.applicant or "Không rõ",
        LoaiDoiTuong=state.applicant_type,
        TrichYeuHoSo=state.summary,
        NgayTiepNhan=portal_time(datetime.fromisoformat(opened)),
        NgayHenTra=_time(state.counted_due_at or state.due_at),
        TrangThaiHoSo=state.status,
        NgayTra=_time(state.returned_at),
        HinhThuc=None if state.return_method is None else (1 if state.return_method == 1 else 0),
        NgayKetThucXuLy=_time(state.finished_at),
        DonViXuLy=state.unit,
        TaiLieuNop=tuple(SubmittedFile(**f) for f in state.files),
        DanhSachLePhi=tuple(Fee(**f) for f in state.fees),
        DanhSachHoSoBoSung=tuple(Supplement(**s) for s in state.supplements),
        DanhSachGiayToKetQua=tuple(ResultPaper(**r) for r in state.results),
    )


def progress_step(record: dict[str, Any], transition: dict[str, Any]) -> ProgressStep:
    """The processing step an event is. ``NgayKetThucTheoQuyDinh`` is the dossier's due date
    after it (for an apology slip, the new date promised), left out when it is before the
    step began: a step of a late dossier has no regulated end of its own."""
    actor = record["actor"]
    note = record["payload"].get("note") or record["payload"].get("reason")
    text = STEP_TEXT[record["event_type"]] + (f": {note}" if note else "")
    began = datetime.fromisoformat(record["occurred_at"])
    due = transition.get("due_after")
    if record["event_type"] != "dossier.deadline_extended":
        due = transition.get("counted_due_after") or due
    if due is not None and datetime.fromisoformat(due) < began:
        due = None
    return ProgressStep(
        MaHoSo=record["dossier_code"],
        NguoiXuLy=actor.get("name") or actor["id"],
        ChucDanh=actor.get("title"),
        ThoiDiemXuLy=portal_time(datetime.fromisoformat(record["occurred_at"])),
        PhongBanXuLy=actor.get("department"),
        NoiDungXuLy=text[:500],
        TrangThai=int(transition["status_after"]),
        NgayBatDau=portal_time(began),
        NgayKetThucTheoQuyDinh=_time(due),
    )


def _time(instant: str | None) -> str | None:
    return None if instant is None else portal_time(datetime.fromisoformat(instant))
