"""Many agency systems posting one event per request: group commit against one transaction
per request, side by side in one run, on PostgreSQL.

    python -m benchmarks.http_ingest [--clients 32] [--dossiers 1500] [--batch 1]
    python -m benchmarks.http_ingest --clients 4 --batch 500 --dossiers 20000 --baseline ingest

For each way (``DVCHUB_API_GROUP_COMMIT`` on, then off) a fresh schema and ``dvchub serve
--no-projections`` (the API alone: the projections would compete for the two cores), then
``--clients`` concurrent clients, each sending its own dossiers' events in order (a dossier's
events never race each other), ``--batch`` events per request. Prints each way's events per
second, p50 and p99 request latency, the server's peak memory, every event accepted, and the
ratio of the two rates. With ``--baseline ingest`` the second way is ``dvchub ingest`` of the
same events from a file (its own time, start-up excluded as the server's is).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg import sql

from benchmarks.services import (
    ROOT,
    child_env,
    peak_mib,
    postgres_url,
    run_measured,
    wait_until_ready,
)
from hub.auth.roles import ALL_UNITS, Role
from hub.auth.store import CredentialStore
from hub.settings import HubSettings, settings_env
from hub.simulation.workload import Workload


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shares(events: list[dict[str, Any]], clients: int) -> list[list[dict[str, Any]]]:
    """Each client's events: whole dossiers, dealt round robin, each in its own order."""
    dossiers: dict[str, list[dict[str, Any]]] = {}
    for item in events:
        dossiers.setdefault(item["dossier_code"], []).append(item)
    shares: list[list[dict[str, Any]]] = [[] for _ in range(clients)]
    for index, code in enumerate(dossiers):
        shares[index % clients].extend(dossiers[code])
    return shares


async def _client(
    port: int, key: str, events: list[dict[str, Any]], batch: int, spent: list[float]
) -> int:
    """One agency system on one keep-alive connection, its requests one after another.

    Plain HTTP/1.1 over asyncio streams rather than an HTTP client library: a client that
    spends a millisecond of CPU per request would measure itself, not the hub, on a machine
    whose other core runs the server."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
    ).encode()
    accepted = 0
    try:
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            body = orjson.dumps(chunk[0] if batch == 1 else chunk)
            began = time.perf_counter()
            writer.write(head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
            spent.append(time.perf_counter() - began)
            if b" 200 " not in status_line:
                raise SystemExit(f"{status_line!r}: {answer[:300]!r}")
            accepted += int(orjson.loads(answer)["accepted"])
    finally:
        writer.close()
    return accepted


def _run(way: str, grouped: bool, args: argparse.Namespace, events: list[dict[str, Any]]) -> float:
    """One way's run; its rate in events per second."""
    url, schema = postgres_url(), f"bench_http_{way}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    port = _port()
    settings = HubSettings(
        database_url=url,
        database_schema=schema,
        data_dir=Path(tempfile.mkdtemp(prefix=f"dvchub-http-{way}-")),
        api_port=port,
        log_level="WARNING",
        api_group_commit=grouped,
    )
    with CredentialStore(settings) as credentials:
        _, key = credentials.issue("http-benchmark", Role.PUBLISHER, [ALL_UNITS])
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--no-projections",
            "--no-inbound",
            "--no-relay",
            "--no-connector",
        ],
        env=child_env(settings_env(settings)),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base)
        spent: list[float] = []
        shares = _shares(events, args.clients)

        async def everyone() -> list[int]:
            return await asyncio.gather(
                *(_client(port, key, share, args.batch, spent) for share in shares)
            )

        began = time.perf_counter()
        accepted = sum(asyncio.run(everyone()))
        took = time.perf_counter() - began
        peak = peak_mib(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    p50 = statistics.median(spent) * 1000
    p99 = statistics.quantiles(spent, n=100)[98] * 1000
    print(
        f"{way}: {len(events):,} events in {took:.1f} s: {len(events) / took:,.0f} events/s; "
        f"request p50 {p50:.1f} ms, p99 {p99:.1f} ms; accepted {accepted:,}; "
        f"server peak memory {peak:.0f} MiB",
        flush=True,
    )
    if accepted != len(events):
        raise SystemExit(f"{way}: {len(events) - accepted} events not accepted")
    return len(events) / took


def _ingest(events: list[dict[str, Any]]) -> float:
    """``dvchub ingest`` of ``events`` into a fresh schema; its rate in events per second."""
    url, schema = postgres_url(), "bench_http_ingest"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in events))
        settings = HubSettings(
            database_url=url, database_schema=schema, data_dir=Path(tmp), log_level="WARNING"
        )
        finished = run_measured(
            "dvchub ingest",
            [sys.executable, "-m", "hub.cli", "ingest", str(path), "--json"],
            child_env(settings_env(settings)),
        )
        summary = orjson.loads(finished.output)
    if summary["accepted"] != len(events):
        raise SystemExit(f"dvchub ingest: {summary}")
    rate = len(events) / summary["seconds"]
    print(
        f"dvchub ingest: {len(events):,} events in {summary['seconds']:.1f} s: {rate:,.0f} "
        f"events/s; accepted {summary['accepted']:,}; peak memory "
        f"{finished.peak_mib:.0f} MiB",
        flush=True,
    )
    return float(rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--dossiers", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument(
        "--baseline",
        choices=("alone", "ingest"),
        default="alone",
        help="one transaction per request (alone), or dvchub ingest of the same events",
    )
    args = parser.parse_args()
    days = 30
    events = Workload(date(2021, 3, 1), days, max(1, args.dossiers // days), seed=11).events()
    print(
        f"{args.clients} clients, {args.batch} event(s) per request, {len(events):,} events, "
        "PostgreSQL, dvchub serve --no-projections",
        flush=True,
    )
    grouped = _run("grouped", True, args, events)
    if args.baseline == "ingest":
        ingest = _ingest(events)
        print(f"HTTP ({args.batch} per request) / dvchub ingest: {grouped / ingest:.2f}x")
        return
    alone = _run("alone", False, args, events)
    print(f"group commit / one transaction per request: {grouped / alone:.1f}x")


if __name__ == "__main__":
    main()
