"""Delivery to the national portal: updates per second, and sync lag under steady load.

    python -m benchmarks.dvcqg_sync [--dossiers 6000] [--rate 500] [--seconds 60]
                                    [--dialect simulator|message|http] [--strict]

Runs the portal simulator and the connector (``dvchub connector run``) as processes over an
embedded store, with every demo procedure integrated.

1. Throughput: the store holds a backlog of ``--dossiers`` dossiers' events; the connector
   delivers them; updates per second acknowledged by the portal. Baseline, same run, same
   simulator: the way provincial connectors do it, one dossier per call (look-up, dossier,
   step) in one thread.
2. Lag: events are ingested at ``--rate`` per second for ``--seconds``; the lag of each
   update is the time from the hub accepting the event to the portal acknowledging it
   (p50, p99).

``--dialect`` makes the simulator answer as another portal deployment would ("đã tồn tại",
expired sessions and look-ups worded otherwise); ``--strict`` has it check every payload
against the documented interface (the cost of the check is the simulator's, not the hub's).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.services import ROOT, child_env
from connectors.dvcqg import outbox
from connectors.dvcqg.client import PortalClient
from connectors.dvcqg.mapping import dossier_payload, fold, progress_step
from events.catalogue import CatalogueContent
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import bootstrap
from hub.catalogue.store import CatalogueStore
from hub.log_reader import read_log
from hub.settings import HubSettings, settings_env
from hub.simulation.workload import Workload, demo_catalogue

PASSWORD = "benchmark"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _catalogue() -> CatalogueContent:
    content = demo_catalogue()
    procedures = tuple(p.model_copy(update={"integrated": True}) for p in content.procedures)
    return content.model_copy(update={"procedures": procedures})


SIMULATOR_OPTIONS: list[str] = []


def _simulator(port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "portal-sim",
            "--port",
            str(port),
            "--password",
            PASSWORD,
            "--session-seconds",
            "3600",
            *SIMULATOR_OPTIONS,
        ],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=2)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the simulator did not start")


def _open(settings: HubSettings) -> tuple[int, int]:
    db = ReadModelDatabase(settings)
    outbox.create(db)
    rows = db.query(f"SELECT status, COUNT(*) FROM {outbox.OUTBOX} GROUP BY status")
    db.close()
    counts = {status: int(n) for status, n in rows}
    return counts.get("sent", 0), sum(counts.values())


def throughput(tmp: Path, dossiers: int) -> float:
    port = _port()
    sim = _simulator(port, tmp / "sim1.log")
    settings = HubSettings(
        data_dir=tmp / "throughput",
        log_level="WARNING",
        dvcqg_url=f"http://127.0.0.1:{port}",
        dvcqg_password=PASSWORD,
        dvcqg_batch_size=200,
    )
    hub = bootstrap(settings, configure_logs=False)
    store = CatalogueStore(settings)
    store.load(_catalogue(), "benchmark")
    store.close()
    events = Workload(date(2021, 3, 1), dossiers // 40 + 1, 60, seed=9).events()
    for start in range(0, len(events), 2_000):
        hub.ingestor.submit_json(events[start : start + 2_000])
    hub.close()
    connector = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "connector", "run"],
        env=child_env(settings_env(settings)),
        cwd=ROOT,
        stdout=(tmp / "connector1.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    started = time.perf_counter()
    try:
        while True:
            sent, total = _open(settings)
            if total and sent == total and total >= len(events) * 0.9:
                break
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    finally:
        connector.terminate()
        connector.wait(30)
    rate = sent / seconds
    print(
        f"throughput: {sent:,} updates in {seconds:.1f} s = {rate:,.0f} updates/s "
        f"(intake from the log included)"
    )
    baseline_rate = naive_connector(settings, port, limit=1_500)
    print(
        f"baseline: one dossier per call, one thread: {baseline_rate:,.0f} updates/s; "
        f"ratio {rate / baseline_rate:.1f}x"
    )
    sim.terminate()
    sim.wait(30)
    return rate


def naive_connector(settings: HubSettings, port: int, limit: int) -> float:
    """The common provincial way: for each event, look up, send the dossier, send the step."""
    httpx.put(f"http://127.0.0.1:{port}/_sim/faults", json={}).raise_for_status()
    client = PortalClient(
        f"http://127.0.0.1:{port}", "dvchub", PASSWORD, "000.00.00.H12", "000.00.00.H12"
    )
    hub = bootstrap(settings, configure_logs=False)
    store = CatalogueStore(settings)
    catalogue = store.current()
    assert catalogue is not None
    states: dict[str, object] = {}
    done = 0
    started = time.perf_counter()
    for event in read_log(hub.store):
        record, transition = event.record, event.transition
        unit, day, sequence = record["dossier_code"].split("-")
        code = f"{unit}-99{day[2:]}-{sequence}"  # fresh codes: the portal has the others
        record = {**record, "dossier_code": code}
        state = fold(states.get(code), record, transition)  # type: ignore[arg-type]
        states[code] = state
        procedure = catalogue.procedures.get(state.procedure_code or "")
        if procedure is None:
            continue
        found = client.look_up(code)
        client.call(
            "DongBoHoSoMC",
            isUpdating="True" if found else "False",
            data=[dossier_payload(state, procedure).model_dump(mode="json")],
        )
        client.call(
            "CapNhatTienDoHoSoMC", data=[progress_step(record, transition).model_dump(mode="json")]
        )
        done += 1
        if done >= limit:
            break
    seconds = time.perf_counter() - started
    store.close()
    hub.close()
    client.close()
    return done / seconds


def lag(tmp: Path, rate: int, seconds: int) -> None:
    port = _port()
    sim = _simulator(port, tmp / "sim2.log")
    settings = HubSettings(
        data_dir=tmp / "lag",
        log_level="WARNING",
        dvcqg_url=f"http://127.0.0.1:{port}",
        dvcqg_password=PASSWORD,
        dvcqg_batch_size=200,
    )
    hub = bootstrap(settings, configure_logs=False)
    store = CatalogueStore(settings)
    store.load(_catalogue(), "benchmark")
    store.close()
    now = datetime.now().astimezone()
    # The 40 days up to now (the lag is measured on events of today and the days before).
    events = Workload(now.date() - timedelta(days=40), 41, 200, seed=4, until=now).events()
    connector = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "connector", "run"],
        env=child_env(settings_env(settings)),
        cwd=ROOT,
        stdout=(tmp / "connector2.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(3)
        total = min(len(events), rate * seconds)
        started = time.perf_counter()
        for index in range(0, total, rate // 10):
            hub.ingestor.submit_json(events[index : index + rate // 10])
            pause = started + (index + rate // 10) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        achieved = total / (time.perf_counter() - started)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            sent, enqueued = _open(settings)
            if enqueued and sent == enqueued:
                break
            time.sleep(0.5)
    finally:
        connector.terminate()
        connector.wait(30)
        hub.close()
    db = ReadModelDatabase(settings)
    rows = db.query(f"SELECT recorded_at, sent_at FROM {outbox.OUTBOX} WHERE status = 'sent'")
    db.close()
    lags = [
        (datetime.fromisoformat(sent) - datetime.fromisoformat(recorded)).total_seconds()
        for recorded, sent in rows
        if recorded and sent
    ]
    p50 = statistics.median(lags)
    p99 = statistics.quantiles(lags, n=100)[98]
    print(
        f"lag at {achieved:,.0f} events/s for {seconds} s ({len(lags):,} updates): "
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
    sim.terminate()
    sim.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=6_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--dialect", default="simulator")
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    SIMULATOR_OPTIONS.extend(["--dialect", args.dialect, *(["--strict"] if args.strict else [])])
    print(f"portal simulator: {args.dialect} dialect{', strict' if args.strict else ''}")
    tmp = Path(tempfile.mkdtemp(prefix="dvchub-dvcqg-"))
    throughput(tmp, args.dossiers)
    lag(tmp, args.rate, args.seconds)
    print(f"logs in {tmp}")


if __name__ == "__main__":
    main()
