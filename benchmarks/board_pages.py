"""Page load times of the board at the size of the rebuild benchmark's store.

    python -m benchmarks.board_pages [--schema bench_province_year] [--rounds 100]

Runs ``dvchub serve`` (API, board, projections) on the store that
``benchmarks.projections_rebuild`` fills (at least 2 million events, read model rebuilt) and
times, over HTTP from another process, the board of a half-year, a unit's page with its
charts, its late and overdue dossiers, the province table, the rankings, the Decision 766
indicators and a citizen's look-up of a dossier; beside the board, the unit page and the
look-up, the JSON of the same figures or dossier (``/v1/reports/{period}``,
``/v1/units/{code}/progress``, ``/v1/dossiers/{code}`` with a reader's key), so the ratio
shows what rendering the page adds to reading the figures. Prints p50 and p99 of each after
the first request of each distinct page (pages and reports are kept 30 s once made), whether
that p99 is under 100 ms, and the first requests' own p50 and p99.
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

from benchmarks.services import ROOT, child_env, postgres_url, wait_until_ready
from hub.adapters.sql import ReadModelDatabase
from hub.auth.roles import ALL_UNITS, Role
from hub.auth.store import CredentialStore
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings, settings_env
from projections.progress.tables import LATE


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _timed(client: httpx.Client, url: str, headers: dict[str, str] | None) -> float:
    started = time.perf_counter()
    answer = client.get(url, headers=headers)
    answer.raise_for_status()
    return time.perf_counter() - started


def _times(
    client: httpx.Client, urls: list[str], headers: dict[str, str] | None = None
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(p50, p99) in ms of each distinct page's first request, then of all the requests
    after it."""
    first = [_timed(client, url, headers) for url in dict.fromkeys(urls)]
    after = [_timed(client, url, headers) for url in urls]

    def summary(spent: list[float]) -> tuple[float, float]:
        if len(spent) < 2:
            return spent[0] * 1000, spent[0] * 1000
        return statistics.median(spent) * 1000, statistics.quantiles(spent, n=100)[98] * 1000

    return summary(first), summary(after)


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
        board_lookup_rate="1000000/minute",  # one client asks every look-up here
    )
    catalogue = CatalogueStore(settings)
    current = catalogue.current()
    catalogue.close()
    if current is None:
        raise SystemExit("no catalogue: run benchmarks.projections_rebuild first")
    units = [u.code for u in current.content.units if u.parent is not None]
    with ReadModelDatabase(settings) as db:
        late = [row[0] for row in db.query(f"SELECT dossier_code FROM {LATE} LIMIT 1000")]
    if not late:
        raise SystemExit("no dossier resolved late in the read model: rebuild it first")
    with CredentialStore(settings) as credentials:
        _, key = credentials.issue("board-benchmark", Role.READER, [ALL_UNITS])
    reader = {"Authorization": f"Bearer {key}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve"],
        env=child_env(settings_env(settings)),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base)
        with httpx.Client(base_url=base, timeout=60) as client:
            rng = random.Random(3)
            picked = [rng.choice(units) for _ in range(args.rounds)]
            dossiers = [rng.choice(late) for _ in range(args.rounds)]
            period = args.period
            pages = {
                "board (all units)": [f"/?period={period}"] * args.rounds,
                "unit page (charts, daily)": [f"/units/{u}?period={period}" for u in picked],
                "late and overdue dossiers": [f"/units/{u}/late?period={period}" for u in picked],
                "province table": [f"/province?period={period}"] * args.rounds,
                "rankings": [f"/rankings?period={period}"] * args.rounds,
                "Decision 766 indicators": [f"/chi-so?period={period}"] * args.rounds,
                "look-up of a dossier": [f"/tra-cuu?code={code}" for code in dossiers],
            }
            baselines = {
                "board (all units)": [f"/v1/reports/{period}"] * args.rounds,
                "unit page (charts, daily)": [
                    f"/v1/units/{u}/progress?period={period}" for u in picked
                ],
                "look-up of a dossier": [f"/v1/dossiers/{code}" for code in dossiers],
            }
            print(f"server: dvchub serve on schema {args.schema}, {args.rounds} requests each")
            for name, urls in pages.items():
                (c50, c99), (p50, p99) = _times(client, urls)
                line = f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                line += " (under 100 ms)" if p99 < 100 else " (OVER 100 ms)"
                line += f"; first request of each: p50 {c50:.1f} ms, p99 {c99:.1f} ms"
                if name in baselines:
                    headers = reader if name.startswith("look-up") else None
                    _, (b50, b99) = _times(client, baselines[name], headers)
                    line += (
                        f"; its JSON: p50 {b50:.1f} ms, p99 {b99:.1f} ms; ratio {p50 / b50:.2f}x"
                    )
                print(line)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
