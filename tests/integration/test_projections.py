"""The progress read model on SQLite and PostgreSQL: a scenario's figures come out as built,
and a rebuild from scratch equals the live read model row for row."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest

from events.catalogue import UnitLevel
from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import Hub
from hub.bus.sources import LogSource
from hub.catalogue.store import CatalogueStore
from hub.simulation.generator import events, plan
from hub.simulation.publish import PublishReport, StoreSink, batches
from hub.simulation.scenario import load_scenario
from hub.simulation.workload import Workload
from projections.periods import Period
from projections.progress.facts import fact_of
from projections.progress.fold import METRICS
from projections.progress.log_scan import scan_postgres, scan_sqlite
from projections.progress.tables import TABLES
from projections.rebuild import rebuild
from projections.reports import province_report, report_csv
from projections.reuse.worker import catch_up as reuse_catch_up
from projections.reuse.worker import rebuild as rebuild_reuse_index
from projections.runner import catch_up
from tests.conftest import ROOT
from tests.raw_store import RawStore

SMALL = ROOT / "tests" / "scenarios" / "small.yaml"


@pytest.fixture
def db(hub: Hub) -> Iterator[ReadModelDatabase]:
    database = ReadModelDatabase(hub.settings)
    yield database
    database.close()


def snapshot(db: ReadModelDatabase) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the read model's tables, in key order."""
    return {table: db.query(f"SELECT * FROM {table} ORDER BY 1, 2, 3") for table in TABLES}


def zero_rows(db: ReadModelDatabase) -> list[tuple[Any, ...]]:
    """Rows of the row tables whose figures are all zero (none should be kept)."""
    nothing = " AND ".join(f"{name} = 0" for name in METRICS)
    return [
        row for table in TABLES[:2] for row in db.query(f"SELECT * FROM {table} WHERE {nothing}")
    ]


def ingest(hub: Hub, items: list[dict[str, Any]]) -> None:
    report = PublishReport()
    for batch in batches(items, 500):
        StoreSink(hub.ingestor).send(batch, report)
    assert set(report.outcomes) == {"accepted"}, report


def test_a_scenario_report_shows_the_figures_it_was_built_with(
    hub: Hub, db: ReadModelDatabase
) -> None:
    scenario = load_scenario(SMALL)
    built = plan(scenario)
    catalogue = CatalogueStore(hub.settings)
    version, changed = catalogue.load(built.catalogue, "small.yaml")
    assert changed
    assert version.version == 1
    assert catalogue.load(built.catalogue, "small.yaml again")[1] is False  # same content
    ingest(hub, list(events(built, hub.rules.calendar)))
    catch_up(db, LogSource(hub.store))

    period = Period.parse("2021-03-01..2021-04-30")
    district_one = next(u.code for u in built.units if u.name == "UBND huyện Một")
    report = province_report(db, catalogue.current(), period, [district_one])
    catalogue.close()

    by_name = {row.name: row.totals for row in report.units}
    for spec in scenario.units:
        if spec.count == 1:
            assert by_name[spec.name].received == spec.dossiers.received
            assert by_name[spec.name].received_online == spec.dossiers.online
            assert by_name[spec.name].received_post == spec.dossiers.post
    assert report.levels[UnitLevel.DISTRICT].received == 400
    assert report.levels[UnitLevel.DISTRICT].received_online == 52
    assert report.levels[UnitLevel.COMMUNE].received == 290
    assert report.online_total == 220 + 90 + 40 + 12 + 2
    card = report.cards[0]
    assert card.online_procedures == {3: 4, 4: 2}
    assert card.online_before == 17  # the history span before the period
    assert card.online_procedures_used == 3
    assert [(name, n) for _, name, n in card.below_with_online] == [("UBND xã Một A", 2)]
    assert card.below_count == 3
    assert report.catalogue is not None
    assert report.catalogue.version == 1
    for row in report.units:  # every received dossier is resolved, withdrawn or pending
        t = row.totals
        assert t.resolved + t.withdrawn + t.pending <= t.received + t.carried_over

    # The reuse rate it was built with (reuse: share 0.1): a tenth of the received dossiers
    # give an earlier dossier's code, each of the same applicant, counted per receiving unit.
    reuse_catch_up(db, LogSource(hub.store))
    figures = province_report(db, None, period).reuse
    reuse = figures.total
    received = sum(row.totals.received for row in report.units)
    assert reuse.received == received == 1_390
    assert reuse.reusing == 139
    assert reuse.rate.shown() == "10.00"
    assert {u.code: u.received for u in figures.units} == {
        row.code: row.totals.received for row in report.units
    }
    table = list(csv.DictReader(io.StringIO(report_csv(province_report(db, None, period)))))
    assert sum(int(row["reusing"]) for row in table if row["code"].startswith("level:")) == 139
    assert sum(int(row["reusing"]) for row in table if not row["code"].startswith("level:")) == 139
    later = db.query("SELECT owner_hash, reuses FROM reuse_dossiers WHERE reuse_count > 0")
    owners = dict(db.query("SELECT dossier_code, owner_hash FROM reuse_dossiers"))
    assert len(later) == 139
    for owner, reuses in later:  # the same applicant, an approved dossier
        [earlier] = orjson.loads(reuses)
        assert owners[earlier] == owner
    statuses = db.query(
        "SELECT DISTINCT e.status FROM reuse_dossiers d JOIN reuse_dossiers e "
        "ON d.reuses = '[\"' || e.dossier_code || '\"]' WHERE d.reuse_count > 0"
    )
    assert statuses == [("approved",)]


def test_a_rebuild_equals_the_live_read_model_row_for_row(hub: Hub, db: ReadModelDatabase) -> None:
    items = Workload(date(2021, 3, 1), 40, 25, seed=11).events()
    third = len(items) // 3
    for part in (items[:third], items[third : 2 * third]):
        ingest(hub, part)
        assert catch_up(db, LogSource(hub.store, page=97)) == len(part)
    live = snapshot(db)
    assert live["progress_daily"], "the live worker wrote nothing"
    assert not zero_rows(db), "a live batch left a row of zeros"

    report = rebuild(hub.settings, hub.store, shards=2)
    assert report.events == 2 * third
    assert snapshot(db) == live

    # After the swap, the live worker carries on from where the rebuild stopped.
    ingest(hub, items[2 * third :])
    assert catch_up(db, LogSource(hub.store, page=113)) == len(items) - 2 * third
    carried_on = snapshot(db)
    rebuild(hub.settings, hub.store)
    assert snapshot(db) == carried_on


def test_a_reuse_index_rebuild_equals_the_live_index_row_for_row(
    hub: Hub, db: ReadModelDatabase
) -> None:
    built = plan(load_scenario(SMALL))
    items = list(events(built, hub.rules.calendar))
    half = len(items) // 2

    def index() -> list[tuple[Any, ...]]:
        return db.query("SELECT * FROM reuse_dossiers ORDER BY dossier_code")

    ingest(hub, items[:half])
    assert reuse_catch_up(db, LogSource(hub.store, page=101)) == half
    live = index()
    assert any(row[-1] for row in live), "no dossier reused an earlier one"
    assert rebuild_reuse_index(db, hub.store, page=89) == (half, half)
    assert index() == live
    # After the swap, the live worker carries on from where the rebuild stopped.
    ingest(hub, items[half:])
    assert reuse_catch_up(db, LogSource(hub.store, page=97)) == len(items) - half
    carried_on = index()
    rebuild_reuse_index(db, hub.store)
    assert index() == carried_on
    assert len(carried_on) == built.dossiers


def test_reports_read_the_same_whatever_the_period_granularity(
    hub: Hub, db: ReadModelDatabase
) -> None:
    from projections.periods import Granularity
    from projections.progress.queries import series, unit_totals

    ingest(hub, Workload(date(2021, 1, 4), 120, 10, seed=3).events())
    catch_up(db, LogSource(hub.store))
    half = Period.parse("2021H1")
    whole = unit_totals(db, half)
    units = sorted(whole)
    for by in (Granularity.DAY, Granularity.MONTH, Granularity.QUARTER):
        points = series(db, units, half, by)
        assert sum(p.totals.received for p in points) == sum(t.received for t in whole.values())
        assert sum(p.totals.resolved_late for p in points) == sum(
            t.resolved_late for t in whole.values()
        )
        last = points[-1].totals
        assert last.pending_within_deadline == sum(
            t.pending_within_deadline for t in whole.values()
        )
        assert last.overdue == sum(t.overdue for t in whole.values())
    months = series(db, units, half, Granularity.MONTH)
    for before, after in itertools.pairwise(months):
        assert after.totals.carried_over == before.totals.pending


def test_the_report_commands_print_and_export(tmp_path: Path) -> None:
    """The CLI over the embedded store: simulate, report as text, JSON and CSV, rank."""
    from hub.settings import HubSettings
    from tests.processes import run_cli

    settings = HubSettings(data_dir=tmp_path / "var", log_level="WARNING")
    run_cli(settings, "simulate", "--scenario", str(SMALL))
    text = run_cli(
        settings, "report", "--period", "2021-03-01..2021-04-30", "--unit", "000.00.60.H99"
    )
    assert "Online dossiers: 364" in text
    assert "UBND huyện Một" in text
    assert "procedures with online dossiers: 3" in text
    out = tmp_path / "report.json"
    run_cli(
        settings,
        "report",
        "--period",
        "2021-03-01..2021-04-30",
        "--format",
        "json",
        "--out",
        str(out),
    )
    import orjson

    data = orjson.loads(out.read_bytes())
    assert data["online_total"] == 364
    assert data["levels"]["district"]["online_rate"] == {
        "part": 52,
        "whole": 400,
        "percent": "13.00",
    }
    csv_text = run_cli(settings, "report", "--period", "2021-03-01..2021-04-30", "--format", "csv")
    header, *rows = csv_text.splitlines()
    assert header.startswith("code,name,level,received")
    assert any(row.startswith("000.00.01.H99,Sở Tư pháp,province,400,") for row in rows)
    ranked = run_cli(settings, "ranking", "--period", "2021-03-01..2021-04-30", "--by", "online")
    assert ranked.index("Sở Tư pháp") < ranked.index("Sở Xây dựng")  # 55 % before 30 %
    failed = __import__("subprocess").run(
        [__import__("sys").executable, "-m", "hub.cli", "report", "--period", "2021H3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert failed.returncode == 2
    assert "not a period" in failed.stderr


def test_the_figures_over_http_equal_the_report(hub: Hub, db: ReadModelDatabase) -> None:
    from fastapi.testclient import TestClient

    from hub.api.app import create_app
    from hub.auth.store import CredentialStore
    from hub.bus.rejects import FileRejectSink
    from projections.documents import ProgressDoc, RankingDoc, ReportDoc
    from projections.read_models import ReadModels

    built = plan(load_scenario(SMALL))
    catalogue = CatalogueStore(hub.settings)
    catalogue.load(built.catalogue, "small.yaml")
    catalogue.close()
    ingest(hub, list(events(built, hub.rules.calendar)))
    catch_up(db, LogSource(hub.store))
    credentials = CredentialStore(hub.settings)
    models = ReadModels(hub.settings)
    app = create_app(
        hub, credentials, FileRejectSink(hub.settings.data_dir / "r.jsonl"), None, models
    )
    district = next(u.code for u in built.units if u.name == "UBND huyện Một")
    period = "2021-03-01..2021-04-30"
    with TestClient(app) as client:
        report = client.get(f"/v1/reports/{period}", params={"unit": district}).json()
        assert report["online_total"] == 364
        assert report["cards"][0]["procedures_with_online_dossiers"] == 3
        csv_answer = client.get(f"/v1/reports/{period}", params={"format": "csv"})
        assert csv_answer.headers["content-type"].startswith("text/csv")
        assert csv_answer.content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
        assert csv_answer.text.lstrip("\ufeff").splitlines()[0].startswith("code,name,level")

        monthly = client.get(
            f"/v1/units/{district}/progress", params={"period": period, "by": "month"}
        ).json()
        assert [p["label"] for p in monthly["series"]] == ["2021-03", "2021-04"]
        assert sum(p["received"] for p in monthly["series"]) == 250
        assert sum(p["received"] for p in monthly["procedures"]) == 250
        assert sum(f["received"] for f in monthly["fields"]) == 250  # rolled up by field
        field_of = {p.code: p.field_code for p in built.catalogue.procedures}
        by_field: dict[str, int] = {}
        for procedure in monthly["procedures"]:
            code = field_of[procedure["code"]]
            by_field[code] = by_field.get(code, 0) + procedure["received"]
        assert {f["code"]: f["received"] for f in monthly["fields"]} == by_field
        subtree = client.get(
            f"/v1/units/{district}/progress",
            params={"period": period, "by": "half", "subtree": "true"},
        ).json()
        expected = sum(u["received"] for u in report["units"] if u["code"] in subtree["units"])
        assert subtree["series"][0]["received"] == expected

        ranked = client.get(f"/v1/rankings/{period}", params={"by": "online"}).json()["units"]
        rates = [r["rate"]["part"] / r["rate"]["whole"] for r in ranked if r["rank"] is not None]
        assert rates == sorted(rates, reverse=True)
        assert next(r["rank"] for r in ranked if r["rank"] is not None) == 1
        assert client.get("/v1/reports/2021H9").status_code == 422
        assert client.get(f"/v1/units/000.00.99.H99/progress?period={period}").status_code == 404

        # Every figure route's answer is exactly its documented model: no field missing or
        # left over (the models forbid extra fields), so the OpenAPI description is true.
        ReportDoc.model_validate(report)
        ProgressDoc.model_validate(monthly)
        RankingDoc.model_validate(client.get(f"/v1/rankings/{period}").json())
        described = client.get("/openapi.json").json()["paths"]
        for path in ("/v1/reports/{period}", "/v1/rankings/{period}", "/v1/units/{code}/progress"):
            answer = described[path]["get"]["responses"]["200"]["content"]["application/json"]
            assert "$ref" in answer["schema"], f"{path} has no response model"
    models.close()
    credentials.close()


def test_only_one_rebuild_runs_at_a_time(hub: Hub, db: ReadModelDatabase) -> None:
    from projections.rebuild import RebuildError

    ingest(hub, Workload(date(2021, 3, 1), 5, 10, seed=2).events())
    holder = ReadModelDatabase(hub.settings)
    assert holder.try_lock("dvchub-rebuild-unit_progress")
    with pytest.raises(RebuildError, match="another rebuild"):
        rebuild(hub.settings, hub.store)
    holder.close()  # released with its connection
    assert rebuild(hub.settings, hub.store).events > 0


@pytest.mark.postgres
def test_hubs_in_two_schemas_of_one_server_do_not_share_their_locks(
    postgres_url: str, postgres_schema: str, tmp_path: Path
) -> None:
    import psycopg

    from hub.settings import HubSettings

    other = f"{postgres_schema}_other"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {other}")
    first, second, again = (
        ReadModelDatabase(
            HubSettings(database_url=postgres_url, database_schema=schema, data_dir=tmp_path)
        )
        for schema in (postgres_schema, other, postgres_schema)
    )
    try:
        assert first.try_lock("dvchub-rebuild-unit_progress")
        assert second.try_lock("dvchub-rebuild-unit_progress")
        assert not again.try_lock("dvchub-rebuild-unit_progress")
    finally:
        for db in (first, second, again):
            db.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {other} CASCADE")


@pytest.mark.postgres
def test_the_rebuilds_log_scan_reads_the_facts_the_live_worker_reads(
    postgres_url: str, postgres_schema: str, tmp_path: Path
) -> None:
    """The rebuild decodes only a few fields of each stored event, in shards of dossiers;
    together the shards must give exactly the facts of the whole events, each once."""
    from hub.bootstrap import bootstrap
    from hub.log_reader import read_log
    from hub.settings import HubSettings

    settings = HubSettings(
        database_url=postgres_url, database_schema=postgres_schema, data_dir=tmp_path
    )
    built = bootstrap(settings, configure_logs=False)
    try:
        ingest(built, Workload(date(2021, 3, 1), 12, 20, seed=5).events())
        live = [fact_of(e.position, e.record, e.transition) for e in read_log(built.store)]
    finally:
        built.close()
    upto = live[-1].position
    shards = [list(scan_postgres(postgres_url, postgres_schema, k, 3, upto)) for k in range(3)]
    assert all(shard for shard in shards), "a shard read nothing"
    for shard in shards:
        assert [f.position for f in shard] == sorted(f.position for f in shard)
    assert sorted(fact for shard in shards for fact in shard) == live
    assert list(scan_postgres(postgres_url, postgres_schema, 0, 1, upto - 5)) == live[:-5]


def test_the_embedded_log_scan_reads_the_facts_the_live_worker_reads(tmp_path: Path) -> None:
    """The embedded rebuild reads the store's SQLite file itself: the same facts, in order."""
    from hub.bootstrap import bootstrap
    from hub.log_reader import read_log, sqlite_file
    from hub.settings import HubSettings

    built = bootstrap(HubSettings(data_dir=tmp_path), configure_logs=False)
    try:
        ingest(built, Workload(date(2021, 3, 1), 12, 20, seed=5).events())
        live = [fact_of(e.position, e.record, e.transition) for e in read_log(built.store)]
        found = sqlite_file(built.store)
    finally:
        built.close()
    assert found is not None
    assert list(scan_sqlite(*found, live[-1].position)) == live
    assert list(scan_sqlite(*found, live[-1].position - 5)) == live[:-5]


def test_a_page_of_records_read_from_the_file_is_the_page_the_hub_reads(hub: Hub) -> None:
    """The reuse index's rebuild reads records straight from an embedded store's file, and
    through eventsourcing from PostgreSQL: the same records either way."""
    from hub.log_reader import log_page, record_page

    ingest(hub, Workload(date(2021, 3, 1), 12, 20, seed=5).events())
    raw = RawStore(hub)
    last = raw.rows()[-1][0]
    raw.insert(last + 1, str(uuid4()), 1, b"\xff\xfe not JSON")
    for start, limit in ((1, 10_000), (7, 13), (last - 2, 100)):
        expected = [(e.position, e.record) for e in log_page(hub.store, start, limit)]
        assert record_page(hub.store, start, limit) == expected
    assert record_page(hub.store, last + 1, 5) == [(last + 1, {})]


def test_the_live_readers_page_is_the_stored_json_of_the_log_in_order(hub: Hub) -> None:
    """The embedded bus hands its readers each event's stored JSON as it is (on PostgreSQL
    read by a binary COPY): byte for byte what the library's reader returns, for any start
    and size; a row of another topic comes as an empty event, in its place."""
    from hub.log_reader import LoggedEvent, decoded_page, log_page, stored_page

    ingest(hub, Workload(date(2021, 3, 1), 12, 20, seed=5).events())
    raw = RawStore(hub)
    last = raw.rows()[-1][0]
    raw.run(f"UPDATE {raw.table} SET topic = ? WHERE {raw.position} = ?", ("x.y:Other", 4))
    raw.insert(last + 1, str(uuid4()), 1, b"\xff\xfe not JSON")
    raw.insert(last + 2, str(uuid4()), 1, b'{"record": [], "transition": {}}')
    for start, limit in ((1, 10_000), (7, 13), (last - 2, 100), (last + 3, 10)):
        # The relay's page, decoded from the stored JSON alone: the library reader's events.
        assert decoded_page(hub.store, start, limit) == log_page(hub.store, start, limit)
        library = hub.store.recorder.select_notifications(start, limit)
        page = stored_page(hub.store, start, limit)
        assert page is not None
        assert [position for position, _ in page] == [n.id for n in library]
        for (position, value), notification in zip(page, library, strict=True):
            if position == 4:
                assert value == LoggedEvent(4, {}, {})
            else:
                assert value == bytes(notification.state)


def test_the_embedded_bus_reads_larger_pages_while_behind_and_small_ones_once_caught_up(
    hub: Hub,
) -> None:
    """Catching up, each page is twice the last (up to the limit); once a page is not full,
    the next is the first size again."""
    import threading

    items = Workload(date(2021, 3, 1), 12, 20, seed=5).events()
    ingest(hub, items)
    source = LogSource(hub.store, page=10, max_page=40)
    source.start(lambda parts: {})
    no_wait = threading.Event()
    no_wait.set()
    sizes: list[int] = []
    positions: list[int] = []
    while batch := source.poll(no_wait):
        sizes.append(len(batch))
        positions.extend(delivery.position for delivery in batch)
    assert positions == list(range(1, len(items) + 1))  # every event once, in order
    full, rest = divmod(len(items) - 10 - 20, 40)
    assert sizes == [10, 20, *[40] * full, *([rest] if rest else [])]
    assert source.next_page == 10
    with pytest.raises(ValueError, match="page must be between 1 and max_page"):
        LogSource(hub.store, page=50, max_page=40)


def test_a_rebuild_parks_rows_that_are_not_events_and_folds_the_rest(
    hub: Hub, db: ReadModelDatabase
) -> None:
    """Rows written behind the hub's back, not JSON or not the shape of an event, are parked
    by position; the figures are those of the other events, and every row is counted."""
    items = Workload(date(2021, 3, 1), 10, 10, seed=3).events()
    ingest(hub, items)
    assert catch_up(db, LogSource(hub.store)) == len(items)
    expected = snapshot(db)
    raw = RawStore(hub)
    last = raw.rows()[-1][0]
    raw.insert(last + 1, str(uuid4()), 1, b"\xff\xfe not JSON")
    raw.insert(last + 2, str(uuid4()), 1, b'{"record": {"dossier_code": 7}}')

    report = rebuild(hub.settings, hub.store)
    assert report.events == len(items) + 2
    assert report.parked == 2
    assert snapshot(db) == expected
    assert sorted(p.position for p in parked.parked(db, "unit_progress")) == [last + 1, last + 2]


def test_every_registered_projection_is_prepared_caught_up_and_served(
    hub: Hub, db: ReadModelDatabase
) -> None:
    """The registry is the one list of projections: the embedded catch-up brings each to the
    log's end, and a serving process runs a worker for each."""
    from hub.log_reader import last_position
    from hub.serve import projection_services
    from projections import checkpoints, figures, registry

    ingest(hub, Workload(date(2021, 3, 1), 5, 10, seed=3).events())
    applied = figures.catch_up_from_log(db, hub.store)
    end = last_position(hub.store)
    assert applied == end * len(registry.PROJECTIONS)
    source = LogSource(hub.store).name
    for name in registry.names():
        reached = checkpoints.checkpoints(db, name, source)[0].position
        assert reached == end, f"{name} stopped at {reached} of {end}"
    served = {service.name for service in projection_services(hub)}
    assert len(served) == len(registry.PROJECTIONS) + 1  # and the sealer
    with pytest.raises(registry.UnknownProjectionError, match="there are: unit_progress"):
        registry.named("no_such_projection")
