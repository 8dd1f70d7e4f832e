"""``dvchub simulate`` (embedded) against ``dvchub ingest`` of the same events, in one run.

Both phases start from a data directory holding only the scenario's catalogue (loaded
before the clock starts), run as their own process on the embedded store (SQLite), and are
timed from start to exit, start-up included. The file for the ingest phase is the
simulator's own event stream written as JSON lines. After both, the two stores' logs are
compared event by event (dossier, version, the stored event without the time it was
recorded): the simulator must give the same log as the ingest of its events.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarks.services import ROOT, child_env, run_measured

DEFAULT_SCENARIO = ROOT / "scenarios" / "camau-2021h1.yaml"


@dataclass
class Phase:
    name: str
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    events: int


def prepare(scenario: Path, data_dir: Path, events_file: Path | None) -> None:
    """Load the scenario's catalogue into ``data_dir``; write its events to ``events_file``."""
    from hub.adapters.calendar_files import build_calendar
    from hub.catalogue.store import CatalogueStore
    from hub.settings import HubSettings
    from hub.simulation.generator import events, plan
    from hub.simulation.scenario import load_scenario

    settings = HubSettings(data_dir=data_dir)
    planned = plan(load_scenario(scenario))
    store = CatalogueStore(settings)
    try:
        store.load(planned.catalogue, f"scenario {scenario.name}")
    finally:
        store.close()
    if events_file is None:
        return
    calendar = build_calendar(settings.calendar_dir, settings.office_hours)
    with events_file.open("wb") as out:
        for event in events(planned, calendar):
            out.write(orjson.dumps(event) + b"\n")


def run_phase(name: str, command: list[str], data_dir: Path) -> Phase:
    env = child_env({"DVCHUB_DATA_DIR": str(data_dir), "DVCHUB_LOG_LEVEL": "WARNING"})
    finished = run_measured(name, command, env)
    events, _ = log_digest(data_dir)
    return Phase(name, finished.seconds, finished.cpu_seconds, finished.peak_mib, events)


def log_digest(data_dir: Path) -> tuple[int, str]:
    """How many events the store holds, and a digest of them in the store's order (each
    event's dossier, version, topic and stored state without ``recorded_at``)."""
    digest = hashlib.sha256()
    count = 0
    with sqlite3.connect(data_dir / "events.sqlite3") as conn:
        rows = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        )
        for originator, version, topic, state in rows:
            stored = orjson.loads(state)
            stored.pop("timestamp", None)
            stored["record"].pop("recorded_at", None)
            digest.update(f"{originator}/{version}/{topic}/".encode())
            digest.update(orjson.dumps(stored, option=orjson.OPT_SORT_KEYS))
            count += 1
    return count, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--prepare", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        data_dir, events_file = args.prepare
        prepare(args.scenario, data_dir, None if events_file.name == "-" else events_file)
        return
    scenario = args.scenario.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        simulated, ingested = Path(tmp) / "simulated", Path(tmp) / "ingested"
        events_file = Path(tmp) / "events.jsonl"
        # In child processes: this one stays small, and the phases' memory is their own.
        for data_dir, out in ((simulated, Path("-")), (ingested, events_file)):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.simulate_ingest",
                    "--scenario",
                    str(scenario),
                    "--prepare",
                    str(data_dir),
                    str(out),
                ],
                check=True,
                cwd=ROOT,
                env=child_env({"DVCHUB_LOG_LEVEL": "WARNING"}),
            )
        print(f"scenario {scenario.name}: {events_file.stat().st_size / 2**20:,.0f} MiB of events")
        cli = [sys.executable, "-m", "hub.cli"]
        simulate = run_phase(
            "dvchub simulate (embedded)",
            [*cli, "simulate", "--scenario", str(scenario), "--no-catalogue"],
            simulated,
        )
        ingest = run_phase(
            "dvchub ingest of the same events",
            [*cli, "ingest", str(events_file), "--json"],
            ingested,
        )
        same = log_digest(simulated) == log_digest(ingested)
    print(f"{'phase':<36} {'seconds':>8} {'CPU s':>8} {'events/s':>9} {'peak MiB':>9}")
    for phase in (simulate, ingest):
        print(
            f"{phase.name:<36} {phase.seconds:>8.1f} {phase.cpu_seconds:>8.1f} "
            f"{phase.events / phase.seconds:>9.0f} {phase.peak_rss_mib:>9.1f}"
        )
    ratio = (simulate.events / simulate.seconds) / (ingest.events / ingest.seconds)
    print(f"same log: {'yes' if same else 'NO'} ({simulate.events:,} and {ingest.events:,} events)")
    print(f"ratio (simulate / ingest): {ratio:.2f}x  (target: at least 0.7x)")


if __name__ == "__main__":
    main()
