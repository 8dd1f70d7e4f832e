"""The reuse index's worker: read published events, fold each dossier, write the index rows
and the checkpoint in one transaction (as :mod:`projections.runner` does for progress).

Each row remembers the position of the last event folded into it, so an event read twice
(after a crash, or by a worker racing a rebuild) changes nothing. A rebuild folds the whole
log into a fresh table and swaps it in under a new generation, as the progress rebuild does;
workers then resume after the position it reached (:mod:`projections.worker`).
"""

from __future__ import annotations

from typing import Any

import structlog

from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.sources import Delivery, Source
from hub.log_reader import last_position, record_page
from projections import checkpoints
from projections.rebuild_parking import Parking
from projections.reuse import lookups, tables
from projections.reuse.fold import fold
from projections.worker import ProjectionWorker

PROJECTION = "reuse_index"
logger = structlog.get_logger("projections.reuse")


def prepare(db: ReadModelDatabase) -> None:
    """Create the reuse index's and the look-ups' tables, and its generation row, if missing."""
    db.create(
        checkpoints.create_statements()
        + parked.create_statements()
        + tables.create_statements(db)
        + lookups.create_statements(db)
    )
    with db.transaction():
        checkpoints.ensure(db, PROJECTION)


class ReuseIndex:
    name = PROJECTION

    def prepare(self, db: ReadModelDatabase) -> None:
        prepare(db)

    def apply(self, db: ReadModelDatabase, fresh: list[Delivery]) -> int:
        _fold_into(db, [(d.position, d.decode()[0]) for d in fresh])
        return 0


class ReuseIndexWorker(ProjectionWorker):
    def __init__(self, db: ReadModelDatabase, source: Source) -> None:
        super().__init__(ReuseIndex(), db, source)


def _fold_into(
    db: ReadModelDatabase,
    records: list[tuple[int, dict[str, Any]]],
    suffix: str = "",
    parking: Parking | None = None,
) -> None:
    """Fold ``(position, record)`` pairs into the rows of their dossiers. With ``parking``
    (a rebuild), a record the fold cannot take is parked and the others go on; without,
    the error is raised (a worker then parks it alone)."""
    if not records:
        return
    codes = sorted({str(record.get("dossier_code")) for _, record in records})
    known = tables.load(db, codes, suffix)
    for position, record in records:
        code = str(record.get("dossier_code"))
        try:
            known[code] = fold(known.get(code), position, record)
        except Exception as error:
            if parking is None:
                raise
            parking.failed(position, record, error)
    tables.save(db, list(known.values()), suffix)


def catch_up(db: ReadModelDatabase, source: Source) -> int:
    """Fold everything ``source`` has now; the number of events applied."""
    return ReuseIndexWorker(db, source).catch_up()


def rebuild(db: ReadModelDatabase, store: DossierStore, page: int = 20_000) -> tuple[int, int]:
    """Fold the whole log into a fresh table and swap it in under live workers: the log up
    to now first, then, holding the generation row, whatever arrived since; the generation
    then moves on and workers resume after it. Returns (events folded, position reached)."""
    prepare(db)
    suffix = "__rebuild"
    with db.transaction():
        db.execute(f"DROP TABLE IF EXISTS {tables.DOSSIERS}{suffix}")
        db.execute_script(tables.create_statements(db, suffix, indexes=False))
    upto, after, events = last_position(store), 0, 0
    parking = Parking(PROJECTION)
    while after < upto:
        batch = [item for item in record_page(store, after + 1, page) if item[0] <= upto]
        if not batch:
            break
        with db.transaction():
            _fold_into(db, batch, suffix, parking)
        events, after = events + len(batch), batch[-1][0]
    with db.transaction():
        checkpoints.generation(db, PROJECTION, lock="UPDATE")
        while batch := record_page(store, after + 1, page):
            _fold_into(db, batch, suffix, parking)
            events, after = events + len(batch), batch[-1][0]
        db.execute(f"DROP TABLE IF EXISTS {tables.DOSSIERS}")
        db.execute(f"ALTER TABLE {tables.DOSSIERS}{suffix} RENAME TO {tables.DOSSIERS}")
        db.execute_script(tables.index_statements())
        checkpoints.start_generation(db, PROJECTION, after)
        parked.replace_all(db, PROJECTION, parking.events)
    return events, after
