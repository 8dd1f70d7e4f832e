"""The live progress projection catching up on a large log, beside a rebuild of the same
log, in one run (PostgreSQL).

    python -m benchmarks.live_catch_up [--schema bench_province_year] [--events 1000000]
                                       [--page 5000] [--max-page 20000]

On the store ``benchmarks.projections_rebuild`` fills (about 2.1 million events): the live
worker (the one ``dvchub serve`` runs, through the embedded bus: batches of ``--page``
events of the log, doubling while it is behind up to ``--max-page``, each folded, written
and checkpointed in one transaction) from an empty read model over the first ``--events``
events, into a scratch schema; then ``dvchub
projections rebuild`` of the whole log (sharded) as an operator runs it, its read model
swapped in beside the store. Prints each one's events per second (the live one's CPU time
and peak memory too) and the ratio of the two rates.
"""

from __future__ import annotations

import argparse
import resource
import threading
import time

import psycopg
from psycopg import sql

from benchmarks.services import postgres_url
from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.sources import LogSource
from hub.settings import HubSettings
from projections.rebuild import rebuild
from projections.runner import UnitProgress
from projections.worker import ProjectionWorker


def _fresh(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="bench_province_year")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--page", type=int, default=5_000, help="events of the first batch")
    parser.add_argument("--max-page", type=int, default=20_000, help="largest batch")
    args = parser.parse_args()
    url = postgres_url()
    store = DossierStore(HubSettings(database_url=url, database_schema=args.schema))

    _fresh(url, "bench_live_catch_up")
    live = HubSettings(database_url=url, database_schema="bench_live_catch_up")
    db = ReadModelDatabase(live)
    worker = ProjectionWorker(
        UnitProgress(), db, LogSource(store, page=args.page, max_page=args.max_page)
    )
    worker.start()
    no_wait = threading.Event()
    no_wait.set()
    began, cpu = time.perf_counter(), time.process_time()
    done = 0
    while done < args.events and (batch := worker.source.poll(no_wait)):
        worker.handle(batch)
        done += len(batch)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db.close()
    live_rate = done / wall
    print(
        f"live catch-up: {done:,} events in {wall:.1f} s ({cpu:.1f} s CPU): "
        f"{live_rate:,.0f} events/s; peak memory {peak:.0f} MiB",
        flush=True,
    )

    # The rebuild's read model lives with the store (new tables, swapped in at the end).
    began = time.perf_counter()
    report = rebuild(HubSettings(database_url=url, database_schema=args.schema), store)
    wall = time.perf_counter() - began
    print(
        f"rebuild: {report.events:,} events in {wall:.1f} s: {report.events / wall:,.0f} events/s",
        flush=True,
    )
    store.close()
    print(f"live catch-up / rebuild: {live_rate / (report.events / wall):.2f}x")


if __name__ == "__main__":
    main()
