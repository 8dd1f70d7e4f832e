"""The event contract: an envelope and one payload per dossier action.

Every model is frozen and forbids unknown fields, so a typo in an agency system's event is
an error rather than silently dropped data. ``schema_version`` is fixed per event type to
the current version; older versions are brought up to date by :mod:`events.upcasting`
before validation.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, get_args
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from events.codes import DossierCodeStr, ProcedureCodeStr, UnitCodeStr
from events.enums import (
    ApplicantType,
    Channel,
    ComplaintSubject,
    Decision,
    OnlineServiceLevel,
    ReturnMethod,
    TimeUnit,
    TransferKind,
)
from events.errors import shown


def _integer_code(value: object) -> object:
    """The portal's integer codes are JSON integers: ``true`` and ``"2"`` are not codes,
    whatever pydantic's enum validation would make of them. ``2.0`` is the JSON number 2,
    as JSON Schema (``type: integer``) and ``schema_version`` read it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer code, got {shown(value)}")
    return value


_IntegerCode = BeforeValidator(_integer_code)

_RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})$"
)
_RFC3339_RE = re.compile(_RFC3339)


def _rfc3339(value: object) -> object:
    """Instants arrive as RFC 3339 date-times with an offset (``T`` between date and time),
    as the schema's ``date-time`` format says; pydantic alone would take a space too."""
    if not isinstance(value, str):
        return value
    if _RFC3339_RE.fullmatch(value) is None:
        raise ValueError(
            f"{value[:40]!r} is not an RFC 3339 date-time with an offset, e.g. "
            "'2021-03-15T09:00:00+07:00'"
        )
    return datetime.fromisoformat(value)


#: An instant: an RFC 3339 date-time with its offset.
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339),
    Field(json_schema_extra={"pattern": _RFC3339}),
]
ChannelCode = Annotated[Channel, _IntegerCode]
ServiceLevelCode = Annotated[OnlineServiceLevel, _IntegerCode]
ApplicantTypeCode = Annotated[ApplicantType, _IntegerCode]
ReturnMethodCode = Annotated[ReturnMethod, _IntegerCode]

Sha256Hex = Annotated[
    str,
    Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 digest, 64 lowercase hex digits"),
]
IdentityHash = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{64}$",
        description=(
            "HMAC-SHA256 of the applicant's identity number under the province's identity "
            "key (see events.identity.applicant_id_hash); the number itself never travels"
        ),
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
#: Most items a list of the contract may hold.
MAX_ITEMS = 200
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, description="VND")]


class ContractModel(BaseModel):
    """Strings are kept as sent. At the boundary (:mod:`events.parsing`) events are
    validated from JSON in strict mode: a value is accepted only as the JSON Schema types it
    (no ``"2"`` for 2, no number for a date)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Actor(ContractModel):
    """Who did it: an official, a citizen on the portal, or a system."""

    id: ShortText
    name: ShortText | None = None
    title: ShortText | None = Field(None, description="ChucDanh: the official's position")
    department: ShortText | None = Field(None, description="PhongBanXuLy: processing department")


class Component(ContractModel):
    """A submitted document (thành phần hồ sơ)."""

    code: ShortText
    name: ShortText
    sha256: Sha256Hex
    reused_from: DossierCodeStr | None = Field(
        None, description="Code of the earlier dossier this document is reused from"
    )


class ResultDocument(ContractModel):
    """A result document (giấy tờ kết quả)."""

    document_type: ShortText
    name: ShortText
    reference_number: ShortText
    issued_on: date
    sha256: Sha256Hex
    valid_until: date | None = None


class ProcessingTime(ContractModel):
    """A procedure's processing time (thời hạn giải quyết)."""

    value: Annotated[Decimal, Field(gt=0, le=3650, decimal_places=2)]
    unit: TimeUnit


class ApplicantDetails(ContractModel):
    """The applicant's name and contact details (personal data). The hub stores them
    encrypted under a key of the applicant's own (see :class:`SealedApplicantDetails`)."""

    name: ShortText | None = None
    phone: Annotated[str, Field(min_length=1, max_length=30)] | None = None
    email: (
        Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    address: ShortText | None = None


class SealedApplicantDetails(ContractModel):
    """:class:`ApplicantDetails` as stored: AES-256-GCM under the key of the applicant whose
    identity hash is ``key``. Set by the hub; agency systems send the details themselves.
    Erasing the applicant's key leaves this unreadable for good."""

    key: IdentityHash
    nonce: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{16}$", description="base64, 12 bytes")]
    ciphertext: Annotated[str, Field(max_length=8_000, description="base64")]


# --- payloads -----------------------------------------------------------------------------


class SubmissionPayload(ContractModel):
    procedure_code: ProcedureCodeStr
    procedure_name: ShortText | None = None
    field_code: ShortText | None = Field(None, description="MaLinhVuc: the procedure's field")
    channel: ChannelCode
    service_level: ServiceLevelCode
    applicant_type: ApplicantTypeCode
    applicant_id_hash: IdentityHash
    applicant: ApplicantDetails | SealedApplicantDetails | None = Field(
        None, description="Name and contact details; stored encrypted, erasable"
    )
    summary: ShortText | None = Field(None, description="TrichYeuHoSo")
    components: tuple[Component, ...] = Field((), max_length=MAX_ITEMS)
    reused_dossiers: tuple[DossierCodeStr, ...] = Field(
        (),
        max_length=MAX_ITEMS,
        description="Codes of earlier dossiers whose result or documents are reused",
    )
    authority_code: UnitCodeStr | None = Field(
        None,
        description=(
            "The competent authority that resolves the dossier, when the unit receiving it "
            "is not that authority (a Public Administration Service Centre receives for any "
            "authority in the province, Decree 118/2025/NĐ-CP); none: the receiving unit"
        ),
    )


class RegisteredPayload(SubmissionPayload):
    """Submitted (usually online) and not yet accepted by the one-stop desk."""


class ReceivedPayload(SubmissionPayload):
    """Accepted by the one-stop desk: the processing clock starts.

    Exactly one of ``processing_time`` (the hub computes the due date with its working-day
    calendar) and ``due_at`` (the agency's own due date, kept as given) is required.
    """

    processing_time: ProcessingTime | None = None
    due_at: Instant | None = None
    return_method: ReturnMethodCode | None = None

    @model_validator(mode="after")
    def _one_deadline(self) -> ReceivedPayload:
        if (self.processing_time is None) == (self.due_at is None):
            raise ValueError("give exactly one of processing_time and due_at")
        return self


class RefusedPayload(ContractModel):
    """Refused at the one-stop desk (không tiếp nhận); the dossier ends here."""

    reason: ShortText
    procedure_code: ProcedureCodeStr | None = None
    channel: ChannelCode | None = None


class TransferredPayload(ContractModel):
    kind: TransferKind
    to_unit_code: UnitCodeStr | None = None
    to_department: ShortText | None = None
    note: ShortText | None = None

    @model_validator(mode="after")
    def _destination(self) -> TransferredPayload:
        if self.kind is TransferKind.UNIT and self.to_unit_code is None:
            raise ValueError("a transfer between units needs to_unit_code")
        if self.kind is TransferKind.DEPARTMENT and self.to_department is None:
            raise ValueError("a transfer between departments needs to_department")
        return self


class SupplementRequestedPayload(ContractModel):
    reason: ShortText
    missing: tuple[ShortText, ...] = Field((), max_length=MAX_ITEMS)


class SupplementReceivedPayload(ContractModel):
    components: tuple[Component, ...] = Field((), max_length=MAX_ITEMS)


class FinancialObligationRequestedPayload(ContractModel):
    amount: Money
    description: ShortText


class FeePaidPayload(ContractModel):
    amount: Money
    receipt_number: ShortText
    fee_name: ShortText | None = None


class ProcessingStoppedPayload(ContractModel):
    reason: ShortText


class ProcessingResumedPayload(ContractModel):
    note: ShortText | None = None


class DeadlineExtendedPayload(ContractModel):
    """An apology slip with a new return date; the dossier still counts as late."""

    new_due_at: Instant
    apology_slip_number: ShortText
    reason: ShortText


class ResolvedPayload(ContractModel):
    decision: Decision
    result_documents: tuple[ResultDocument, ...] = Field((), max_length=MAX_ITEMS)
    note: ShortText | None = None

    @model_validator(mode="after")
    def _documents(self) -> ResolvedPayload:
        if self.decision is Decision.APPROVED and not self.result_documents:
            raise ValueError("an approved dossier needs at least one result document")
        return self


class ResultReturnedPayload(ContractModel):
    method: ReturnMethodCode


class ComplaintReceivedPayload(ContractModel):
    """A citizen's complaint or petition about the dossier (phản ánh, kiến nghị), received
    while the dossier is open. It changes neither its status nor its deadline."""

    subject: ComplaintSubject
    summary: ShortText | None = None


class WithdrawnPayload(ContractModel):
    reason: ShortText | None = None


# --- envelopes ----------------------------------------------------------------------------


class Envelope(ContractModel):
    """Fields every event carries. ``recorded_at`` is set by the hub when it stores it."""

    event_id: UUID
    dossier_code: DossierCodeStr
    unit_code: UnitCodeStr = Field(description="The unit that performed the action")
    occurred_at: Instant
    recorded_at: Instant | None = None
    source_system: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    actor: Actor


class DossierRegistered(Envelope):
    event_type: Literal["dossier.registered"] = "dossier.registered"
    schema_version: Literal[1]
    payload: RegisteredPayload


class DossierReceived(Envelope):
    event_type: Literal["dossier.received"] = "dossier.received"
    schema_version: Literal[2]
    payload: ReceivedPayload


class DossierRefused(Envelope):
    event_type: Literal["dossier.refused"] = "dossier.refused"
    schema_version: Literal[1]
    payload: RefusedPayload


class DossierTransferred(Envelope):
    event_type: Literal["dossier.transferred"] = "dossier.transferred"
    schema_version: Literal[1]
    payload: TransferredPayload


class SupplementRequested(Envelope):
    event_type: Literal["dossier.supplement_requested"] = "dossier.supplement_requested"
    schema_version: Literal[1]
    payload: SupplementRequestedPayload


class SupplementReceived(Envelope):
    event_type: Literal["dossier.supplement_received"] = "dossier.supplement_received"
    schema_version: Literal[1]
    payload: SupplementReceivedPayload


class FinancialObligationRequested(Envelope):
    event_type: Literal["dossier.financial_obligation_requested"] = (
        "dossier.financial_obligation_requested"
    )
    schema_version: Literal[1]
    payload: FinancialObligationRequestedPayload


class FeePaid(Envelope):
    event_type: Literal["dossier.fee_paid"] = "dossier.fee_paid"
    schema_version: Literal[1]
    payload: FeePaidPayload


class ProcessingStopped(Envelope):
    event_type: Literal["dossier.processing_stopped"] = "dossier.processing_stopped"
    schema_version: Literal[1]
    payload: ProcessingStoppedPayload


class ProcessingResumed(Envelope):
    event_type: Literal["dossier.processing_resumed"] = "dossier.processing_resumed"
    schema_version: Literal[1]
    payload: ProcessingResumedPayload


class DeadlineExtended(Envelope):
    event_type: Literal["dossier.deadline_extended"] = "dossier.deadline_extended"
    schema_version: Literal[1]
    payload: DeadlineExtendedPayload


class DossierResolved(Envelope):
    event_type: Literal["dossier.resolved"] = "dossier.resolved"
    schema_version: Literal[1]
    payload: ResolvedPayload


class ResultReturned(Envelope):
    event_type: Literal["dossier.result_returned"] = "dossier.result_returned"
    schema_version: Literal[1]
    payload: ResultReturnedPayload


class DossierWithdrawn(Envelope):
    event_type: Literal["dossier.withdrawn"] = "dossier.withdrawn"
    schema_version: Literal[1]
    payload: WithdrawnPayload


class ComplaintReceived(Envelope):
    event_type: Literal["dossier.complaint_received"] = "dossier.complaint_received"
    schema_version: Literal[1]
    payload: ComplaintReceivedPayload


DossierEvent = (
    DossierRegistered
    | DossierReceived
    | DossierRefused
    | DossierTransferred
    | SupplementRequested
    | SupplementReceived
    | FinancialObligationRequested
    | FeePaid
    | ProcessingStopped
    | ProcessingResumed
    | DeadlineExtended
    | DossierResolved
    | ResultReturned
    | DossierWithdrawn
    | ComplaintReceived
)

#: The union's classes, in its order.
EVENT_CLASSES: tuple[type[Envelope], ...] = get_args(DossierEvent)
