"""A projection's worker: read published events, apply them, write the read model and the
checkpoint in one transaction.

A crash between two transactions loses nothing and counts nothing twice: the next worker
resumes from the checkpoint written with the rows. Several workers share the events
topic's partitions (a Kafka consumer group); every dossier's events are in one partition,
so each dossier is folded by one worker at a time, in order. Events at or before a part's
checkpoint, or before the position of the projection's last rebuild, are skipped unread; a
rebuild that swaps the tables in moves the projection's generation on, and a worker that
sees it start again from its (new) checkpoints.

A projection supplies its name, how to create its tables, and how to apply a batch of fresh
events inside the transaction (:class:`Projection`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase, database_down
from hub.application import DossierStore
from hub.bus.sources import Checkpoint, Delivery, Source, consume, last_per_part
from hub.log_reader import log_page
from projections import checkpoints, metrics

logger = structlog.get_logger("projections.worker")


class GenerationChanged(Exception):
    """A rebuild swapped the tables in since this worker last read its checkpoints."""


class Projection(Protocol):
    name: str

    def prepare(self, db: ReadModelDatabase) -> None:
        """Create the tables and the generation row if they are missing."""

    def apply(self, db: ReadModelDatabase, fresh: list[Delivery]) -> int:
        """Apply events not applied before, in the open transaction; how many were of no
        dossier the projection knows (0 if it cannot tell)."""
        ...


@dataclass
class BatchResult:
    applied: int = 0
    skipped: int = 0
    unknown: int = 0
    parked: int = 0


class ProjectionWorker:
    def __init__(self, projection: Projection, db: ReadModelDatabase, source: Source) -> None:
        self.projection, self.db, self.source = projection, db, source
        self.name = projection.name
        self.generation = -1
        self.applied_total = 0

    def start(self) -> None:
        self.projection.prepare(self.db)
        self.db.create(parked.create_statements())
        metrics.PARKED.labels(self.name).set(parked.counts(self.db).get(self.name, 0))
        self.generation = checkpoints.generation(self.db, self.name).number
        self.source.start(self._resume)

    def _resume(self, parts: list[int]) -> dict[int, Checkpoint]:
        """Each part's checkpoint; a part without one starts after the last rebuild."""
        floor = checkpoints.generation(self.db, self.name).rebuilt_to
        found = checkpoints.checkpoints(self.db, self.name, self.source.name)
        return {part: found.get(part, Checkpoint(part, floor, None)) for part in parts}

    def handle(self, batch: list[Delivery]) -> BatchResult:
        """Apply one batch in one transaction; raise GenerationChanged after a rebuild."""
        result = BatchResult()
        with self.db.transaction():
            current = checkpoints.generation(self.db, self.name, lock="SHARE")
            if current.number != self.generation:
                raise GenerationChanged(f"generation {self.generation} -> {current.number}")
            done = checkpoints.checkpoints(self.db, self.name, self.source.name)
            floors = {part: max(cp.position, current.rebuilt_to) for part, cp in done.items()}
            fresh: list[Delivery] = []
            for delivery in batch:
                if delivery.position <= floors.get(delivery.part, current.rebuilt_to):
                    result.skipped += 1
                    continue
                fresh.append(delivery)
                floors[delivery.part] = delivery.position
            if fresh:
                result.unknown, result.parked = self._apply(fresh)
            for part, delivery in last_per_part(batch).items():
                position = max(floors.get(part, 0), delivery.position)
                checkpoints.advance(
                    self.db, self.name, self.source.name, part, position, delivery.offset
                )
        self.source.acknowledge(batch)
        result.applied = len(fresh) - result.parked
        self.applied_total += result.applied
        metrics.EVENTS.labels(self.name, "applied").inc(result.applied)
        metrics.EVENTS.labels(self.name, "skipped").inc(result.skipped)
        metrics.EVENTS.labels(self.name, "unknown").inc(result.unknown)
        metrics.EVENTS.labels(self.name, "parked").inc(result.parked)
        metrics.PARKED.labels(self.name).inc(result.parked)
        if fresh:
            metrics.POSITION.labels(self.name).set(max(d.position for d in fresh))
        lag: Callable[[], int] | None = getattr(self.source, "lag", None)
        if lag is not None:
            metrics.LAG.labels(self.name).set(lag())
        return result

    def _apply(self, fresh: list[Delivery]) -> tuple[int, int]:
        """Apply ``fresh`` in the open transaction: ``(unknown, parked)``. If the batch fails,
        its events are applied one by one and those that fail are parked."""
        try:
            with self.db.savepoint():
                return self.projection.apply(self.db, fresh), 0
        except database_down():  # the database's, not the batch's: it is read again
            raise
        except Exception as error:
            logger.warning(
                "projections.batch_unfoldable",
                projection=self.name,
                size=len(fresh),
                error=parked.describe(error),
            )
        unknown = parked_here = 0
        for delivery in fresh:
            try:
                with self.db.savepoint():
                    unknown += self.projection.apply(self.db, [delivery])
            except database_down():
                raise
            except Exception as error:
                self._park(delivery, error)
                parked_here += 1
        return unknown, parked_here

    def _park(self, delivery: Delivery, error: Exception) -> None:
        try:
            record: dict[str, Any] | None = delivery.decode()[0]
        except Exception:  # the event cannot even be read: parked by its position alone
            record = None
        parked.park(self.db, parked.parked_event(self.name, delivery.position, record, error))

    def run(self, stop: threading.Event, idle: threading.Event | None = None) -> None:
        """Work until ``stop`` is set; ``idle`` is set whenever a poll finds nothing new."""
        self.start()
        consume(self.source, self._handle_live, self.db.connect, stop, self.name, idle)

    def _handle_live(self, batch: list[Delivery]) -> None:
        try:
            result = self.handle(batch)
            logger.debug(
                "projections.batch",
                projection=self.name,
                applied=result.applied,
                skipped=result.skipped,
            )
        except GenerationChanged as change:
            logger.info("projections.generation_changed", projection=self.name, detail=str(change))
            self.generation = checkpoints.generation(self.db, self.name).number
            self.source.restart()

    def catch_up(self) -> int:
        """Apply everything the source has now, then return the number of events applied
        (an empty poll ends it at once: nothing is waited for)."""
        self.start()
        no_wait = threading.Event()
        no_wait.set()
        while batch := self.source.poll(no_wait):
            try:
                self.handle(batch)
            except GenerationChanged:
                self.generation = checkpoints.generation(self.db, self.name).number
                self.source.restart()
        return self.applied_total


@dataclass(frozen=True)
class RetryResult:
    folded: int
    still_parked: int


def retry_parked(projection: Projection, db: ReadModelDatabase, store: DossierStore) -> RetryResult:
    """Fold the projection's parked events again, each from the store, in log order; those
    that fold now leave the parked list. They are folded where the log stands now, after
    their dossiers' later events: a rebuild gives the exact figures."""
    projection.prepare(db)
    db.create(parked.create_statements())
    folded = failed = 0
    for item in parked.parked(db, projection.name):
        page = log_page(store, item.position, 1)
        if not page or page[0].position != item.position:
            continue
        delivery = Delivery(0, item.position, item.position, page[0])
        with db.transaction():
            try:
                with db.savepoint():
                    projection.apply(db, [delivery])
            except database_down():
                raise
            except Exception as error:
                failed += 1
                parked.park(db, replace(item, error=parked.describe(error), parked_at=parked.now()))
            else:
                folded += 1
                parked.release(db, projection.name, item.position)
    return RetryResult(folded, failed)
