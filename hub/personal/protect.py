"""Seal applicant details on their way into the store: the ingest path's one step for
personal data. Events without details pass untouched (and cost nothing)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from events.errors import EventRejected
from events.models import (
    ApplicantDetails,
    DossierEvent,
    Envelope,
    SealedApplicantDetails,
    SubmissionPayload,
)
from events.reasons import RejectReason
from hub.ingest import Outcome
from hub.personal.keys import ApplicantKeys
from hub.personal.sealing import seal
from hub.settings import HubSettings


def _submission(item: DossierEvent | Outcome) -> SubmissionPayload | None:
    if isinstance(item, Envelope):
        payload = getattr(item, "payload", None)
        if isinstance(payload, SubmissionPayload):
            return payload
    return None


class Protector:
    """Replaces each event's applicant details with their sealed form."""

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self._keys: ApplicantKeys | None = None
        self._opening = threading.Lock()

    @property
    def keys(self) -> ApplicantKeys:
        with self._opening:
            if self._keys is None:
                self._keys = ApplicantKeys(self.settings)
            return self._keys

    def protect(self, items: Sequence[DossierEvent | Outcome]) -> list[DossierEvent | Outcome]:
        """``items`` with details sealed; an event whose details arrive already sealed is
        refused (only the hub seals). Outcomes pass as they are."""
        owners = [
            payload.applicant_id_hash
            for payload in map(_submission, items)
            if payload is not None and isinstance(payload.applicant, ApplicantDetails)
        ]
        keys = self.keys.get_or_create(owners) if owners else {}
        out: list[DossierEvent | Outcome] = []
        for item in items:
            payload = _submission(item)
            if payload is None or payload.applicant is None or isinstance(item, Outcome):
                out.append(item)
            elif isinstance(payload.applicant, SealedApplicantDetails):
                error = EventRejected(
                    RejectReason.SCHEMA_VIOLATION,
                    "payload.applicant: send the details themselves; only the hub seals them",
                    field="payload.applicant",
                )
                out.append(Outcome.rejected(error, item))
            else:
                owner = payload.applicant_id_hash
                try:
                    sealed = seal(payload.applicant, keys[owner], owner, item.event_id)
                except Exception as error:  # one event's trouble stays with that event
                    refusal = EventRejected(
                        RejectReason.UNPROCESSABLE,
                        f"the applicant's details could not be sealed ({type(error).__name__})",
                        field="payload.applicant",
                    )
                    out.append(Outcome.rejected(refusal, item))
                    continue
                update = {"payload": payload.model_copy(update={"applicant": sealed})}
                out.append(item.model_copy(update=update))
        return out

    def close(self) -> None:
        if self._keys is not None:
            self._keys.close()
