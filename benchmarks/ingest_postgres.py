"""``dvchub ingest`` into PostgreSQL against the plain eventsourcing way, in one run.

Both phases get the same file of realistic dossier events and a fresh schema of the same
PostgreSQL server; each runs in its own process so that its peak memory (max RSS) is its
own. Prints events per second of both, their ratio, and the peak memory of both.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
import psycopg

from benchmarks.services import ROOT, child_env, postgres_url, run_measured
from hub.simulation.workload import Workload


@dataclass
class Phase:
    name: str
    seconds: float
    peak_rss_mib: float
    accepted: int


def write_workload(path: Path, events: int) -> None:
    per_day = max(1, events // 450)  # about 4.5 events per dossier, 100 working days
    generated = Workload(date(2021, 1, 1), 181, per_day, seed=2021).events()
    while len(generated) < events:
        per_day = per_day * 5 // 4 + 1
        generated = Workload(date(2021, 1, 1), 181, per_day, seed=2021).events()
    with path.open("wb") as out:
        for event in generated[:events]:
            out.write(orjson.dumps(event) + b"\n")


def run_phase(name: str, command: list[str], url: str) -> Phase:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    env = child_env(
        {
            "DVCHUB_DATABASE_URL": url,
            "DVCHUB_DATABASE_SCHEMA": schema,
            "DVCHUB_LOG_LEVEL": "WARNING",
        }
    )
    finished = run_measured(name, command, env)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {schema}.dossiers_events").fetchone()
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
    stored = int(row[0]) if row else 0
    return Phase(name, finished.seconds, finished.peak_mib, stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--write-workload", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_workload:
        write_workload(args.write_workload, args.events)
        return
    url = postgres_url()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        # In a child process: the phases are forked from this one, and a fork's peak RSS
        # starts at its parent's, so this process must stay small.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.ingest_postgres",
                "--events",
                str(args.events),
                "--write-workload",
                str(path),
            ],
            check=True,
            cwd=ROOT,
        )
        print(f"workload: {args.events} events in {path.stat().st_size / 2**20:.1f} MiB")
        hub = run_phase(
            "dvchub ingest",
            [sys.executable, "-m", "hub.cli", "ingest", str(path), "--json"],
            url,
        )
        plain = run_phase(
            "plain eventsourcing, one save() per event",
            [sys.executable, "-m", "benchmarks.plain_eventsourcing", str(path)],
            url,
        )
    if hub.accepted != plain.accepted:
        raise SystemExit(f"phases stored different counts: {hub.accepted} vs {plain.accepted}")
    print(f"{'phase':<45} {'seconds':>9} {'events/s':>10} {'peak MiB':>9}")
    for phase in (hub, plain):
        rate = phase.accepted / phase.seconds
        print(f"{phase.name:<45} {phase.seconds:>9.1f} {rate:>10.0f} {phase.peak_rss_mib:>9.1f}")
    ratio = (hub.accepted / hub.seconds) / (plain.accepted / plain.seconds)
    print(f"ratio (dvchub ingest / plain): {ratio:.1f}x  (target: at least 25x)")


if __name__ == "__main__":
    main()
