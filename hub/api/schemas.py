"""Request and response models of the HTTP API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from events.enums import Channel, Decision, DossierStatus
from events.reasons import RejectReason
from hub.domain.dossier import Dossier
from hub.ingest import Outcome


class EventResult(BaseModel):
    index: int = Field(description="Position of the event in the request (0 for a single event)")
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: UUID | None = None
    dossier_code: str | None = None
    reason: RejectReason | None = None
    message: str | None = None
    field: str | None = None


class IngestResponse(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[EventResult]

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> IngestResponse:
        """The answer to a request whose events had ``outcomes``, in order. Validated from
        plain values in one call (building a model per event, through ``asdict``'s deep
        copies, cost 25 µs per event: more than a tenth of a large batch's time)."""
        counts = Counter(outcome.status for outcome in outcomes)
        return cls.model_validate(
            {
                "accepted": counts["accepted"],
                "duplicate": counts["duplicate"],
                "rejected": counts["rejected"],
                "results": [
                    {
                        "index": index,
                        "status": outcome.status,
                        "event_id": outcome.event_id,
                        "dossier_code": outcome.dossier_code,
                        "reason": outcome.reason,
                        "message": outcome.message,
                        "field": outcome.field,
                    }
                    for index, outcome in enumerate(outcomes)
                ],
            }
        )


class Problem(BaseModel):
    """An error answer."""

    error: str = Field(description="Machine-readable code")
    message: str


class DossierView(BaseModel):
    """A dossier's current state."""

    dossier_code: str
    status: DossierStatus
    status_name: str
    receiving_unit: str
    handling_unit: str
    procedure_code: str | None
    channel: Channel | None
    received_at: datetime | None
    due_at: datetime | None
    counted_due_at: datetime | None
    apology_slips: int
    decision: Decision | None
    finished_at: datetime | None
    returned_at: datetime | None
    version: int = Field(description="Number of events stored for the dossier")

    @classmethod
    def of(cls, dossier: Dossier) -> DossierView:
        state = dossier.state
        assert state is not None
        return cls(
            dossier_code=state.code,
            status=state.status,
            status_name=state.status.name.lower(),
            receiving_unit=state.receiving_unit,
            handling_unit=state.handling_unit,
            procedure_code=state.procedure_code,
            channel=state.channel,
            received_at=state.received_at,
            due_at=state.due_at,
            counted_due_at=state.counted_due_at,
            apology_slips=state.apology_slips,
            decision=state.decision,
            finished_at=state.finished_at,
            returned_at=state.returned_at,
            version=dossier.version,
        )


class PersonalDataReadDoc(BaseModel):
    """One attempt to read a dossier's personal data: who, when, why, and which fields were
    shown (never their values)."""

    read_id: str
    at: str
    dossier_code: str
    key_id: str
    principal: str
    role: str
    purpose: str
    applicant_hash: str | None
    outcome: Literal["revealed", "erased", "none", "refused"]
    fields: list[str]


class ErasureDoc(BaseModel):
    applicant_hash: str
    erased: bool = Field(description="False: there was no key to erase")


class LookupDoc(BaseModel):
    """One recorded reuse look-up of an earlier dossier."""

    lookup_id: str
    at: str
    dossier_code: str
    key_id: str
    principal: str
    requesting_unit: str
    applicant_hash: str
    procedure_code: str
    consent_reference: str | None
    mode: str
    outcome: str
    reason: str | None
    disclosed: list[str]
    detail: str | None = None


class ReusedByDoc(BaseModel):
    dossier_code: str
    unit_code: str
    received_on: str | None
    components: list[str]


class ReuseHistoryDoc(BaseModel):
    dossier_code: str
    lookups: list[LookupDoc]
    reused_by: list[ReusedByDoc]
