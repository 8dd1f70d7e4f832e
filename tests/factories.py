"""Builders of contract events as JSON objects, with sensible defaults."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import uuid4

from events.catalogue import ProcedureEntry, UnitLevel
from events.enums import OnlineServiceLevel, TimeUnit
from events.identity import applicant_id_hash
from events.models import ProcessingTime
from hub.domain.vietnam import VIETNAM

UNIT = "000.00.01.H12"
OTHER_UNIT = "000.00.21.H12"
CODE = f"{UNIT}-210315-0001"
KEY = b"test-identity-key-0123456789"


#: A procedure of the province integrated with the national portal, done in 3 working days.
INTEGRATED_PROCEDURE = ProcedureEntry(
    code="1.001776",
    name="Cấp giấy phép xây dựng",
    field_code="XD",
    level=UnitLevel.PROVINCE,
    service_level=OnlineServiceLevel.FULL,
    processing_time=ProcessingTime(value=3, unit=TimeUnit.WORKING_DAYS),
    integrated=True,
)


def at(text: str) -> datetime:
    """A Vietnam-time instant from ``'2021-03-15 09:00'``."""
    return datetime.fromisoformat(text).replace(tzinfo=VIETNAM)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def event(
    event_type: str,
    payload: dict[str, Any] | None = None,
    *,
    code: str = CODE,
    unit: str = UNIT,
    when: str = "2021-03-15 09:00",
    event_id: str | None = None,
    schema_version: int | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid4()),
        "event_type": event_type,
        "schema_version": schema_version or (2 if event_type == "dossier.received" else 1),
        "dossier_code": code,
        "unit_code": unit,
        "occurred_at": at(when).isoformat(),
        "source_system": "tests",
        "actor": {"id": "canbo-01", "title": "Chuyên viên"},
        "payload": payload if payload is not None else PAYLOADS[event_type](),
    }


def submission(**overrides: Any) -> dict[str, Any]:
    payload = {
        "procedure_code": "1.001776",
        "channel": 2,
        "service_level": 4,
        "applicant_type": 1,
        "applicant_id_hash": applicant_id_hash(KEY, "001099012345"),
        "components": [{"code": "TP1", "name": "Tờ khai", "sha256": digest("tờ khai")}],
    }
    return {**payload, **overrides}


def received(days: int | str = 3, unit: str = "working_days", **overrides: Any) -> dict[str, Any]:
    return submission(processing_time={"value": str(days), "unit": unit}, **overrides)


def resolution() -> dict[str, Any]:
    return {
        "decision": "approved",
        "result_documents": [
            {
                "document_type": "GP",
                "name": "Giấy phép",
                "reference_number": "123/GP",
                "issued_on": "2021-03-17",
                "sha256": digest("giấy phép"),
            }
        ],
    }


PAYLOADS: dict[str, Any] = {
    "dossier.registered": submission,
    "dossier.received": received,
    "dossier.refused": lambda: {"reason": "Không thuộc thẩm quyền"},
    "dossier.transferred": lambda: {"kind": "department", "to_department": "Phòng Hộ tịch"},
    "dossier.supplement_requested": lambda: {"reason": "Thiếu giấy tờ", "missing": ["CCCD"]},
    "dossier.supplement_received": lambda: {"components": []},
    "dossier.financial_obligation_requested": lambda: {
        "amount": "150000.50",
        "description": "Lệ phí",
    },
    "dossier.fee_paid": lambda: {"amount": "150000.50", "receipt_number": "BL-1"},
    "dossier.processing_stopped": lambda: {"reason": "Chờ ý kiến cơ quan khác"},
    "dossier.processing_resumed": lambda: {},
    "dossier.deadline_extended": lambda: {
        "new_due_at": at("2021-03-30 17:00").isoformat(),
        "apology_slip_number": "XL-1",
        "reason": "Cần xác minh",
    },
    "dossier.resolved": resolution,
    "dossier.result_returned": lambda: {"method": 0},
    "dossier.withdrawn": lambda: {"reason": "Xin rút"},
    "dossier.complaint_received": lambda: {"subject": "lateness", "summary": "Quá hẹn"},
}
