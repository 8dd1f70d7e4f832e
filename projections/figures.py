"""The published figures as a query service: what the CLI, the HTTP API and the replay of an
audit all ask for, built one way. No entrypoint builds a report itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.sources import LogSource
from hub.catalogue.versions import CatalogueVersion
from hub.domain.vietnam import VIETNAM
from hub.reuse.ledger import ReuseLedger
from projections import registry
from projections.as_of import as_of, last_whole_day
from projections.choices import View
from projections.periods import Granularity, Period, bucket_of
from projections.progress import queries
from projections.report_cache import Kept
from projections.reports import ProvinceReport, province_report
from projections.reuse.lookups import project as project_lookups

__all__ = ["catch_up_from_log", "kept_report", "latest_period", "report"]


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
    *,
    now: datetime,
    view: View = View.THEN,
) -> ProvinceReport:
    """The period's report from the read models as they stand, counted as of ``now`` (up
    to the last day ended, :mod:`projections.as_of`), the reuse look-ups recorded so far
    projected first. :class:`~projections.reports.UnknownUnitError` for a card of a unit the
    catalogue does not have."""
    project_lookups(db, ledger)
    return province_report(db, catalogue, period, list(cards), now=now, view=view)


def latest_period(db: ReadModelDatabase, now: datetime) -> Period:
    """What a reader is shown first: the half-year of the last ended day with figures (the
    current half-year when there are none), so a hub holding an earlier year opens on it."""
    through = last_whole_day(now)
    day = queries.last_day(db, through)
    return bucket_of(through if day is None else day, Granularity.HALF)


def kept_report(
    db: ReadModelDatabase,
    cache: Kept[ProvinceReport],
    catalogue: CatalogueVersion | None,
    period: Period,
    now: datetime,
    cards: Sequence[str] = (),
    view: View = View.THEN,
) -> ProvinceReport:
    """The period's report as of ``now``, as :func:`report` makes it without the look-ups'
    projection, kept a short while (:mod:`projections.report_cache`)."""
    cut = as_of(period, now)
    key = (
        cut.counted.start,
        cut.counted.end,
        cut.through,
        period.label,
        None if catalogue is None else catalogue.version,
        tuple(cards),
        view,
        now.astimezone(VIETNAM).date() if view is View.RESTATED else None,  # restated onto
    )
    return cache.get(
        key, lambda: province_report(db, catalogue, period, list(cards), now=now, view=view)
    )
