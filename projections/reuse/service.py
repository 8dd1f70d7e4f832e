"""The reuse look-up as the hub runs it: the index, the catalogue, the rules, the ledger.

:meth:`ReuseService.lookup` is the Python API; the HTTP endpoint and ``dvchub reuse lookup``
call it. The answer is recorded in the ledger before it is returned: no answer leaves the
hub unrecorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog

from events.identity import applicant_id_hash
from hub.adapters.sql import ReadModelDatabase
from hub.auth.credentials import Principal
from hub.catalogue.store import CatalogueStore
from hub.domain.vietnam import VIETNAM
from hub.reuse.decide import Question, decide
from hub.reuse.ledger import Lookup, ReuseLedger
from hub.reuse.models import LookupAnswer, LookupRequest, Refusal
from hub.settings import HubSettings
from projections.reuse import tables
from projections.reuse.fold import IndexedDossier
from projections.reuse.lookups import project
from projections.reuse.worker import prepare

logger = structlog.get_logger("hub.reuse")


class IdentityKeyMissingError(RuntimeError):
    """An identity number was presented but the hub has no identity key to hash it."""


class ReuseService:
    def __init__(
        self,
        settings: HubSettings,
        db: ReadModelDatabase | None = None,
        catalogue: CatalogueStore | None = None,
        ledger: ReuseLedger | None = None,
    ) -> None:
        self.settings = settings
        self.owned = db is None
        self.db = db or ReadModelDatabase(settings)
        self.catalogue = catalogue or CatalogueStore(settings)
        self.ledger = ledger or ReuseLedger(settings)
        if self.owned:
            prepare(self.db)

    def close(self) -> None:
        """Close what this service opened itself (the CLI's; the server shares its own)."""
        if self.owned:
            self.db.close()
            self.catalogue.close()
            self.ledger.close()

    def owner_hash(self, request: LookupRequest) -> str:
        if request.applicant_id_hash is not None:
            return request.applicant_id_hash
        assert request.applicant_id_number is not None
        key = self.settings.identity_key
        if key is None:
            raise IdentityKeyMissingError(
                "no identity key is configured (DVCHUB_IDENTITY_KEY): give applicant_id_hash"
            )
        return applicant_id_hash(key.get_secret_value().encode(), request.applicant_id_number)

    def lookup(self, who: Principal, request: LookupRequest) -> LookupAnswer:
        owner = self.owner_hash(request)
        now = datetime.now(UTC)
        question = Question(
            lookup_id=str(uuid.uuid4()),
            permitted=who.may_reuse_for(request.requesting_unit),
            owner_hash=owner,
            earlier_dossier=request.earlier_dossier,
            procedure_code=request.procedure_code,
            consent_reference=request.consent_reference,
            match=request.match,
            today=now.astimezone(VIETNAM).date(),
        )
        earlier = owners = None
        if question.permitted:
            earlier = tables.one(self.db, request.earlier_dossier)
            if earlier is not None and earlier.owner_hash == owner:
                owners = tables.owned_by(self.db, owner)
        version = self.catalogue.current()
        procedure = None if version is None else version.procedures.get(request.procedure_code)
        answer = decide(question, earlier, owners or [], procedure)
        disclosed = [f"{r.document_type} {r.reference_number} {r.sha256}" for r in answer.results]
        disclosed += [f"{c.code} {c.sha256}" for c in answer.components]
        self.ledger.record(
            Lookup(
                lookup_id=answer.lookup_id,
                at=now,
                dossier_code=request.earlier_dossier,
                key_id=who.key_id,
                principal=who.name,
                requesting_unit=request.requesting_unit,
                applicant_hash=owner,
                procedure_code=request.procedure_code,
                consent_reference=request.consent_reference,
                mode="full" if request.match is None else "match",
                outcome=answer.outcome,
                reason=None if answer.reason is None else answer.reason.value,
                disclosed=disclosed,
                detail=_detail(answer, earlier),
            )
        )
        try:
            project(self.db, self.ledger)  # the counts catch up now; reports catch up anyway
        except Exception:  # the look-up is in the ledger; the table is derived from it
            logger.warning("reuse.lookups_table_behind", exc_info=True)
        logger.info(
            "reuse.lookup",
            dossier_code=request.earlier_dossier,
            requesting_unit=request.requesting_unit,
            key_id=who.key_id,
            outcome=answer.outcome,
            reason=answer.reason,
        )
        return answer


def _detail(answer: LookupAnswer, earlier: IndexedDossier | None) -> str | None:
    """What the agency is not told but the auditor is: which of the two a ``not_found`` was."""
    if answer.reason is not Refusal.NOT_FOUND:
        return None
    return "unknown_code" if earlier is None else "applicant_mismatch"
