"""The history of the hub's own tables (read models, connector, seals, personal data keys)
and the way to bring a database to this release: Alembic revisions under ``versions/``,
run on the hub's own database (PostgreSQL schema, or ``projections.sqlite3`` embedded).

The event store's tables are the eventsourcing library's and are not here.

A database made before the first revision (by a release that made its tables with
``CREATE TABLE IF NOT EXISTS``) is taken up by the first revision unchanged. Two processes
upgrading at once take turns (an advisory lock on PostgreSQL, a file lock on SQLite); the
second finds the work done.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from hub.settings import HubSettings

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection

logger = structlog.get_logger("hub.migrations")

VERSION_TABLE = "dvchub_schema_version"
SCRIPTS = Path(__file__).parent
_LOCK_KEY = 0x64766368756200  # pg_advisory_xact_lock key of upgrades ("dvchub")


class SchemaBehind(RuntimeError):
    """The database is older than this release and was not to be upgraded here."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: no revision recorded (empty, or made by the first release)
    head: str
    known: bool  # whether this release knows ``current`` (a newer release's is unknown)

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def behind(self) -> bool:
        return not self.up_to_date and self.known

    def describe(self) -> str:
        at = self.current or "no revision"
        if self.up_to_date:
            return f"at {at}, this release's"
        if self.behind:
            return f"at {at}; this release needs {self.head} (dvchub db upgrade)"
        return f"at {at}, a newer release's (this one knows up to {self.head})"


def _scripts() -> tuple[Config, ScriptDirectory]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config, ScriptDirectory.from_config(config)


def head() -> str:
    _, scripts = _scripts()
    found = scripts.get_current_head()
    assert found is not None
    return str(found)


def history() -> list[tuple[str, str]]:
    """Every revision, oldest first: (id, first line of its description)."""
    _, scripts = _scripts()
    return [
        (str(r.revision), (r.doc or "").strip().splitlines()[0] if r.doc else "")
        for r in reversed(list(scripts.walk_revisions()))
    ]


@contextmanager
def _connection(settings: HubSettings, lock: bool) -> Iterator[Connection]:
    """A SQLAlchemy connection to the hub's database, in a transaction committed at the end;
    with ``lock``, upgrades elsewhere wait for it."""
    import sqlalchemy

    if settings.uses_postgres:
        url = sqlalchemy.make_url(str(settings.database_url)).set(drivername="postgresql+psycopg")
        schema = settings.database_schema
        engine = sqlalchemy.create_engine(
            url, poolclass=sqlalchemy.NullPool, connect_args={"options": f"-c search_path={schema}"}
        )
        try:
            with engine.begin() as connection:
                if lock:  # an upgrade: others wait, and a new deployment's schema is made
                    connection.execute(
                        sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                    )
                    connection.execute(sqlalchemy.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                yield connection
        finally:
            engine.dispose()
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "projections.sqlite3"
    engine = sqlalchemy.create_engine(f"sqlite:///{path}", poolclass=sqlalchemy.NullPool)
    try:
        with (settings.data_dir / ".migrations.lock").open("a") as held:
            if lock:
                fcntl.flock(held, fcntl.LOCK_EX)
            with engine.begin() as connection:
                yield connection
    finally:
        engine.dispose()


def state(settings: HubSettings) -> SchemaState:
    """Where the database stands against this release."""
    from alembic.runtime.migration import MigrationContext

    _, scripts = _scripts()
    with _connection(settings, lock=False) as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        current = context.get_current_revision()
    known = current is None or current in {r.revision for r in scripts.walk_revisions()}
    return SchemaState(current, head(), known)


def upgrade(settings: HubSettings, target: str = "head") -> SchemaState:
    """Bring the database to ``target`` (this release's head by default); what it was at
    before. Nothing is done to a database already there."""
    from alembic import command

    before = state(settings)
    if not before.known:
        raise SchemaBehind(f"the database is {before.describe()}: it cannot be upgraded here")
    config, _ = _scripts()
    with _connection(settings, lock=True) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)
    after = state(settings)
    if after.current != before.current:
        logger.info("db.upgraded", before=before.current, after=after.current)
    return before


def ensure(settings: HubSettings) -> SchemaState:
    """At a process's start: the database at this release's revision, upgraded if behind
    and ``db_auto_upgrade`` allows it, else :class:`SchemaBehind`. A newer release's
    database is used as it is (a release's revisions only add, see docs/operations.md)."""
    found = state(settings)
    if found.up_to_date:
        return found
    if not found.known:
        logger.warning("db.newer_release", current=found.current, head=found.head)
        return found
    if not settings.db_auto_upgrade:
        raise SchemaBehind(f"the database is {found.describe()}")
    upgrade(settings)
    return state(settings)
