"""The auditor's toolkit at size (PostgreSQL, at least 2 million events):

    python -m benchmarks.audit [--schema NAME] [--dossiers 1000]

- a dossier's full history and its state as of an instant (``dvchub audit dossier``): p50
  and p99 over many dossiers, beside the bare read of the dossier's stored rows (one indexed
  query, nothing decoded) in the same run;
- ``dvchub audit verify`` over the whole log (every event's leaf recomputed and matched,
  every chain, the root at every checkpoint, the newest checkpoint's map of dossier heads):
  events per second, beside a plain read of every stored event in log order;
- the map of dossier heads: what it adds to signing a checkpoint (the map's root over every
  dossier's head) beside signing one without it, the share of verify spent recomputing it,
  and ``dvchub audit prove`` with the head's proof: p50 and p99.

The store is the one :mod:`benchmarks.projections_rebuild` fills (schema
``bench_province_year``, about 2.1 million events), filled here too if absent; it is sealed
and a checkpoint signed first (timed, once).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.projections_rebuild import fill, store_settings
from hub.adapters.sql import ReadModelDatabase
from hub.audit import seals
from hub.audit.checkpoints import Signer
from hub.audit.heads import Head, HeadsKeeper, HeadsMap
from hub.audit.heads import current as current_heads
from hub.audit.publish import sealer
from hub.audit.service import dossier_history, prove
from hub.audit.stored import stored_events
from hub.audit.verify import verify
from hub.bootstrap import bootstrap
from hub.domain.dossier import dossier_id
from verifier.dvchub_verify import VerificationError, open_checkpoint


def percentiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, statistics.quantiles(samples, n=100)[98] * 1000


def _map_costs(db: ReadModelDatabase, signer: Signer) -> None:
    """A checkpoint's signing with the map of heads, beside the same without it."""
    size = seals.sealed_size(db)
    root = seals.checkpoints(db)[-1].root
    started = time.perf_counter()
    signer.sign(size, root, datetime.now(UTC))
    bare = time.perf_counter() - started
    started = time.perf_counter()
    mapped = HeadsMap(current_heads(db))
    signer.sign(size, root, datetime.now(UTC), heads=(mapped.size, mapped.root()))
    with_map = time.perf_counter() - started
    keeper = HeadsKeeper(current_heads(db))
    started = time.perf_counter()
    signer.sign(size, root, datetime.now(UTC), heads=keeper.signed())
    kept = time.perf_counter() - started
    print(
        f"checkpoint with the map of {mapped.size:,} dossier heads: {with_map:.2f} s read and "
        f"hashed from the table (a sealer's first), {kept:.2f} s from the heads it keeps (every "
        f"later one); baseline: without it (the log's root from its frontier): "
        f"{bare * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schema", default="bench_province_year")
    parser.add_argument("--minimum-events", type=int, default=2_000_000)
    parser.add_argument("--dossiers", type=int, default=1_000)
    args = parser.parse_args()
    # The signing key is kept beside the schema's name, so later runs verify earlier
    # checkpoints; checkpoints signed by a key since lost are dropped.
    data = Path(tempfile.gettempdir()) / f"dvchub-bench-audit-{args.schema}"
    settings = store_settings(args.schema, data)
    events = fill(settings, args.minimum_events)
    hub = bootstrap(settings, configure_logs=False)
    worker = sealer(settings, hub.store)
    assert worker.lock(), "another sealer is running on this schema"
    key = worker.signer.verifier()
    for row in seals.checkpoints(worker.db):
        try:
            open_checkpoint(row.note, key)
        except VerificationError:
            print("checkpoints signed by another key: dropped")
            worker.db.execute(f"DELETE FROM {seals.CHECKPOINTS}")
            break
    stored = seals.checkpoints(worker.db)
    if stored and open_checkpoint(stored[-1].note, key).heads() is None:
        print("checkpoints signed before the map of heads was kept: dropped")
        worker.db.execute(f"DELETE FROM {seals.CHECKPOINTS}")
    started = time.perf_counter()
    sealed = worker.seal()
    worker.checkpoint()
    print(
        f"sealing: {sealed:,} new events sealed and a checkpoint signed in "
        f"{time.perf_counter() - started:.1f} s"
    )
    _map_costs(worker.db, worker.signer)

    db = ReadModelDatabase(settings)
    codes = [c for (c,) in db.query(f"SELECT DISTINCT dossier_code FROM {seals.SEALS}")]
    rng = random.Random(6)
    sample = rng.sample(codes, min(args.dossiers, len(codes)))
    full, as_of, bare = [], [], []
    for code in sample:
        t0 = time.perf_counter()
        history = dossier_history(hub.store, code)
        t1 = time.perf_counter()
        timeline = history.timeline
        middle = timeline[len(timeline) // 2].occurred_at + timedelta(seconds=1)
        dossier_history(hub.store, code, as_of=middle)
        t2 = time.perf_counter()
        hub.store.recorder.select_events(dossier_id(code))
        t3 = time.perf_counter()
        full.append(t1 - t0)
        as_of.append(t2 - t1)
        bare.append(t3 - t2)
    for name, samples in (("full history", full), ("state as of an instant", as_of)):
        p50, p99 = percentiles(samples)
        print(
            f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(sample)} dossiers "
            "(target p99 < 10 ms)"
        )
    b50, b99 = percentiles(bare)
    print(f"baseline: the bare read of a dossier's rows: p50 {b50:.2f} ms, p99 {b99:.2f} ms")
    print(f"ratio: full history / bare read at p99 = {percentiles(full)[1] / b99:.1f}x")

    started = time.perf_counter()
    read = sum(1 for _ in stored_events(hub.store))
    read_rate = read / (time.perf_counter() - started)
    print(f"baseline: reading every stored event in log order: {read_rate:,.0f} events/s")
    started = time.perf_counter()
    report = verify(hub.store, db, key)
    seconds = time.perf_counter() - started
    rate = report.events / seconds
    print(
        f"verify: {report.events:,} events, {report.checkpoints} checkpoints, "
        f"{len(report.findings)} findings in {seconds:.1f} s = {rate:,.0f} events/s "
        "(target >= 50,000/s)"
    )
    print(f"ratio: verify / plain read = {rate / read_rate:.2f}")
    size = seals.sealed_size(db)
    started = time.perf_counter()
    HeadsMap(Head(*row) for row in seals.head_rows(db, size)).root()
    part = time.perf_counter() - started
    print(f"of which the map of heads recomputed from the seals: {part:.1f} s")
    timings = []
    for code in sample[:10]:
        t0 = time.perf_counter()
        bundle = prove(hub.store, db, code)
        timings.append(time.perf_counter() - t0)
        assert bundle.heads is not None
    p50, p99 = percentiles(timings)
    print(f"prove with the head's proof: p50 {p50:.0f} ms, p99 {p99:.0f} ms over 10 dossiers")
    print(f"store size: {events:,} events")
    db.close()
    hub.close()


if __name__ == "__main__":
    main()
