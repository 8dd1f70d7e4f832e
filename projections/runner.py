"""The projection worker: read published events, fold them, write the read model and the
checkpoint in one transaction.

A crash between two transactions loses nothing and counts nothing twice: the next worker
resumes from the checkpoint written with the rows. Several workers share the events
topic's partitions (a Kafka consumer group); every dossier's events are in one partition,
so each dossier is folded by one worker at a time, in order. Events at or before a part's
checkpoint, or before the position of the last rebuild, are skipped unread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import structlog

from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Checkpoint, Delivery, Source, consume, last_per_part
from projections import checkpoints, metrics
from projections.progress import tables
from projections.progress.facts import fact_of
from projections.progress.fold import ProgressFold

PROJECTION = "unit_progress"
logger = structlog.get_logger("projections.runner")


class GenerationChanged(Exception):
    """A rebuild swapped the tables in since this worker last read its checkpoints."""


def prepare(db: ReadModelDatabase) -> None:
    """Create the read model's tables and its generation row if they are missing."""
    db.create(checkpoints.create_statements() + tables.create_statements(db))
    with db.transaction():
        checkpoints.ensure(db, PROJECTION)


@dataclass
class BatchResult:
    applied: int = 0
    skipped: int = 0
    unknown: int = 0


@dataclass
class ProgressWorker:
    db: ReadModelDatabase
    source: Source
    generation: int = -1
    applied_total: int = 0
    last_batch_at: float = field(default_factory=time.monotonic)

    def start(self) -> None:
        prepare(self.db)
        self.generation = checkpoints.generation(self.db, PROJECTION).number
        self.source.start(self._resume)

    def _resume(self, parts: list[int]) -> dict[int, Checkpoint]:
        """Each part's checkpoint; a part without one starts after the last rebuild."""
        floor = checkpoints.generation(self.db, PROJECTION).rebuilt_to
        found = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
        return {part: found.get(part, Checkpoint(part, floor, None)) for part in parts}

    def handle(self, batch: list[Delivery]) -> BatchResult:
        """Apply one batch in one transaction; raise GenerationChanged after a rebuild."""
        result = BatchResult()
        with self.db.transaction():
            current = checkpoints.generation(self.db, PROJECTION, lock="SHARE")
            if current.number != self.generation:
                raise GenerationChanged(f"generation {self.generation} -> {current.number}")
            done = checkpoints.checkpoints(self.db, PROJECTION, self.source.name)
            floors = {part: max(cp.position, current.rebuilt_to) for part, cp in done.items()}
            fresh: list[Delivery] = []
            for delivery in batch:
                floor = floors.get(delivery.part, current.rebuilt_to)
                if delivery.position <= floor:
                    result.skipped += 1
                    continue
                fresh.append(delivery)
                floors[delivery.part] = delivery.position
            if fresh:
                facts = [fact_of(d.position, *d.decode()) for d in fresh]
                fold = ProgressFold(tables.load_dossiers(self.db, {f.dossier_code for f in facts}))
                for fact in facts:
                    fold.apply(fact)
                rows, touched = fold.take()
                tables.add_rows(self.db, rows)
                tables.save_dossiers(self.db, fold.dossiers, touched)
                result.unknown = len(fold.unknown)
                for fact in fold.unknown:
                    logger.error(
                        "projections.unknown_dossier",
                        dossier_code=fact.dossier_code,
                        event_type=fact.event_type,
                        position=fact.position,
                    )
            for part, delivery in last_per_part(batch).items():
                position = max(floors.get(part, 0), delivery.position)
                checkpoints.advance(
                    self.db, PROJECTION, self.source.name, part, position, delivery.offset
                )
        result.applied = len(fresh)
        self.applied_total += result.applied
        metrics.EVENTS.labels(PROJECTION, "applied").inc(result.applied)
        metrics.EVENTS.labels(PROJECTION, "skipped").inc(result.skipped)
        metrics.EVENTS.labels(PROJECTION, "unknown").inc(result.unknown)
        if fresh:
            metrics.POSITION.labels(PROJECTION).set(max(d.position for d in fresh))
        lag = getattr(self.source, "lag", None)
        if lag is not None:
            metrics.LAG.labels(PROJECTION).set(lag())
        return result

    def run(self, stop: threading.Event, idle: threading.Event | None = None) -> None:
        """Work until ``stop`` is set; ``idle`` is set whenever a poll finds nothing new."""
        self.start()
        consume(self.source, self._handle_live, self.db.connect, stop, "projections", idle)

    def _handle_live(self, batch: list[Delivery]) -> None:
        try:
            result = self.handle(batch)
            logger.debug("projections.batch", applied=result.applied, skipped=result.skipped)
        except GenerationChanged as change:
            logger.info("projections.generation_changed", detail=str(change))
            self.generation = checkpoints.generation(self.db, PROJECTION).number
            self.source.restart()


def catch_up(db: ReadModelDatabase, source: Source) -> int:
    """Apply everything ``source`` has now, then return the number of events applied."""
    worker = ProgressWorker(db, source)
    worker.start()
    never = threading.Event()
    while batch := source.poll(never):
        try:
            worker.handle(batch)
        except GenerationChanged:
            worker.generation = checkpoints.generation(db, PROJECTION).number
            source.restart()
    return worker.applied_total
