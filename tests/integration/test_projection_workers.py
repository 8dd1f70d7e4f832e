"""Projection workers on Kafka and PostgreSQL: killed mid-stream, sharing partitions, and
living through a rebuild, the read model ends equal to a rebuild from scratch, row for row."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer

from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import bootstrap
from hub.log_reader import last_position
from hub.settings import HubSettings
from hub.simulation.workload import Workload
from projections.progress.tables import TABLES
from projections.rebuild import rebuild
from projections.reuse import tables as reuse_tables
from projections.reuse.worker import PROJECTION as REUSE_INDEX
from projections.reuse.worker import prepare as prepare_reuse
from projections.reuse.worker import rebuild as rebuild_reuse_index
from projections.runner import PROJECTION, prepare
from tests.integration.test_kafka_pipeline import _publish, _publisher_key
from tests.processes import CliProcess
from tests.waiting import eventually

pytestmark = pytest.mark.postgres


def _snapshot(db: ReadModelDatabase) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the progress tables and of the reuse index, in key order."""
    return {
        table: db.query(f"SELECT * FROM {table} ORDER BY 1, 2, 3")
        for table in (*TABLES, reuse_tables.DOSSIERS)
    }


def _applied(db: ReadModelDatabase) -> int:
    rows = db.query(
        "SELECT COALESCE(MAX(position), 0) FROM projection_checkpoints WHERE projection = ?",
        (PROJECTION,),
    )
    return int(rows[0][0])


def _caught_up(
    settings: HubSettings,
    db: ReadModelDatabase,
    events: int,
    projections: tuple[str, ...] = (PROJECTION,),
) -> bool:
    """Every event stored and published, and each projection's checkpoint of every partition
    just after the partition's last event (offsets of transaction markers are not records)."""
    hub = bootstrap(settings, configure_logs=False)
    try:
        if last_position(hub.store) < events:
            return False
    finally:
        hub.close()
    consumer = KafkaConsumer(
        settings.kafka_events_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
        consumer_timeout_ms=1_500,
    )
    last: dict[int, int] = {}
    try:
        for record in consumer:
            last[record.partition] = record.offset + 1
    finally:
        consumer.close()
    for projection in projections:
        done = {
            int(part): offset
            for part, offset in db.query(
                "SELECT part, kafka_offset FROM projection_checkpoints WHERE projection = ?",
                (projection,),
            )
        }
        if not last or any(done.get(part) != offset for part, offset in last.items()):
            return False
    return True


def _wait(condition: Any, timeout: float, what: str) -> None:
    eventually(condition, timeout=timeout, what=what)


def test_killed_and_shared_workers_end_equal_to_a_rebuild(
    bus_settings: HubSettings, tmp_path: Path
) -> None:
    settings = bus_settings.model_copy(update={"kafka_poll_records": 150})
    key = _publisher_key(settings)
    items = Workload(date(2021, 3, 1), 30, 60, seed=5).events()
    first, second = items[: len(items) * 2 // 3], items[len(items) * 2 // 3 :]
    hub = CliProcess(settings, tmp_path / "hub.log", "serve", "--no-api", "--no-projections")
    workers = [
        CliProcess(settings, tmp_path / f"worker{n}.log", "projections", "run") for n in range(3)
    ]
    db = ReadModelDatabase(settings)
    prepare(db)
    prepare_reuse(db)
    both = (PROJECTION, REUSE_INDEX)
    try:
        hub.start()
        workers[0].start()
        _publish(settings, key, first)
        # Kill the worker with SIGKILL once it has applied some batches but not all.
        _wait(lambda: _applied(db) > 500, 120, "the first worker to apply some events")
        workers[0].kill()
        assert _applied(db) < len(first), "the worker finished before it could be killed"
        # Two workers share the partitions from the checkpoints the killed one left.
        workers[1].start()
        workers[2].start()
        _wait(lambda: _caught_up(settings, db, len(first), both), 240, "the workers to catch up")
        live = _snapshot(db)
        assert live[reuse_tables.DOSSIERS], "the reuse index worker wrote nothing"

        # A rebuild while the workers run swaps in equal tables; they carry on after it.
        store = bootstrap(settings, configure_logs=False)
        try:
            report = rebuild(settings, store.store, shards=2)
            assert rebuild_reuse_index(db, store.store)[0] == len(first)
        finally:
            store.close()
        assert report.events == len(first)
        assert _snapshot(db) == live

        _publish(settings, key, second)
        _wait(lambda: _caught_up(settings, db, len(items), both), 240, "the workers after rebuilds")
        carried_on = _snapshot(db)
        store = bootstrap(settings, configure_logs=False)
        try:
            rebuild(settings, store.store)
            rebuild_reuse_index(db, store.store)
        finally:
            store.close()
        assert _snapshot(db) == carried_on
        received = sum(row[2] + row[3] + row[4] for row in carried_on["progress_unit_daily"])
        assert received == sum(1 for e in items if e["event_type"] == "dossier.received")
    finally:
        for process in (hub, *workers):
            process.stop()
        db.close()
