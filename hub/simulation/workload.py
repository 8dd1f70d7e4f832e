"""Realistic synthetic dossiers: the demo's workload, the benchmarks' and the tests'.

Dossiers arrive on working days in office hours, through the three channels, and follow
the paths seen in practice: most are received, processed and returned on time; some are
refused at the desk, wait for a supplement or a fee, are stopped and resumed, run late
with an apology slip, or are withdrawn. The same seed always gives the same events.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.catalogue import (
    CatalogueContent,
    ProcedureEntry,
    RequiredComponent,
    UnitEntry,
    UnitLevel,
)
from events.enums import Channel, OnlineServiceLevel, TimeUnit
from events.identity import applicant_id_hash
from events.models import ProcessingTime
from hub.domain.calendar import WorkingCalendar
from hub.domain.vietnam import VIETNAM

DEMO_IDENTITY_KEY = b"demo-identity-key-not-for-production"


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    level: str


@dataclass(frozen=True)
class DemoProcedure:
    code: str
    name: str
    field_code: str
    days: int
    service_level: int


DEMO_UNITS: tuple[DemoUnit, ...] = (
    DemoUnit("000.00.01.H12", "Sở Tư pháp", "province"),
    DemoUnit("000.00.02.H12", "Sở Kế hoạch và Đầu tư", "province"),
    DemoUnit("000.00.21.H12", "UBND huyện Thới Bình", "district"),
    DemoUnit("000.00.22.H12", "UBND thành phố Cà Mau", "district"),
    DemoUnit("000.01.22.H12", "UBND Phường 1", "commune"),
    DemoUnit("000.05.22.H12", "UBND xã An Xuyên", "commune"),
)
DEMO_PROCEDURES: tuple[DemoProcedure, ...] = (
    DemoProcedure("1.000101", "Cấp phiếu lý lịch tư pháp", "TP01", 10, 4),
    DemoProcedure("1.000202", "Đăng ký thành lập doanh nghiệp", "KH01", 3, 4),
    DemoProcedure("1.000303", "Cấp giấy phép xây dựng", "XD01", 15, 3),
    DemoProcedure("1.000404", "Chứng thực bản sao từ bản chính", "CT01", 1, 3),
    DemoProcedure("1.000505", "Đăng ký khai sinh", "HT01", 1, 4),
)


def result_type(field_code: str) -> str:
    """The document type of the results of the procedures of a field."""
    return f"KQ.{field_code}"


def reuse_mapping(field_code: str) -> tuple[RequiredComponent, ...]:
    """What a procedure of the field asks for, and what of an earlier dossier may stand in:
    any earlier result of the same field, and an identity copy submitted before."""
    return (
        RequiredComponent(
            code="TP1",
            name="Giấy tờ kết quả đã được cấp",
            accepts_results=(result_type(field_code),),
        ),
        RequiredComponent(code="TP2", name="Bản sao giấy tờ tùy thân", accepts_components=("TP2",)),
    )


@dataclass(frozen=True)
class EarlierResult:
    """An earlier approved dossier a new one reuses: its code, owner and result."""

    dossier_code: str
    applicant_id_hash: str
    result_sha256: str


def demo_catalogue() -> CatalogueContent:
    """The demo units and procedures as a catalogue (every demo unit offers every procedure)."""
    top = "000.00.00.H12"
    units = [UnitEntry(code=top, name="UBND tỉnh Cà Mau", level=UnitLevel.PROVINCE)]
    for unit in DEMO_UNITS:
        parent = top if unit.level != "commune" else f"000.00.{unit.code.split('.')[2]}.H12"
        units.append(
            UnitEntry(code=unit.code, name=unit.name, level=UnitLevel(unit.level), parent=parent)
        )
    procedures = [
        ProcedureEntry(
            code=p.code,
            name=p.name,
            field_code=p.field_code,
            level=UnitLevel.PROVINCE,
            service_level=OnlineServiceLevel(p.service_level),
            processing_time=_processing_time(p.days),
            integrated=p.service_level == OnlineServiceLevel.FULL,
            units=tuple(u.code for u in DEMO_UNITS),
            components=reuse_mapping(p.field_code),
        )
        for p in DEMO_PROCEDURES
    ]
    return CatalogueContent(units=tuple(units), procedures=tuple(procedures))


@dataclass
class Workload:
    """Parameters of a synthetic workload."""

    start: date
    days: int
    dossiers_per_day: int
    seed: int = 2021
    units: tuple[DemoUnit, ...] = DEMO_UNITS
    procedures: tuple[DemoProcedure, ...] = DEMO_PROCEDURES
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    until: datetime | None = None  # events after this instant are not generated

    def events(self) -> list[dict[str, Any]]:
        """Every event as a JSON object, in the order they occurred."""
        rng = random.Random(self.seed)  # noqa: S311 - reproducible test data, not secrets
        generated: list[tuple[datetime, int, dict[str, Any]]] = []
        order = 0
        for day_offset in range(self.days):
            day = self.start + timedelta(days=day_offset)
            if not self.calendar.is_working_day(day):
                continue
            sequences: dict[str, int] = {}
            for _ in range(self.dossiers_per_day):
                unit = rng.choice(self.units)
                sequences[unit.code] = sequences.get(unit.code, 0) + 1
                code = f"{unit.code}-{day:%y%m%d}-{sequences[unit.code]:04d}"
                path = DossierPath(
                    self.calendar, rng, unit.code, rng.choice(self.procedures), code, day
                )
                for event in path.events():
                    at = datetime.fromisoformat(event["occurred_at"])
                    if self.until is None or at <= self.until:
                        generated.append((at, order, event))
                        order += 1
        generated.sort(key=lambda item: (item[0], item[1]))
        return [event for _, _, event in generated]


#: Where each step is taken: the one-stop desk receives and returns, specialists process.
DESK, SPECIALISTS = "Bộ phận tiếp nhận và trả kết quả", "Phòng chuyên môn"
AT_THE_DESK = frozenset(
    {
        "dossier.registered",
        "dossier.received",
        "dossier.refused",
        "dossier.supplement_received",
        "dossier.fee_paid",
        "dossier.result_returned",
        "dossier.withdrawn",
    }
)


@dataclass(frozen=True)
class LifecycleMix:
    """How often each turn of a dossier's path happens (probabilities)."""

    refused: float = 0.03
    transferred: float = 0.2
    supplement: float = 0.1
    financial_obligation: float = 0.05
    withdrawn: float = 0.03
    late: float = 0.12
    apology_when_late: float = 0.6
    denied: float = 0.04
    returned: float = 0.9
    online_registered_first: float = 1.0


class DossierPath:
    """One dossier's path through the lifecycle, as contract events (JSON objects)."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        rng: random.Random,
        unit_code: str,
        procedure: DemoProcedure,
        code: str,
        day: date,
        mix: LifecycleMix = LifecycleMix(),
        source_system: str = "mot-cua-demo",
        reuse: EarlierResult | None = None,
    ) -> None:
        self.calendar, self.rng, self.unit_code, self.code = calendar, rng, unit_code, code
        self.procedure, self.mix, self.source_system = procedure, mix, source_system
        self.reuse = reuse
        minutes = rng.randrange(0, 8 * 60)
        start = datetime.combine(day, time(7, 0), VIETNAM)
        self.at = calendar.add_working_time(start, timedelta(minutes=minutes))
        self.sequence = 0
        self.out: list[dict[str, Any]] = []

    def events(
        self, channel: Channel | None = None, refusable: bool = True
    ) -> list[dict[str, Any]]:
        """The events in order; ``channel`` fixed or drawn, refusal at the desk possible or not."""
        rng, cal, mix = self.rng, self.calendar, self.mix
        if channel is None:
            channel = rng.choices([Channel.WALK_IN, Channel.ONLINE, Channel.POST], [55, 40, 5])[0]
        submission = self._submission(channel)
        if refusable and rng.random() < mix.refused:
            self._emit(
                "dossier.refused",
                {
                    "reason": "Hồ sơ không thuộc thẩm quyền giải quyết",
                    "procedure_code": submission["procedure_code"],
                    "channel": int(channel),
                },
            )
            return self.out
        if channel is Channel.ONLINE and (
            mix.online_registered_first >= 1 or rng.random() < mix.online_registered_first
        ):
            # Submitted online any time before the desk accepts it (nights and weekends too).
            received_at = self.at
            self.at = received_at - timedelta(minutes=rng.randrange(5, 240))
            self._emit("dossier.registered", submission)
            self.at = received_at
        processing = {"value": str(self.procedure.days), "unit": TimeUnit.WORKING_DAYS.value}
        self._emit("dossier.received", {**submission, "processing_time": processing})
        allowed = cal.office_hours.per_day * self.procedure.days
        due = cal.due_at(self.at, _processing_time(self.procedure.days))
        if rng.random() < mix.transferred:
            self._later(minutes=rng.randrange(10, 120))
            self._emit(
                "dossier.transferred",
                {"kind": "department", "to_department": "Phòng chuyên môn"},
            )
        if rng.random() < mix.supplement:
            self._later(minutes=rng.randrange(60, 600))
            self._emit(
                "dossier.supplement_requested",
                {"reason": "Thiếu bản sao giấy tờ tùy thân", "missing": ["Bản sao CCCD"]},
            )
            self._later(minutes=rng.randrange(240, 3 * 480))
            self._emit("dossier.supplement_received", {"components": [self._component("BS")]})
            due = cal.due_at(self.at, _processing_time(self.procedure.days))
        if rng.random() < mix.financial_obligation:
            self._later(minutes=rng.randrange(30, 300))
            amount = str(Decimal(rng.randrange(50, 2000)) * 1000)
            self._emit(
                "dossier.financial_obligation_requested",
                {"amount": amount, "description": "Lệ phí theo quy định"},
            )
            paused = self.at
            self._later(minutes=rng.randrange(30, 960))
            receipt = f"BL{rng.randrange(10**6):06d}"
            self._emit("dossier.fee_paid", {"amount": amount, "receipt_number": receipt})
            due = cal.add_working_time(due, cal.working_time_between(paused, self.at))
        if rng.random() < mix.withdrawn:
            self._later(minutes=rng.randrange(30, 600))
            self._emit("dossier.withdrawn", {"reason": "Công dân xin rút hồ sơ"})
            return self.out
        late = rng.random() < mix.late
        if late and rng.random() < mix.apology_when_late:
            before_due = max(self.at, due - timedelta(hours=rng.randrange(2, 20)))
            self.at = before_due
            self._emit(
                "dossier.deadline_extended",
                {
                    "new_due_at": (due + timedelta(days=rng.randrange(2, 10))).isoformat(),
                    "apology_slip_number": f"XL-{self.code}",
                    "reason": "Cần xác minh thêm thông tin",
                },
            )
        if late:
            overrun = timedelta(hours=rng.randrange(1, 40))
            resolved_at = cal.add_working_time(due, overrun)
        else:
            work = timedelta(seconds=int(allowed.total_seconds() * rng.uniform(0.2, 0.95)))
            resolved_at = cal.add_working_time(
                self.at, min(work, cal.working_time_between(self.at, due))
            )
        self.at = max(self.at, resolved_at)
        denied = rng.random() < mix.denied
        self._emit("dossier.resolved", self._resolution(denied))
        if rng.random() < mix.returned:
            self._later(minutes=rng.randrange(30, 2 * 480))
            method = 1 if channel is Channel.POST else rng.choice([0, 0, 2])
            self._emit("dossier.result_returned", {"method": method})
        return self.out

    def _submission(self, channel: Channel) -> dict[str, Any]:
        person = f"{self.rng.randrange(10**11, 10**12):012d}"
        submission = {
            "procedure_code": self.procedure.code,
            "procedure_name": self.procedure.name,
            "field_code": self.procedure.field_code,
            "channel": int(channel),
            "service_level": self.procedure.service_level,
            "applicant_type": self.rng.choices([1, 2], weights=[85, 15])[0],
            "applicant_id_hash": applicant_id_hash(DEMO_IDENTITY_KEY, person),
            "summary": f"{self.procedure.name} - hồ sơ {self.code}",
            "components": [self._component("TP1"), self._component("TP2")],
        }
        if self.reuse is not None:  # the same applicant, giving the earlier dossier's code
            earlier = self.reuse.dossier_code
            submission["applicant_id_hash"] = self.reuse.applicant_id_hash
            submission["components"] = [
                {
                    "code": "TP1",
                    "name": "Giấy tờ kết quả đã được cấp",
                    "sha256": self.reuse.result_sha256,
                    "reused_from": earlier,
                },
                self._component("TP2"),
            ]
            submission["reused_dossiers"] = [earlier]
        return submission

    def _component(self, suffix: str) -> dict[str, Any]:
        digest = hashlib.sha256(f"{self.code}/{suffix}".encode()).hexdigest()
        return {"code": suffix, "name": f"Thành phần {suffix}", "sha256": digest}

    def _resolution(self, denied: bool) -> dict[str, Any]:
        if denied:
            return {"decision": "denied", "note": "Không đủ điều kiện"}
        return {
            "decision": "approved",
            "result_documents": [
                {
                    "document_type": result_type(self.procedure.field_code),
                    "name": f"Kết quả: {self.procedure.name}",
                    "reference_number": f"{self.sequence:03d}/{self.code}",
                    "issued_on": self.at.date().isoformat(),
                    "sha256": hashlib.sha256(f"{self.code}/result".encode()).hexdigest(),
                }
            ],
        }

    def _later(self, minutes: int) -> None:
        self.at = self.calendar.add_working_time(self.at, timedelta(minutes=minutes))

    def _emit(self, event_type: str, payload: dict[str, Any]) -> None:
        self.sequence += 1
        schema_version = 2 if event_type == "dossier.received" else 1
        seed = hashlib.sha256(f"{self.code}#{self.sequence}".encode()).digest()
        event_id = UUID(bytes=seed[:16], version=4)
        self.out.append(
            {
                "event_id": str(event_id),
                "event_type": event_type,
                "schema_version": schema_version,
                "dossier_code": self.code,
                "unit_code": self.unit_code,
                "occurred_at": self.at.isoformat(),
                "source_system": self.source_system,
                "actor": {
                    "id": f"canbo-{self.rng.randrange(1, 40):02d}",
                    "title": "Chuyên viên",
                    "department": DESK if event_type in AT_THE_DESK else SPECIALISTS,
                },
                "payload": payload,
            }
        )


def _processing_time(days: int) -> ProcessingTime:
    return ProcessingTime(value=Decimal(days), unit=TimeUnit.WORKING_DAYS)
