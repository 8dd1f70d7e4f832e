"""The unit progress projection's worker: the generic :class:`ProjectionWorker` applying the
progress fold (see :mod:`projections.worker` for checkpoints, generations and crashes)."""

from __future__ import annotations

import structlog

from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Delivery, Source
from projections import checkpoints
from projections.progress import tables
from projections.progress.facts import fact_from_json, fact_of
from projections.progress.fold import ProgressFold
from projections.worker import BatchResult, GenerationChanged, ProjectionWorker

__all__ = ["PROJECTION", "BatchResult", "GenerationChanged", "ProgressWorker", "catch_up"]

PROJECTION = "unit_progress"
logger = structlog.get_logger("projections.runner")


def prepare(db: ReadModelDatabase) -> None:
    """Create the read model's tables and its generation row if they are missing."""
    db.create(
        checkpoints.create_statements() + parked.create_statements() + tables.create_statements(db)
    )
    with db.transaction():
        checkpoints.ensure(db, PROJECTION)


class UnitProgress:
    name = PROJECTION

    def prepare(self, db: ReadModelDatabase) -> None:
        prepare(db)

    def apply(self, db: ReadModelDatabase, fresh: list[Delivery]) -> int:
        facts = [
            fact_from_json(d.position, d.value)  # only the fields the fold needs
            if isinstance(d.value, bytes)
            else fact_of(d.position, *d.decode())
            for d in fresh
        ]
        fold = ProgressFold(tables.load_dossiers(db, {f.dossier_code for f in facts}))
        for fact in facts:
            fold.apply(fact)
        rows, touched = fold.take()
        tables.add_rows(db, rows)
        tables.save_dossiers(db, fold.dossiers, touched)
        tables.save_late(db, fold.take_late())
        for fact in fold.unknown:
            logger.error(
                "projections.unknown_dossier",
                dossier_code=fact.dossier_code,
                event_type=fact.event_type,
                position=fact.position,
            )
        return len(fold.unknown)


class ProgressWorker(ProjectionWorker):
    def __init__(self, db: ReadModelDatabase, source: Source) -> None:
        super().__init__(UnitProgress(), db, source)


def catch_up(db: ReadModelDatabase, source: Source) -> int:
    """Apply everything ``source`` has now, then return the number of events applied."""
    return ProgressWorker(db, source).catch_up()
