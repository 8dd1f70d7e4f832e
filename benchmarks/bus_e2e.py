"""Events per second end to end through the bus, beside the store-only rate of the same run.

Three phases on the same events, each with a fresh PostgreSQL schema and fresh topics:

1. store only: ``dvchub ingest FILE`` (the baseline);
2. Kafka in → store → Kafka out: the events are first put on the actions topic; then the
   inbound consumers and the relay (``dvchub serve --no-api``, each its role alone) are
   started and timed until the last one is on the events topic;
3. HTTP in → store → Kafka out: ``dvchub serve --no-inbound`` (the API and the relay) is
   started and the events are posted in batches of 1,000; timed from the first request
   until the last event is on the events topic.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import psycopg
from kafka import KafkaConsumer, KafkaProducer

from benchmarks.ingest_postgres import write_workload
from benchmarks.services import (
    ROOT,
    child_env,
    kafka_bootstrap,
    peak_mib,
    postgres_url,
    run_measured,
)
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bus.topics import ensure_topics
from hub.settings import HubSettings, settings_env

#: Options that leave a ``dvchub serve`` process to its role (API, inbound or relay).
ROLE_ALONE = ("--no-projections", "--no-connector")

INBOUND_PROCESSES = int(os.environ.get("DVCHUB_BENCH_INBOUND_PROCESSES", "2"))


@dataclass(frozen=True)
class Rates:
    """Events per second: over the whole run, and while events flowed out (start-up excluded)."""

    wall: float
    flowing: float
    peak_mib: float  # the largest peak memory of the hub's processes


def fresh_settings(url: str, bootstrap: str) -> HubSettings:
    suffix = uuid.uuid4().hex[:8]
    schema = f"bench_{suffix}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return HubSettings(
        database_url=url,
        database_schema=schema,
        kafka_bootstrap=bootstrap,
        kafka_actions_topic=f"bench.actions.{suffix}",
        kafka_events_topic=f"bench.events.{suffix}",
        kafka_rejects_topic=f"bench.rejects.{suffix}",
        kafka_checkpoints_topic=f"bench.checkpoints.{suffix}",
        kafka_inbound_group=f"bench-ingest-{suffix}",
        kafka_relay_transactional_id=f"bench-relay-{suffix}",
        log_level="WARNING",
    )


def env_of(settings: HubSettings) -> dict[str, str]:
    return child_env(settings_env(settings))


def wait_for_events(
    settings: HubSettings,
    count: int,
    processes: list[subprocess.Popen[bytes]],
    timeout: float = 600,
) -> tuple[float, int, float]:
    """Block until ``count`` committed records are on the events topic.

    Returns when the first records were seen, how many came with them, and when the last was.
    """
    consumer = KafkaConsumer(
        settings.kafka_events_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 2**20,
    )
    seen = 0
    first, first_count = 0.0, 0
    deadline = time.monotonic() + timeout
    try:
        while seen < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {seen} of {count} events arrived on the events topic")
            if any(p.poll() is not None for p in processes):
                raise SystemExit("a hub process exited before all events arrived")
            polled = consumer.poll(timeout_ms=100, max_records=50_000)
            seen += sum(len(batch) for batch in polled.values())
            if seen and not first:
                first, first_count = time.perf_counter(), seen
        return first, first_count, time.perf_counter()
    finally:
        consumer.close()


def store_only(url: str, bootstrap: str, path: Path, count: int) -> tuple[float, float]:
    """``dvchub ingest``'s rate (its own time, start-up excluded, as the flowing rates of
    the other paths exclude theirs) and its peak memory."""
    settings = fresh_settings(url, bootstrap)
    finished = run_measured(
        "dvchub ingest",
        [sys.executable, "-m", "hub.cli", "ingest", str(path), "--json"],
        env_of(settings),
    )
    summary = orjson.loads(finished.output)
    if summary["accepted"] != count:
        raise SystemExit(f"dvchub ingest: {summary}")
    return count / summary["seconds"], finished.peak_mib


def prepared(url: str, bootstrap: str) -> tuple[HubSettings, str]:
    """Fresh settings with their topics, and a publisher key."""
    settings = fresh_settings(url, bootstrap)
    ensure_topics(settings)
    credentials = CredentialStore(settings)
    _, key = credentials.issue("bench", Role.PUBLISHER, ["*"])
    credentials.close()
    return settings, key


def kafka_path(url: str, bootstrap: str, lines: list[bytes], inbound: int) -> Rates:
    settings, key = prepared(url, bootstrap)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024)
    header = [("authorization", f"Bearer {key}".encode())]
    for line in lines:
        code = orjson.loads(line)["dossier_code"].encode()
        producer.send(settings.kafka_actions_topic, key=code, value=line, headers=header)
    producer.flush()
    producer.close()
    started = time.perf_counter()
    # Inbound consumers sharing the topic's partitions, and the relay, each in its own
    # process, as for scale-out; each process runs its role alone (the projections and the
    # connector are other roles, measured by their own benchmarks).
    parts = [(f"inbound-{n}", ["--no-relay"]) for n in range(1, inbound + 1)]
    hubs = [
        subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--no-api", *ROLE_ALONE, *options],
            env={**env_of(settings), "DVCHUB_INSTANCE_ID": name},
            cwd=ROOT,
        )
        for name, options in [*parts, ("relay", ["--no-inbound"])]
    ]
    try:
        first, first_count, last = wait_for_events(settings, len(lines), hubs)
        peak = max(peak_mib(hub.pid) for hub in hubs)
    finally:
        for hub in hubs:
            hub.terminate()
            hub.wait(60)
    wall = len(lines) / (last - started)
    if first_count >= len(lines) or last - first < 0.5:
        return Rates(wall, wall, peak)  # too few events to see them flow: the wall rate
    return Rates(wall, (len(lines) - first_count) / (last - first), peak)


def http_path(url: str, bootstrap: str, lines: list[bytes]) -> Rates:
    settings, key = prepared(url, bootstrap)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--no-inbound",
            *ROLE_ALONE,
            "--port",
            str(port),
        ],
        env=env_of(settings),
        cwd=ROOT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(300):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            started = time.perf_counter()
            for offset in range(0, len(lines), 1_000):
                body = b"[" + b",".join(lines[offset : offset + 1_000]) + b"]"
                response = client.post("/v1/events", content=body, headers=headers)
                response.raise_for_status()
            _, _, last = wait_for_events(settings, len(lines), [hub])
        peak = peak_mib(hub.pid)
    finally:
        hub.terminate()
        hub.wait(60)
    rate = len(lines) / (last - started)
    return Rates(rate, rate, peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument(
        "--inbound-processes",
        type=int,
        default=INBOUND_PROCESSES,
        help="inbound consumers sharing the actions topic (default 2, or "
        "DVCHUB_BENCH_INBOUND_PROCESSES)",
    )
    args = parser.parse_args()
    url, bootstrap = postgres_url(), kafka_bootstrap()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        write_workload(path, args.events)
        lines = path.read_bytes().splitlines()
        base, base_peak = store_only(url, bootstrap, path, len(lines))
        via_kafka = kafka_path(url, bootstrap, lines, args.inbound_processes)
        via_http = http_path(url, bootstrap, lines)
    print(f"events: {len(lines)}; inbound processes: {args.inbound_processes}")
    header = f"{'path':<34} {'events/s, wall':>15} {'events/s, flowing':>18} {'to store only':>14}"
    print(f"{header} {'peak MiB':>9}")
    print(f"{'store only (dvchub ingest)':<34} {'':>15} {base:>18.0f} {1:>14.2f} {base_peak:>9.0f}")
    for name, rates in (
        ("Kafka in -> store -> Kafka out", via_kafka),
        ("HTTP in -> store -> Kafka out", via_http),
    ):
        ratio = rates.flowing / base
        print(
            f"{name:<34} {rates.wall:>15.0f} {rates.flowing:>18.0f} {ratio:>14.2f} "
            f"{rates.peak_mib:>9.0f}"
        )
    print(
        "wall: from starting the hub (Kafka) or the first request (HTTP) to the last event out;"
        " flowing: events after the first ones out, over the time from those to the last; "
        "store only: dvchub ingest's own time, start-up excluded."
    )
    if args.inbound_processes == 1:
        ratio = via_kafka.flowing / base
        verdict = "met" if ratio >= 0.8 else "NOT met"
        print(
            f"target, one inbound process at least 0.8x the store's rate: {ratio:.2f}x, {verdict}"
        )
    else:
        verdict = "met" if via_kafka.flowing >= 5_000 else "NOT met"
        print(f"target, at least 5000 events/s through Kafka while flowing: {verdict}")


if __name__ == "__main__":
    main()
