"""The hub's own tables have a history (hub/migrations): a database made by the previous
release is taken up and gives the same figures; the migrated tables are exactly those the
hub makes; upgrades at once take turns; a process refuses an older database when told not
to upgrade it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from hub import migrations
from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.audit import seals
from hub.personal import keys
from hub.settings import HubSettings
from projections import checkpoints
from projections.progress import tables as progress
from projections.reuse import lookups
from projections.reuse import tables as reuse
from tests.conftest import ROOT
from tests.processes import cli_result
from tests.releases import PREVIOUS_RELEASE, extract, run_release
from tests.workload_files import REPORT, figures, halves

pytestmark = pytest.mark.process


def _make_every_table_as_the_hub_does(db: ReadModelDatabase) -> None:
    from connectors.dvcqg import outbox, reconcile

    db.create(
        checkpoints.create_statements()
        + parked.create_statements()
        + progress.create_statements(db)
        + reuse.create_statements(db)
        + lookups.create_statements(db)
        + seals.create_statements(db)
        + keys.create_statements()
    )
    outbox.create(db)
    reconcile.create(db)


def _catalogue(db: ReadModelDatabase) -> dict[str, Any]:
    """Every table of the hub's database: its columns (name, type, null, default), its
    primary key's and unique columns, and its indexes (columns, condition)."""
    found: dict[str, Any] = {}
    if db.postgres:
        schema = db.settings.database_schema
        for table, column, kind, nullable, default in db.query(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = ? "
            "ORDER BY table_name, ordinal_position",
            (schema,),
        ):
            found.setdefault(table, {"columns": [], "indexes": set()})
            found[table]["columns"].append((column, kind, nullable, default))
        for table, definition in db.query(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = ?", (schema,)
        ):
            # Key names carry a rebuild's tag: compare what they index.
            found[table]["indexes"].add(definition.split(" USING ", 1)[1])
        return found
    for (table,) in db.query("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = db.query(f"PRAGMA table_info({table})")
        found[table] = {
            "columns": [(c[1], c[2], c[3], c[4], c[5]) for c in columns],
            "indexes": {
                (unique, tuple(i[2] for i in db.query(f"PRAGMA index_info({name})")))
                for _, name, unique, *_ in db.query(f"PRAGMA index_list({table})")
            },
        }
    return found


def test_the_migrated_tables_are_exactly_the_ones_the_hub_makes(
    settings: HubSettings, tmp_path: Path
) -> None:
    """Changing a table without a revision (or the other way round) fails here."""
    migrations.upgrade(settings)
    with ReadModelDatabase(settings) as db:
        migrated = _catalogue(db)
    assert migrated.pop(migrations.VERSION_TABLE)
    made_settings = settings.model_copy(
        update={
            "data_dir": tmp_path / "made",
            "database_schema": f"{settings.database_schema}_made",
        }
        if settings.uses_postgres
        else {"data_dir": tmp_path / "made"}
    )
    with ReadModelDatabase(made_settings) as db:
        if db.postgres:
            db.execute(f"CREATE SCHEMA {made_settings.database_schema}")
        try:
            _make_every_table_as_the_hub_does(db)
            made = _catalogue(db)
        finally:
            if db.postgres:
                db.execute(f"DROP SCHEMA {made_settings.database_schema} CASCADE")
    assert sorted(migrated) == sorted(made)
    for table in made:
        assert migrated[table] == made[table], table


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract(PREVIOUS_RELEASE, tmp_path_factory.mktemp("previous-release"))


def _run(settings: HubSettings, code: Path, *args: str) -> str:
    """``dvchub ARGS`` of the release whose code is at ``code``, to the end."""
    if code != ROOT:
        return run_release(settings, code, *args)
    done = cli_result(settings, *args)  # this release: in this process, no start-up
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done.stdout


def _figures(settings: HubSettings, code: Path, catch_up: bool) -> Any:
    return figures(_run(settings, code, *REPORT, *([] if catch_up else ["--no-catch-up"])))


def test_a_database_of_the_previous_release_upgrades_and_gives_the_same_figures(
    settings: HubSettings, previous_release: Path, tmp_path: Path
) -> None:
    first, second = halves(tmp_path)
    # The previous release ingests, folds its read models and seals the log.
    _run(settings, previous_release, "ingest", str(first), "--strict")
    before = _figures(settings, previous_release, catch_up=True)
    _run(settings, previous_release, "audit", "seal")
    assert migrations.state(settings).current is None

    upgraded = _run(settings, ROOT, "db", "upgrade")
    assert f"to {migrations.head()}" in upgraded
    assert cli_result(settings, "db", "current").returncode == 0
    assert _figures(settings, ROOT, catch_up=False) == before
    assert "already at" in _run(settings, ROOT, "db", "upgrade")

    # This release carries on where the previous one stopped: no event folded twice.
    _run(settings, ROOT, "ingest", str(second), "--strict")
    carried_on = _figures(settings, ROOT, catch_up=True)
    fresh = settings.model_copy(
        update={"data_dir": tmp_path / "fresh", "database_schema": f"{settings.database_schema}_f"}
        if settings.uses_postgres
        else {"data_dir": tmp_path / "fresh"}
    )
    try:
        _run(fresh, ROOT, "db", "upgrade")  # a new deployment's first step
        _run(fresh, ROOT, "ingest", str(first), "--strict")
        _run(fresh, ROOT, "ingest", str(second), "--strict")
        assert carried_on == _figures(fresh, ROOT, catch_up=True)
    finally:
        if fresh.uses_postgres:
            with ReadModelDatabase(fresh) as db:
                db.execute(f"DROP SCHEMA IF EXISTS {fresh.database_schema} CASCADE")
    assert _run(settings, ROOT, "audit", "verify")


def test_upgrades_at_once_take_turns_and_the_second_finds_the_work_done(
    settings: HubSettings,
) -> None:
    states: list[migrations.SchemaState] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            states.append(migrations.upgrade(settings))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert migrations.state(settings).up_to_date
    with ReadModelDatabase(settings) as db:
        assert db.query(f"SELECT version_num FROM {migrations.VERSION_TABLE}") == [
            (migrations.head(),)
        ]


def test_an_older_database_is_refused_when_not_to_be_upgraded_and_a_newer_one_is_named(
    settings: HubSettings,
) -> None:
    strict = settings.model_copy(update={"db_auto_upgrade": False})
    done = cli_result(strict, "serve", "--role", "projections")
    assert done.returncode == 2
    assert f"this release needs {migrations.head()} (dvchub db upgrade)" in done.stderr
    behind = cli_result(strict, "db", "current")
    assert behind.returncode == 1
    assert "no revision" in behind.stdout

    migrations.upgrade(settings)
    with ReadModelDatabase(settings) as db:
        db.execute(f"UPDATE {migrations.VERSION_TABLE} SET version_num = 'f00d'")
    newer = cli_result(settings, "db", "current")
    assert newer.returncode == 3
    assert "at f00d, a newer release's" in newer.stdout
    assert not migrations.ensure(strict).known  # used as it is, with a warning
    refused = cli_result(settings, "db", "upgrade")
    assert refused.returncode == 2
    assert "cannot be upgraded here" in refused.stderr
