"""Every reuse look-up, recorded as an event before its answer leaves the hub.

The ledger is an event-sourced application of its own (table ``reuselookups_events`` in
PostgreSQL, ``reuse.sqlite3`` embedded): one aggregate per earlier dossier code, one
``LookedUp`` event per look-up of it, so a dossier's look-ups are read back in order from its
own stream. A look-up of an unknown code is recorded under that code too. The
``reuse_lookups`` table (:mod:`projections.reuse.lookups`) is a projection of the ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class Lookup:
    """One recorded look-up, as the audit history shows it."""

    lookup_id: str
    at: datetime
    dossier_code: str
    key_id: str  # the credential's key id ("cli" for an operator)
    principal: str
    requesting_unit: str
    applicant_hash: str
    procedure_code: str
    consent_reference: str | None
    mode: str  # "full" or "match"
    outcome: str
    reason: str | None
    disclosed: list[str]  # reference numbers and document digests handed over
    detail: str | None = None  # for auditors only: why not_found ("unknown_code", ...)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lookup:
        return cls(**{**data, "at": datetime.fromisoformat(data["at"])})


class DossierLookups(Aggregate):
    """The look-ups of one earlier dossier."""

    class Started(Aggregate.Created):
        dossier_code: str

    class LookedUp(Aggregate.Event):
        lookup: dict[str, Any]  # a Lookup as JSON

        def apply(self, aggregate: Any) -> None:
            aggregate.count += 1

    def __init__(self, dossier_code: str) -> None:
        self.dossier_code = dossier_code
        self.count = 0


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
                aggregate.trigger_event(DossierLookups.LookedUp, lookup=lookup.to_json())
                self.save(aggregate)

    def history(self, dossier_code: str) -> list[Lookup]:
        """The look-ups of one dossier, oldest first."""
        return [
            Lookup.from_json(e.lookup)
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
