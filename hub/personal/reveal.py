"""Show an auditor a dossier's applicant details, recording the read first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from events.models import ApplicantDetails, SealedApplicantDetails
from hub.application import DossierStore
from hub.auth.credentials import Principal, Role
from hub.log_reader import dossier_history
from hub.personal.keys import ApplicantKeys
from hub.personal.reads import PersonalDataRead, PersonalDataReads, ReadOutcome
from hub.personal.sealing import UnreadableDetailsError, unseal


class NotAnAuditorError(PermissionError):
    """Only auditor credentials see personal data (the attempt is recorded)."""


class UnknownDossierError(LookupError):
    pass


@dataclass(frozen=True)
class Revealed:
    dossier_code: str
    applicant_hash: str | None
    details: ApplicantDetails | None
    outcome: ReadOutcome
    read_id: str


def _latest_sealed(
    store: DossierStore, code: str
) -> tuple[str | None, SealedApplicantDetails | None, uuid.UUID | None]:
    events = dossier_history(store, code)
    if not events:
        raise UnknownDossierError(f"dossier {code} is not in the store")
    owner, sealed, event_id = None, None, None
    for event in events:
        payload = event.record.get("payload") or {}
        if "applicant_id_hash" in payload:
            owner = payload["applicant_id_hash"]
        if payload.get("applicant"):
            sealed = SealedApplicantDetails.model_validate(payload["applicant"])
            event_id = uuid.UUID(event.record["event_id"])
    return owner, sealed, event_id


def reveal(
    store: DossierStore,
    keys: ApplicantKeys,
    reads: PersonalDataReads,
    who: Principal,
    code: str,
    purpose: str,
) -> Revealed:
    """The dossier's latest applicant details, for an auditor; the read is recorded before
    it is answered, and so is a refused attempt."""
    owner, sealed, event_id = _latest_sealed(store, code)
    details: ApplicantDetails | None = None
    outcome: ReadOutcome
    if who.role is not Role.AUDITOR:
        outcome = "refused"
    elif sealed is None or event_id is None:
        outcome = "none"
    else:
        key = keys.get(sealed.key)
        if key is None:
            outcome = "erased"
        else:
            try:
                details = unseal(sealed, key, event_id)
                outcome = "revealed"
            except UnreadableDetailsError:
                outcome = "erased"  # sealed under an erased key; the applicant has a new one
    read = PersonalDataRead(
        read_id=str(uuid.uuid4()),
        at=datetime.now(UTC),
        dossier_code=code,
        key_id=who.key_id,
        principal=who.name,
        role=who.role.value,
        purpose=purpose,
        applicant_hash=owner,
        outcome=outcome,
        fields=sorted(details.model_dump(exclude_none=True)) if details else [],
    )
    reads.record(read)
    if outcome == "refused":
        raise NotAnAuditorError("personal data is shown to auditor credentials only")
    return Revealed(code, owner, details, outcome, read.read_id)
