"""The reuse index's worker: read published events, fold each dossier, write the index rows
and the checkpoint in one transaction (as :mod:`projections.runner` does for progress).

Each row remembers the position of the last event folded into it, so an event read twice
(after a crash, or by a rebuild racing a live worker) changes nothing.
"""

from __future__ import annotations

import threading

import structlog

from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Checkpoint, Delivery, Source, consume, last_per_part
from projections import checkpoints, metrics
from projections.reuse import lookups, tables
from projections.reuse.fold import fold

PROJECTION = "reuse_index"
logger = structlog.get_logger("projections.reuse")


def prepare(db: ReadModelDatabase) -> None:
    """Create the reuse index's and the look-ups' tables if they are missing."""
    db.create(
        checkpoints.create_statements()
        + tables.create_statements(db)
        + lookups.create_statements(db)
    )


class ReuseIndexWorker:
    def __init__(self, db: ReadModelDatabase, source: Source) -> None:
        self.db, self.source = db, source
        self.applied_total = 0

    def start(self) -> None:
        prepare(self.db)
        self.source.start(self._resume)

    def _resume(self, parts: list[int]) -> dict[int, Checkpoint]:
        found = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
        return {part: found.get(part, Checkpoint(part, 0, None)) for part in parts}

    def handle(self, batch: list[Delivery]) -> int:
        """Fold one batch in one transaction; the number of events applied."""
        with self.db.transaction():
            done = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
            floors = {part: cp.position for part, cp in done.items()}
            fresh = []
            for delivery in batch:
                if delivery.position > floors.get(delivery.part, 0):
                    fresh.append(delivery)
                    floors[delivery.part] = delivery.position
            records = [(d.position, d.decode()[0]) for d in fresh]
            known = tables.load(self.db, sorted({r["dossier_code"] for _, r in records}))
            for position, record in records:
                code = record["dossier_code"]
                known[code] = fold(known.get(code), position, record)
            tables.save(self.db, list(known.values()))
            for part, delivery in last_per_part(batch).items():
                position = max(floors.get(part, 0), delivery.position)
                checkpoints.advance(
                    self.db, PROJECTION, self.source.name, part, position, delivery.offset
                )
        self.applied_total += len(fresh)
        metrics.EVENTS.labels(PROJECTION, "applied").inc(len(fresh))
        metrics.EVENTS.labels(PROJECTION, "skipped").inc(len(batch) - len(fresh))
        return len(fresh)

    def run(self, stop: threading.Event, idle: threading.Event | None = None) -> None:
        self.start()
        consume(self.source, self.handle, self.db.connect, stop, PROJECTION, idle)


def catch_up(db: ReadModelDatabase, source: Source) -> int:
    """Fold everything ``source`` has now; the number of events applied."""
    worker = ReuseIndexWorker(db, source)
    worker.start()
    never = threading.Event()
    while batch := source.poll(never):
        worker.handle(batch)
    return worker.applied_total
