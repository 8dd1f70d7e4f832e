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

import multiprocessing
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import structlog

from hub.application import DossierStore
from hub.log_reader import last_position, read_log
from hub.settings import HubSettings
from projections import checkpoints
from projections.database import ReadModelDatabase
from projections.progress import tables
from projections.progress.facts import fact_of
from projections.progress.fold import OpenDossier, ProgressFold, RowKey
from projections.progress.log_scan import scan_postgres
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
            db.execute_script(tables.create_statements(db, suffix, tag))
        upto = last_position(store)
        count = shards if shards is not None else (os.cpu_count() or 1) if db.postgres else 1
        if db.postgres and count > 1:
            rows, dossiers, events = _fold_shards(settings, upto, count, progress)
        else:
            rows, dossiers, events = _fold_one(settings, store, upto, progress)
            count = 1
        logger.info("projections.rebuild_folded", events=events, rows=len(rows), upto=upto)
        tables.write_rows(db, rows, suffix)
        tables.write_dossiers(db, dossiers, suffix)
        written = len(rows)
        fold = ProgressFold(dossiers)
        with db.transaction():
            checkpoints.generation(db, PROJECTION, lock="UPDATE")
            position = upto
            for event in read_log(store, start=upto + 1):
                fold.apply(fact_of(event.position, event.record, event.transition))
                position, events = event.position, events + 1
            tail, touched = fold.take()
            tables.add_rows(db, tail, suffix)
            tables.save_dossiers(db, fold.dossiers, touched, suffix)
            for table in tables.TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(f"ALTER TABLE {table}{suffix} RENAME TO {table}")
            number = checkpoints.start_generation(db, PROJECTION, position)
        return RebuildReport(
            events=events,
            seconds=time.perf_counter() - started,
            rows=written + len(tail),
            open_dossiers=len(fold.dossiers),
            position=position,
            generation=number,
            shards=count,
        )
    finally:
        db.close()


def _fold_one(
    settings: HubSettings, store: DossierStore, upto: int, progress: Progress | None
) -> tuple[dict[RowKey, list[int]], dict[str, OpenDossier], int]:
    fold = ProgressFold()
    events = 0
    if settings.uses_postgres:
        facts = scan_postgres(str(settings.database_url), settings.database_schema, 0, 1, upto)
    else:
        facts = (
            fact_of(e.position, e.record, e.transition)
            for e in takewhile(lambda e: e.position <= upto, read_log(store))
        )
    for fact in facts:
        fold.apply(fact)
        events += 1
        if progress is not None and events % 10_000 == 0:
            progress(events, upto)
    if progress is not None:
        progress(events, upto)
    rows, _ = fold.take()
    return rows, fold.dossiers, events


def _fold_shards(
    settings: HubSettings, upto: int, shards: int, progress: Progress | None
) -> tuple[dict[RowKey, list[int]], dict[str, OpenDossier], int]:
    context = multiprocessing.get_context("spawn")
    counters = [context.Value("q", 0, lock=False) for _ in range(shards)]
    results: multiprocessing.Queue[ShardResult] = context.Queue()
    url, schema = str(settings.database_url), settings.database_schema
    workers = [
        context.Process(
            target=_fold_shard,
            args=(url, schema, shard, shards, upto, counters[shard], results),
            name=f"rebuild-shard-{shard}",
        )
        for shard in range(shards)
    ]
    for worker in workers:
        worker.start()
    collected: list[ShardResult] = []
    try:
        while len(collected) < shards:
            try:
                collected.append(results.get(timeout=0.2))
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
            if len(collected) < shards:
                worker.terminate()
            worker.join()
    rows: dict[RowKey, list[int]] = {}
    dossiers: dict[str, OpenDossier] = {}
    events = 0
    for shard_rows, shard_dossiers, shard_events in collected:
        events += shard_events
        dossiers.update(shard_dossiers)
        for key, values in shard_rows.items():
            total = rows.get(key)
            if total is None:
                rows[key] = values
            else:
                for index, value in enumerate(values):
                    total[index] += value
    if progress is not None:
        progress(events, upto)
    return rows, dossiers, events


class RebuildError(RuntimeError):
    """A shard of the rebuild failed; the live read model is unchanged."""


ShardResult = tuple[dict[RowKey, list[int]], dict[str, OpenDossier], int]


def _fold_shard(
    url: str,
    schema: str,
    shard: int,
    shards: int,
    upto: int,
    counter: Any,
    results: multiprocessing.Queue[ShardResult],
) -> None:
    fold = ProgressFold()
    events = 0
    for fact in scan_postgres(url, schema, shard, shards, upto):
        fold.apply(fact)
        events += 1
        if events % 10_000 == 0:
            counter.value = events
    counter.value = events
    rows, _ = fold.take()
    results.put((rows, fold.dossiers, events))
