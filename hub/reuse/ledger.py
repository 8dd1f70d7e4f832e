"""Every reuse look-up, recorded as an event before its answer leaves the hub.

The ledger is an event-sourced application of its own (table ``reuselookups_events`` in
PostgreSQL, ``reuse.sqlite3`` embedded): one aggregate per earlier dossier code, one
``LookedUp`` event per look-up of it, so a dossier's look-ups are read back in order from its
own stream. A look-up of an unknown code is recorded under that code too. The
``reuse_lookups`` table (:mod:`projections.reuse.lookups`) is a projection of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import stamina
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from hub.adapters.persistence import HubApplication
from hub.settings import HubSettings


def ledger_id(dossier_code: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:dvc-hub:reuse:{dossier_code}")


class DossierLookups(Aggregate):
    """The look-ups of one earlier dossier."""

    class Started(Aggregate.Created):
        dossier_code: str

    class LookedUp(Aggregate.Event):
        dossier_code: str
        lookup_id: str
        at: str
        key_id: str
        principal: str
        requesting_unit: str
        applicant_hash: str
        procedure_code: str
        consent_reference: str | None
        mode: str  # "full" or "match"
        outcome: str
        reason: str | None
        disclosed: list[str]  # reference numbers and document digests handed over

        def apply(self, aggregate: Any) -> None:
            aggregate.count += 1

    def __init__(self, dossier_code: str) -> None:
        self.dossier_code = dossier_code
        self.count = 0


@dataclass(frozen=True)
class Lookup:
    """One recorded look-up, as the audit history shows it."""

    lookup_id: str
    at: datetime
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


class ReuseLedger(HubApplication):
    name = "ReuseLookups"

    def __init__(self, settings: HubSettings) -> None:
        super().__init__(settings.model_copy(update={"aggregate_cache_size": 0}), "reuse")

    def record(self, lookup: Lookup) -> None:
        """Append ``lookup`` to its dossier's stream; concurrent look-ups of one dossier are
        serialised by the stream's version (the loser reads it again and appends after)."""
        for attempt in stamina.retry_context(on=IntegrityError, attempts=10, wait_initial=0.01):
            with attempt:
                aggregate = self._stream(lookup.dossier_code)
                aggregate.trigger_event(
                    DossierLookups.LookedUp,
                    dossier_code=lookup.dossier_code,
                    lookup_id=lookup.lookup_id,
                    at=lookup.at.isoformat(),
                    key_id=lookup.key_id,
                    principal=lookup.principal,
                    requesting_unit=lookup.requesting_unit,
                    applicant_hash=lookup.applicant_hash,
                    procedure_code=lookup.procedure_code,
                    consent_reference=lookup.consent_reference,
                    mode=lookup.mode,
                    outcome=lookup.outcome,
                    reason=lookup.reason,
                    disclosed=lookup.disclosed,
                )
                self.save(aggregate)

    def history(self, dossier_code: str) -> list[Lookup]:
        """The look-ups of one dossier, oldest first."""
        return [
            _lookup(e)
            for e in self.events.get(ledger_id(dossier_code))
            if isinstance(e, DossierLookups.LookedUp)
        ]

    def _stream(self, dossier_code: str) -> Any:
        try:
            return self.repository.get(ledger_id(dossier_code))
        except AggregateNotFoundError:
            return DossierLookups._create(
                DossierLookups.Started, id=ledger_id(dossier_code), dossier_code=dossier_code
            )


def _lookup(event: Any) -> Lookup:
    return Lookup(
        event.lookup_id,
        datetime.fromisoformat(event.at),
        event.dossier_code,
        event.key_id,
        event.principal,
        event.requesting_unit,
        event.applicant_hash,
        event.procedure_code,
        event.consent_reference,
        event.mode,
        event.outcome,
        event.reason,
        list(event.disclosed),
    )
