"""The look-up's request and answer, as agency systems send and receive them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.codes import DossierCodeStr, ProcedureCodeStr, UnitCodeStr
from events.models import IdentityHash, Sha256Hex, ShortText


class Refusal(StrEnum):
    """Why a look-up was refused. ``not_found`` covers both an unknown code and a dossier of
    someone else: telling them apart would tell a stranger that the dossier exists."""

    AGENCY_NOT_PERMITTED = "agency_not_permitted"  # the credential may not look up for this unit
    CONSENT_MISSING = "consent_missing"  # no consent reference from the applicant
    NOT_FOUND = "not_found"  # no dossier of that code belongs to this applicant
    DENIED = "dossier_denied"  # the earlier dossier was resolved with a denial
    WITHDRAWN = "dossier_withdrawn"  # withdrawn by the applicant
    REFUSED = "dossier_refused"  # refused at the desk
    NOT_RESOLVED = "dossier_not_resolved"  # still being processed: no result yet
    PROCEDURE_UNKNOWN = "procedure_unknown"  # procedure P is not in the catalogue
    NOTHING_REUSABLE = "nothing_reusable"  # no document of it stands in for one P asks for
    SUPERSEDED = "result_superseded"  # every matching result was replaced by a later one
    EXPIRED = "result_expired"  # every matching result is past its validity


class Match(BaseModel):
    """A "match only" question: does a valid document of this type and number exist?"""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    document_type: ShortText
    reference_number: ShortText


class LookupRequest(BaseModel):
    """Which of the earlier dossier's documents may ``requesting_unit`` reuse for a new dossier
    of ``procedure_code``, for the applicant it presents? The applicant is given by identity
    number (hashed at once with the province's identity key, never stored) or by its keyed
    hash."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    requesting_unit: UnitCodeStr
    earlier_dossier: DossierCodeStr
    procedure_code: ProcedureCodeStr
    applicant_id_number: ShortText | None = Field(None, repr=False)
    applicant_id_hash: IdentityHash | None = None
    consent_reference: ShortText | None = Field(
        None, description="The applicant's consent to reuse (reference of the consent record)"
    )
    match: Match | None = Field(None, description="Ask only whether this document exists")

    @model_validator(mode="after")
    def _one_identity(self) -> LookupRequest:
        if (self.applicant_id_number is None) == (self.applicant_id_hash is None):
            raise ValueError("give the applicant's applicant_id_number or applicant_id_hash")
        return self


class ReusableComponent(BaseModel):
    """A document submitted with the earlier dossier that may be reused."""

    satisfies: str = Field(description="The code of the document procedure P asks for")
    code: str
    name: str
    sha256: Sha256Hex


class ReusableResult(BaseModel):
    """A result of the earlier dossier that may be reused."""

    satisfies: str
    document_type: str
    name: str
    reference_number: str
    issued_on: date
    valid_until: date | None
    issuing_unit: UnitCodeStr
    sha256: Sha256Hex


class LookupAnswer(BaseModel):
    lookup_id: str
    outcome: Literal["granted", "refused", "matched", "not_matched"]
    reason: Refusal | None = None
    message: str
    earlier_dossier: str
    procedure_code: str
    components: list[ReusableComponent] = []
    results: list[ReusableResult] = []


#: Where a dossier of the reuse index ended (``open`` until resolved).
OPEN, APPROVED, DENIED, WITHDRAWN, REFUSED = "open", "approved", "denied", "withdrawn", "refused"


@dataclass
class IndexedDossier:
    dossier_code: str
    unit_code: str
    position: int = 0  # the last event folded in: replays at or before it are ignored
    procedure_code: str | None = None
    owner_hash: str | None = None
    status: str = OPEN
    received_on: date | None = None
    resolved_on: date | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    reuses: list[str] = field(default_factory=list)
