"""The dossier event store: an eventsourcing application over SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
from typing import cast
from uuid import UUID

from eventsourcing.application import project_aggregate

from hub.adapters.persistence import HubApplication
from hub.domain.dossier import Dossier, dossier_id


class DossierStore(HubApplication):
    """Stores every dossier's events; its table is ``dossiers_events``."""

    name = "Dossiers"

    def dossier(self, code: str) -> Dossier | None:
        """The dossier as stored now, read past any cache; ``None`` if unknown."""
        events = self.events.get(dossier_id(code))
        return cast(Dossier | None, project_aggregate(None, events))

    def forget_cached(self, ids: list[UUID]) -> None:
        """Drop dossiers from the aggregate cache (after a concurrent write beat us)."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate_id in ids:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)
