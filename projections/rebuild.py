"""Rebuild every read model from the first event into fresh tables, then swap them in.

1. Fold the log up to its current end, in parallel shards of dossiers on PostgreSQL (each
   in its own process: the fold is CPU-bound), in one pass on SQLite.
2. Bulk-load the rows and the open dossiers into tables named ``<table>__g<generation>``.
3. In one transaction that holds the projection's generation row (live workers wait):
   fold what was stored meanwhile, drop the old tables, rename the new ones, record the
   position rebuilt to. Workers then carry on after that position.

The live read model stays readable until the swap, and a rebuild that fails leaves it as
it was.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import structlog

from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.log_reader import last_position, read_log, sqlite_file
from hub.paced_collection import PacedCollection
from hub.settings import HubSettings
from projections import checkpoints
from projections.progress import tables
from projections.progress.facts import Fact
from projections.progress.fold import METRICS, LateRow, OpenDossier, ProgressFold, RowKey
from projections.progress.log_scan import scan_postgres, scan_sqlite
from projections.rebuild_parking import Parking
from projections.runner import PROJECTION, prepare

logger = structlog.get_logger("projections.rebuild")
Progress = Callable[[int, int], None]  # (events folded so far, events to fold)


@dataclass(frozen=True)
class RebuildReport:
    events: int
    seconds: float
    rows: int
    open_dossiers: int
    position: int
    generation: int
    shards: int
    parked: int = 0  # events that could not be folded (see hub.adapters.parked)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def rebuild(
    settings: HubSettings,
    store: DossierStore,
    *,
    shards: int | None = None,
    progress: Progress | None = None,
) -> RebuildReport:
    started = time.perf_counter()
    db = ReadModelDatabase(settings)
    try:
        if not db.try_lock(f"dvchub-rebuild-{PROJECTION}"):
            raise RebuildError("another rebuild of the read models is running")
        prepare(db)
        generation = checkpoints.generation(db, PROJECTION).number + 1
        suffix, tag = f"__g{generation}", f"g{generation}"
        with db.transaction():
            for table in tables.TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
            db.execute_script(tables.create_statements(db, suffix, tag, keys=not db.postgres))
        upto = last_position(store)
        count = shards if shards is not None else (os.cpu_count() or 1) if db.postgres else 1
        parking = Parking(PROJECTION)
        if db.postgres:
            events = _fold_postgres(db, settings, suffix, tag, upto, count, progress, parking)
        else:
            rows, dossiers, late, events = _fold_one(store, upto, progress, parking)
            tables.write_rows(db, rows, suffix)
            tables.write_dossiers(db, dossiers, suffix)
            tables.write_late(db, late, suffix)
            count = 1
        logger.info("projections.rebuild_folded", events=events, upto=upto, shards=count)
        with db.transaction():
            checkpoints.generation(db, PROJECTION, lock="UPDATE")
            position, tail = upto, []
            for event in read_log(store, start=upto + 1):
                fact = parking.fact(event.position, event.record, event.transition)
                if fact is not None:
                    tail.append(fact)
                position, events = event.position, events + 1
            fold = ProgressFold(tables.load_dossiers(db, {f.dossier_code for f in tail}, suffix))
            for fact in tail:
                parking.apply(fold, fact)
            tail_rows, touched = fold.take()
            tables.add_rows(db, tail_rows, suffix)
            tables.save_dossiers(db, fold.dossiers, touched, suffix)
            tables.save_late(db, fold.take_late(), suffix)
            for table in tables.TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(f"ALTER TABLE {table}{suffix} RENAME TO {table}")
            number = checkpoints.start_generation(db, PROJECTION, position)
            parked.replace_all(db, PROJECTION, parking.events)
            rows_written = int(db.query(f"SELECT COUNT(*) FROM {tables.DAILY}")[0][0])
            open_dossiers = int(db.query(f"SELECT COUNT(*) FROM {tables.DOSSIERS}")[0][0])
        if parking.events:
            logger.error("projections.rebuild_parked", parked=len(parking.events))
        return RebuildReport(
            events=events,
            seconds=time.perf_counter() - started,
            rows=rows_written,
            open_dossiers=open_dossiers,
            position=position,
            generation=number,
            shards=count,
            parked=len(parking.events),
        )
    finally:
        db.close()


def _fold_one(
    store: DossierStore, upto: int, progress: Progress | None, parking: Parking
) -> tuple[dict[RowKey, list[int]], dict[str, OpenDossier], list[LateRow], int]:
    """The whole log folded in this process (read models in SQLite). An embedded store's
    file is scanned directly; any other store is read through eventsourcing."""
    fold = ProgressFold()
    folded = unmade = 0  # unmade: events whose fact could not be made (parked)

    def facts_of_log() -> Iterator[Fact]:
        nonlocal unmade
        for event in takewhile(lambda e: e.position <= upto, read_log(store)):
            fact = parking.fact(event.position, event.record, event.transition)
            if fact is None:
                unmade += 1
            else:
                yield fact

    found = sqlite_file(store)
    facts = facts_of_log() if found is None else scan_sqlite(*found, upto, parking.unreadable)
    # As in a shard's fold: many small objects, no reference cycles (see _fold_shard).
    with PacedCollection(FLUSH_EVENTS) as collection:
        for fact in facts:
            parking.apply(fold, fact)
            folded += 1
            if folded % 10_000 == 0:
                collection.done(10_000)
                if progress is not None:
                    progress(folded + unmade + parking.unreadable_count, upto)
    events = folded + unmade + parking.unreadable_count
    if progress is not None:
        progress(events, upto)
    rows, _ = fold.take()
    return rows, fold.dossiers, fold.take_late(), events


def _fold_postgres(
    db: ReadModelDatabase,
    settings: HubSettings,
    suffix: str,
    tag: str,
    upto: int,
    shards: int,
    progress: Progress | None,
    parking: Parking,
) -> int:
    """Fold in ``shards`` processes that stream their rows into an unlogged staging table
    every ``FLUSH_EVENTS`` events (so their memory stays flat), then let PostgreSQL sum
    them into the new tables, ``shards`` parts of the units side by side."""
    stage = f"{tables.DAILY}{suffix}_stage"
    with db.transaction():
        db.execute(f"DROP TABLE IF EXISTS {stage}")
        db.execute(
            f"CREATE UNLOGGED TABLE {stage} (unit_code TEXT, procedure_code TEXT, day DATE, "
            + ", ".join(f"{name} INTEGER" for name in METRICS)
            + ")"
        )
    began = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    counters = [context.Value("q", 0, lock=False) for _ in range(shards)]
    results: multiprocessing.Queue[tuple[int, list[parked.ParkedEvent]]] = context.Queue()
    url, schema = str(settings.database_url), settings.database_schema
    workers = [
        context.Process(
            target=_fold_shard,
            args=(url, schema, suffix, shard, shards, upto, counters[shard], results),
            name=f"rebuild-shard-{shard}",
        )
        for shard in range(shards)
    ]
    for worker in workers:
        worker.start()
    folded: list[int] = []
    try:
        while len(folded) < shards:
            try:
                count, parked_in_shard = results.get(timeout=0.2)
                folded.append(count)
                parking.events.extend(parked_in_shard)
            except queue.Empty:
                failed = [w for w in workers if w.exitcode not in (None, 0)]
                if failed:
                    raise RebuildError(
                        f"{failed[0].name} exited with status {failed[0].exitcode}; see its log"
                    ) from None
            if progress is not None:
                progress(sum(int(c.value) for c in counters), upto)
    finally:
        for worker in workers:
            if len(folded) < shards:
                worker.terminate()
            worker.join()
    logger.info("projections.rebuild_shards_done", seconds=round(time.perf_counter() - began, 1))
    with ThreadPoolExecutor(max_workers=shards, thread_name_prefix="rebuild-sum") as pool:
        for done in [pool.submit(_sum_part, settings, suffix, k, shards) for k in range(shards)]:
            done.result()
    logger.info("projections.rebuild_parts_summed", seconds=round(time.perf_counter() - began, 1))
    with db.transaction():
        db.execute("SET LOCAL maintenance_work_mem = '256MB'")
        db.execute(f"DROP TABLE {stage}")
        tables.add_keys(db, suffix, tag)
        for table in tables.TABLES:
            db.execute(f"ANALYZE {table}{suffix}")
    logger.info("projections.rebuild_summed", seconds=round(time.perf_counter() - began, 1))
    events = sum(folded)
    if progress is not None:
        progress(events, upto)
    return events


# Summing the staged rows: a hash aggregate in memory, then a sort of the sums only. No
# parallel workers (each part already has a core), and no sort of the staged rows, which the
# planner, misled by the part's filter, would otherwise choose.
_SUMMING = (
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL max_parallel_workers_per_gather = 0",
    "SET LOCAL enable_sort = off",
    "SET LOCAL jit = off",
)


def _sum_part(settings: HubSettings, suffix: str, part: int, parts: int) -> None:
    """Sum the staged rows of part ``part`` of ``parts`` of the units into the new tables.

    The parts split the units, so their rows never meet: they run side by side, each in
    its own connection (PostgreSQL does not run an INSERT's query in parallel itself).
    """
    stage = f"{tables.DAILY}{suffix}_stage"
    names = ", ".join(METRICS)
    sums = ", ".join(f"SUM({name})" for name in METRICS)
    something = " OR ".join(f"SUM({name}) <> 0" for name in METRICS)  # no row of zeros
    where = f" WHERE abs(mod(hashtext(unit_code), {parts})) = {part}" if parts > 1 else ""
    db = ReadModelDatabase(settings)
    try:
        with db.transaction():
            for setting in _SUMMING:
                db.execute(setting)
            db.execute(
                f"INSERT INTO {tables.DAILY}{suffix} (unit_code, procedure_code, day, {names}) "
                f"SELECT unit_code, procedure_code, day, {sums} FROM {stage}{where} "
                f"GROUP BY 1, 2, 3 HAVING {something} ORDER BY 1, 2, 3"
            )
            db.execute(
                f"INSERT INTO {tables.UNIT_DAILY}{suffix} (unit_code, day, {names}) "
                f"SELECT unit_code, day, {sums} FROM {stage}{where} GROUP BY 1, 2 "
                f"HAVING {something} ORDER BY 1, 2"
            )
    finally:
        db.close()


class RebuildError(RuntimeError):
    """A shard of the rebuild failed; the live read model is unchanged."""


FLUSH_EVENTS = 400_000


def _fold_shard(
    url: str,
    schema: str,
    suffix: str,
    shard: int,
    shards: int,
    upto: int,
    counter: Any,
    results: multiprocessing.Queue[tuple[int, list[parked.ParkedEvent]]],
) -> None:
    settings = HubSettings(database_url=url, database_schema=schema)
    db = ReadModelDatabase(settings)
    stage = f"{tables.DAILY}{suffix}_stage"
    fold = ProgressFold()
    parking = Parking(PROJECTION)
    events = 0
    # The fold makes millions of small objects and no reference cycles: the collector's
    # passes over them would cost a fifth of the time. It runs once per batch instead.
    gc.disable()
    for fact in scan_postgres(url, schema, shard, shards, upto, parking.unreadable):
        try:  # inline, not parking.apply: a call per event costs the rebuild's hot loop
            fold.apply(fact)
        except Exception as error:
            parking.unfoldable(fact, error)
        events += 1
        if events % 10_000 == 0:
            counter.value = events
            if events % FLUSH_EVENTS == 0:
                _stage(db, stage, fold)
                gc.collect()
    _stage(db, stage, fold)
    tables.write_dossiers(db, fold.dossiers, suffix)
    tables.write_late(db, fold.take_late(), suffix)  # shards hold apart dossiers: no overlap
    db.close()
    counter.value = events
    results.put((events + parking.unreadable_count, parking.events))


def _stage(db: ReadModelDatabase, stage: str, fold: ProgressFold) -> None:
    rows, _ = fold.take()
    db.copy_in(
        stage,
        tables.DAILY_COLUMNS,
        ((*key, *values) for key, values in rows.items()),
        tables.DAILY_TYPES,
    )
