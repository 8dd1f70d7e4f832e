"""The reuse index's worker: read published events, fold each dossier, write the index rows
and the checkpoint in one transaction (as :mod:`projections.runner` does for progress).

Each row remembers the position of the last event folded into it, so an event read twice
(after a crash, or by a worker racing a rebuild) changes nothing. A rebuild folds the whole
log into a fresh table and swaps it in under a new generation, as the progress rebuild does;
workers then resume after the position it reached.
"""

from __future__ import annotations

import threading

import structlog

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.sources import Checkpoint, Delivery, Source, consume, last_per_part
from hub.log_reader import LoggedEvent, last_position, log_page
from projections import checkpoints, metrics
from projections.reuse import lookups, tables
from projections.reuse.fold import fold
from projections.runner import GenerationChanged

PROJECTION = "reuse_index"
logger = structlog.get_logger("projections.reuse")


def prepare(db: ReadModelDatabase) -> None:
    """Create the reuse index's and the look-ups' tables, and its generation row, if missing."""
    db.create(
        checkpoints.create_statements()
        + tables.create_statements(db)
        + lookups.create_statements(db)
    )
    with db.transaction():
        checkpoints.ensure(db, PROJECTION)


class ReuseIndexWorker:
    def __init__(self, db: ReadModelDatabase, source: Source) -> None:
        self.db, self.source = db, source
        self.applied_total = 0
        self.generation = -1

    def start(self) -> None:
        prepare(self.db)
        self.generation = checkpoints.generation(self.db, PROJECTION).number
        self.source.start(self._resume)

    def _resume(self, parts: list[int]) -> dict[int, Checkpoint]:
        """Each part's checkpoint; a part without one starts after the last rebuild."""
        floor = checkpoints.generation(self.db, PROJECTION).rebuilt_to
        found = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
        return {part: found.get(part, Checkpoint(part, floor, None)) for part in parts}

    def handle(self, batch: list[Delivery]) -> int:
        """Fold one batch in one transaction; the number of events applied. Raises
        GenerationChanged once a rebuild has swapped its table in."""
        with self.db.transaction():
            current = checkpoints.generation(self.db, PROJECTION, lock="SHARE")
            if current.number != self.generation:
                raise GenerationChanged(f"generation {self.generation} -> {current.number}")
            done = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
            floors = {part: max(cp.position, current.rebuilt_to) for part, cp in done.items()}
            fresh = []
            for delivery in batch:
                if delivery.position > floors.get(delivery.part, current.rebuilt_to):
                    fresh.append(delivery)
                    floors[delivery.part] = delivery.position
            _fold_into(self.db, [(d.position, d.decode()[0]) for d in fresh])
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
        consume(self.source, self._handle_live, self.db.connect, stop, PROJECTION, idle)

    def _handle_live(self, batch: list[Delivery]) -> None:
        try:
            self.handle(batch)
        except GenerationChanged as change:
            logger.info("projections.generation_changed", detail=str(change))
            self.generation = checkpoints.generation(self.db, PROJECTION).number
            self.source.restart()


def _fold_into(
    db: ReadModelDatabase, records: list[tuple[int, dict[str, object]]], suffix: str = ""
) -> None:
    """Fold ``(position, record)`` pairs into the rows of their dossiers."""
    if not records:
        return
    codes = sorted({str(record["dossier_code"]) for _, record in records})
    known = tables.load(db, codes, suffix)
    for position, record in records:
        code = str(record["dossier_code"])
        known[code] = fold(known.get(code), position, record)
    tables.save(db, list(known.values()), suffix)


def catch_up(db: ReadModelDatabase, source: Source) -> int:
    """Fold everything ``source`` has now; the number of events applied."""
    worker = ReuseIndexWorker(db, source)
    worker.start()
    never = threading.Event()
    while batch := source.poll(never):
        try:
            worker.handle(batch)
        except GenerationChanged:
            worker.generation = checkpoints.generation(db, PROJECTION).number
            source.restart()
    return worker.applied_total


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

    def pairs(batch: list[LoggedEvent]) -> list[tuple[int, dict[str, object]]]:
        return [(item.position, item.record) for item in batch]

    while after < upto:
        batch = [e for e in log_page(store, after + 1, page) if e.position <= upto]
        if not batch:
            break
        with db.transaction():
            _fold_into(db, pairs(batch), suffix)
        events, after = events + len(batch), batch[-1].position
    with db.transaction():
        checkpoints.generation(db, PROJECTION, lock="UPDATE")
        while batch := log_page(store, after + 1, page):
            _fold_into(db, pairs(batch), suffix)
            events, after = events + len(batch), batch[-1].position
        db.execute(f"DROP TABLE IF EXISTS {tables.DOSSIERS}")
        db.execute(f"ALTER TABLE {tables.DOSSIERS}{suffix} RENAME TO {tables.DOSSIERS}")
        db.execute_script(tables.index_statements())
        checkpoints.start_generation(db, PROJECTION, after)
    return events, after
