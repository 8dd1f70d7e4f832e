"""The published figures as a query service: what the CLI, the HTTP API and the replay of an
audit all ask for, built one way. No entrypoint builds a report itself."""

from __future__ import annotations

from collections.abc import Sequence

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.sources import LogSource
from hub.catalogue.versions import CatalogueVersion
from hub.reuse.ledger import ReuseLedger
from projections import registry
from projections.periods import Period
from projections.reports import ProvinceReport, province_report
from projections.reuse.lookups import project as project_lookups

__all__ = ["catch_up_from_log", "report"]


def catch_up_from_log(db: ReadModelDatabase, store: DossierStore) -> int:
    """Embedded (no bus): bring every projection up to the log's newest events now; the
    number of events applied. Each projection makes its tables as its worker starts."""
    return registry.catch_up_all(db, lambda: LogSource(store))


def report(
    db: ReadModelDatabase,
    ledger: ReuseLedger,
    catalogue: CatalogueVersion | None,
    period: Period,
    cards: Sequence[str] = (),
) -> ProvinceReport:
    """The period's report from the read models as they stand, the reuse look-ups recorded
    so far projected first. :class:`~projections.reports.UnknownUnitError` for a card of a
    unit the catalogue does not have."""
    project_lookups(db, ledger)
    return province_report(db, catalogue, period, list(cards))
