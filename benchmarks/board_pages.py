"""Page load times of the board at the size of the rebuild benchmark's store.

    python -m benchmarks.board_pages [--schema bench_province_year] [--rounds 100]

Runs ``dvchub serve`` (API, board, projections) on the store that
``benchmarks.projections_rebuild`` fills (at least 2 million events, read model rebuilt) and
times, over HTTP from another process, the board of a half-year, a unit's page with its
charts, the province table and the rankings; beside each, the JSON of the same figures
(``/v1/reports/{period}``, ``/v1/units/{code}/progress``), so the ratio shows what rendering
the page adds to reading the figures. Prints p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.services import ROOT, child_env, postgres_url
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings, settings_env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _times(client: httpx.Client, urls: list[str]) -> tuple[float, float]:
    spent = []
    for url in urls:
        started = time.perf_counter()
        answer = client.get(url)
        answer.raise_for_status()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent) * 1000, statistics.quantiles(spent, n=100)[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="bench_province_year")
    parser.add_argument("--period", default="2021H1")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    port = _port()
    settings = HubSettings(
        database_url=postgres_url(),
        database_schema=args.schema,
        data_dir=Path(tempfile.mkdtemp(prefix="dvchub-board-")),
        api_port=port,
        log_level="WARNING",
    )
    catalogue = CatalogueStore(settings)
    current = catalogue.current()
    catalogue.close()
    if current is None:
        raise SystemExit("no catalogue: run benchmarks.projections_rebuild first")
    units = [u.code for u in current.content.units if u.parent is not None]
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve"],
        env=child_env(settings_env(settings)),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
            rng = random.Random(3)
            picked = [rng.choice(units) for _ in range(args.rounds)]
            period = args.period
            pages = {
                "board (all units)": [f"/?period={period}"] * args.rounds,
                "unit page (charts, daily)": [f"/units/{u}?period={period}" for u in picked],
                "province table": [f"/province?period={period}"] * args.rounds,
                "rankings": [f"/rankings?period={period}"] * args.rounds,
            }
            baselines = {
                "board (all units)": [f"/v1/reports/{period}"] * args.rounds,
                "unit page (charts, daily)": [
                    f"/v1/units/{u}/progress?period={period}" for u in picked
                ],
            }
            _times(client, pages["board (all units)"][:5])  # warm up
            print(f"server: dvchub serve on schema {args.schema}, {args.rounds} requests each")
            for name, urls in pages.items():
                p50, p99 = _times(client, urls)
                line = f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                if name in baselines:
                    b50, b99 = _times(client, baselines[name])
                    line += (
                        f"; its JSON: p50 {b50:.1f} ms, p99 {b99:.1f} ms; ratio {p50 / b50:.2f}x"
                    )
                print(line)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
