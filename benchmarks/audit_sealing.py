"""Sealing the whole log with the map of dossier heads, beside the previous release's sealer
(without it), in one run (PostgreSQL).

    python -m benchmarks.audit_sealing [--schema bench_province_year]

Each seals the store :mod:`benchmarks.projections_rebuild` fills (about 2.1 million events)
from nothing into a scratch schema of its own and signs a checkpoint, in a child process:
this release's sealer (seals, each dossier's head kept, a checkpoint signing the map) and
the previous release's, taken from the repository's history. Prints each one's events per
second and peak memory, and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from benchmarks.services import child_env, postgres_url
from tests.releases import PREVIOUS_RELEASE, extract

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import resource, sys, time
from hub.audit.publish import sealer
from hub.bootstrap import bootstrap
from hub.settings import HubSettings
url, store_schema, scratch, data = sys.argv[1:5]
store = HubSettings(database_url=url, database_schema=store_schema, data_dir=data)
hub = bootstrap(store, configure_logs=False)
settings = HubSettings(database_url=url, database_schema=scratch, data_dir=data)
worker = sealer(settings, hub.store, publish=lambda checkpoint: None)
began = time.perf_counter()
sealed = worker.seal()
worker.checkpoint()
print(sealed, time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _seal(code: Path, url: str, schema: str, scratch: str) -> tuple[int, float, float]:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {scratch} CASCADE")
        connection.execute(f"CREATE SCHEMA {scratch}")
    with tempfile.TemporaryDirectory() as data:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, url, schema, scratch, data],
            cwd=code,
            env=child_env({"PYTHONPATH": str(code)}),
            capture_output=True,
            text=True,
            check=True,
        )
    sealed, seconds, peak = done.stdout.splitlines()[-1].split()  # after any log lines
    return int(sealed), float(seconds), int(peak) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="bench_province_year")
    args = parser.parse_args()
    url = postgres_url()
    with tempfile.TemporaryDirectory() as where:
        previous = extract(PREVIOUS_RELEASE, Path(where))  # the release before the map
        runs = {
            "previous release (no map)": _seal(previous, url, args.schema, "bench_seal_before"),
            "this release (map of heads)": _seal(ROOT, url, args.schema, "bench_seal_after"),
        }
    for name, (sealed, seconds, peak) in runs.items():
        print(
            f"{name}: {sealed:,} events sealed and a checkpoint signed in {seconds:.1f} s = "
            f"{sealed / seconds:,.0f} events/s; peak memory {peak:.0f} MiB"
        )
    (_, before, _), (_, after, _) = runs.values()
    print(f"ratio: with the map / without = {before / after:.2f}x the rate")


if __name__ == "__main__":
    main()
