"""Rebuild speed and memory of the progress read model, beside eventsourcing's own
projection runner, and query times at that size (PostgreSQL).

    python -m benchmarks.projections_rebuild [--schema NAME] [--baseline-events 30000]

The store is filled once (kept in ``--schema`` for later runs) from
benchmarks/scenarios/province-year.yaml through the hub's ingest path: about 2.1 million
events of a Cà Mau-sized province over a year. Then, in the same run:

- ``dvchub projections rebuild`` (sharded fold, bulk load, swap), ``--rebuilds`` times:
  events per second of each and their median, and the folding processes' resident memory
  at each tenth of the log;
- the baseline: eventsourcing's ``ProjectionRunner`` with the same fold, one transaction per
  event (rows and tracking record), over the first ``--baseline-events`` events;
- query times of a unit's six-month daily progress and of the province's half-year report.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import subprocess
import sys
import tempfile
import time
from functools import singledispatchmethod
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner

from benchmarks.services import ROOT, child_env, postgres_url
from hub.adapters.persistence import HubApplication, eventsourcing_env
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import bootstrap
from hub.catalogue.store import CatalogueStore
from hub.log_reader import last_position
from hub.settings import HubSettings, settings_env
from projections.periods import Granularity, Period
from projections.progress import queries
from projections.progress.facts import fact_of
from projections.progress.fold import METRICS, OpenDossier, ProgressFold, RowKey
from projections.rebuild import rebuild
from projections.reports import province_report

SCENARIO = ROOT / "benchmarks" / "scenarios" / "province-year.yaml"


def store_settings(schema: str, data_dir: Path) -> HubSettings:
    """Settings of a hub on the benchmark's PostgreSQL schema (made if absent)."""
    url = postgres_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return HubSettings(database_url=url, database_schema=schema, data_dir=data_dir)


def fill(settings: HubSettings, minimum: int) -> int:
    hub = bootstrap(settings, configure_logs=False)
    try:
        present = last_position(hub.store)
    finally:
        hub.close()
    if present >= minimum:
        print(f"store: {present:,} events already in schema {settings.database_schema}")
        return present
    print(f"store: filling schema {settings.database_schema} from {SCENARIO.name} ...")
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "simulate",
            "--scenario",
            str(SCENARIO),
            "--via",
            "store",
        ],
        env=child_env({**settings_env(settings), "DVCHUB_LOG_LEVEL": "WARNING"}),
        cwd=ROOT,
        check=True,
    )
    hub = bootstrap(settings, configure_logs=False)
    try:
        present = last_position(hub.store)
    finally:
        hub.close()
    print(f"store: {present:,} events in {time.perf_counter() - started:.0f} s")
    return present


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_rebuild(settings: HubSettings) -> tuple[float, int, list[tuple[int, float]]]:
    hub = bootstrap(settings, configure_logs=False)
    samples: list[tuple[int, float]] = []
    next_tenth = [0.1]

    def progress(done: int, total: int) -> None:
        if total and done / total >= next_tenth[0]:
            children = multiprocessing.active_children()
            samples.append((done, sum(rss_mib(c.pid) for c in children if c.pid)))
            next_tenth[0] += 0.1

    try:
        report = rebuild(settings, hub.store, progress=progress)
    finally:
        hub.close()
    return report.events_per_second, report.events, samples


# --- the baseline: eventsourcing's projection runner, one transaction per event -----------


class LogApplication(HubApplication):
    """The dossiers' store as an eventsourcing application built from an environment."""

    name = "Dossiers"

    def __init__(self, env: Any = None) -> None:
        Application.__init__(self, env=env)


class BaselineView(PostgresTrackingRecorder):
    """The same rows as progress_daily, written with each event's tracking record."""

    def create_table(self) -> None:
        super().create_table()
        metrics = ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in METRICS)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "CREATE TABLE IF NOT EXISTS baseline_progress (unit_code TEXT, "
                f"procedure_code TEXT, day DATE, {metrics}, "
                "PRIMARY KEY (unit_code, procedure_code, day))"
            )

    def apply(self, rows: dict[RowKey, list[int]], tracking: Tracking) -> None:
        names = ", ".join(METRICS)
        sums = ", ".join(f"{n} = baseline_progress.{n} + excluded.{n}" for n in METRICS)
        marks = ", ".join(["%s"] * (len(METRICS) + 3))
        with self.datastore.transaction(commit=True) as curs:
            for (unit, procedure, day), values in rows.items():
                curs.execute(
                    f"INSERT INTO baseline_progress (unit_code, procedure_code, day, {names}) "
                    f"VALUES ({marks}) ON CONFLICT (unit_code, procedure_code, day) "
                    f"DO UPDATE SET {sums}",
                    (unit, procedure, day, *values),
                )
            self._insert_tracking(curs, tracking)


class BaselineProjection(Projection[BaselineView]):
    name = "baseline_progress"

    def __init__(self, view: BaselineView) -> None:
        super().__init__(view)
        self.dossiers: dict[str, OpenDossier] = {}

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        fold = ProgressFold(self.dossiers)
        fold.apply(fact_of(tracking.notification_id, domain_event.record, domain_event.transition))
        rows, _ = fold.take()
        self.view.apply(rows, tracking)


def measure_baseline(settings: HubSettings, events: int) -> float:
    url = str(settings.database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_baseline CASCADE")
        conn.execute("CREATE SCHEMA bench_baseline")
    env = eventsourcing_env(settings)
    env["BASELINE_PROGRESS_POSTGRES_SCHEMA"] = "bench_baseline"
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=LogApplication,
        projection_class=BaselineProjection,
        view_class=BaselineView,
        env=env,
    ) as runner:
        runner.wait(events, timeout=3_600)
    return events / (time.perf_counter() - started)


# --- queries ------------------------------------------------------------------------------


def measure_queries(settings: HubSettings, rounds: int) -> dict[str, tuple[float, float]]:
    db = ReadModelDatabase(settings)
    store = CatalogueStore(settings)
    catalogue = store.current()
    assert catalogue is not None
    half = Period.parse("2021H1")
    units = [u.code for u in catalogue.content.units if u.parent is not None]
    rng = random.Random(1)
    timings: dict[str, list[float]] = {
        "unit progress, 6 months by day": [],
        "unit's procedures, 6 months": [],
        "province report": [],
    }
    for _ in range(rounds):
        unit = rng.choice(units)
        started = time.perf_counter()
        queries.series(db, [unit], half, Granularity.DAY)
        timings["unit progress, 6 months by day"].append(time.perf_counter() - started)
        started = time.perf_counter()
        queries.procedure_totals(db, [unit], half)
        timings["unit's procedures, 6 months"].append(time.perf_counter() - started)
        started = time.perf_counter()
        province_report(db, catalogue, half)
        timings["province report"].append(time.perf_counter() - started)
    store.close()
    db.close()
    return {
        name: (statistics.median(t) * 1000, statistics.quantiles(t, n=100)[98] * 1000)
        for name, t in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="bench_province_year")
    parser.add_argument("--minimum-events", type=int, default=2_000_000)
    parser.add_argument("--baseline-events", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--rebuilds", type=int, default=3, help="rebuilds to run; their median is compared"
    )
    args = parser.parse_args()
    settings = store_settings(args.schema, Path(tempfile.mkdtemp(prefix="dvchub-bench-")))
    events = fill(settings, args.minimum_events)

    runs = []
    for run in range(1, args.rebuilds + 1):
        rate, folded, samples = measure_rebuild(settings)
        runs.append(rate)
        print(f"rebuild {run}: {folded:,} events at {rate:,.0f} events/s")
        print("  folding processes' resident memory at each tenth of the log (MiB):")
        print("  " + ", ".join(f"{done / folded:.0%} {mib:.0f}" for done, mib in samples))
    rate = statistics.median(runs)
    print(f"rebuild: median of {len(runs)} runs {rate:,.0f} events/s")
    baseline = measure_baseline(settings, args.baseline_events)
    print(
        f"baseline: eventsourcing ProjectionRunner, one transaction per event, first "
        f"{args.baseline_events:,} events at {baseline:,.0f} events/s"
    )
    print(f"ratio: rebuild / baseline = {rate / baseline:.1f}x (target: >= 100,000 events/s)")
    for name, (p50, p99) in measure_queries(settings, args.queries).items():
        print(f"query {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 < 50 ms)")
    print(f"store size: {events:,} events")


if __name__ == "__main__":
    main()
