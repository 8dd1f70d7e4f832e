"""Where read models (the projections') and the connectors' tables live: the store's
PostgreSQL database, or a SQLite file when embedded.

A thin adapter: SQL is written once with ``?`` placeholders and runs on both. PostgreSQL
tables sit in the store's schema beside its own; SQLite ones in
``<data_dir>/projections.sqlite3``.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Literal, Self

import stamina

from hub.settings import HubSettings

if TYPE_CHECKING:
    import psycopg

Dialect = Literal["postgres", "sqlite"]


def database_down() -> tuple[type[BaseException], ...]:
    """The errors of a database that went away or is locked, after which the same work can
    be tried again: SQLite's, and PostgreSQL's once psycopg is loaded (a hub on SQLite never
    loads it, and then none of its errors can be raised)."""
    errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)
    pg = sys.modules.get("psycopg")
    if pg is not None:
        errors += (pg.OperationalError, pg.InterfaceError)
    return errors


def database_errors() -> tuple[type[BaseException], ...]:
    """Every error a database raises: SQLite's operational errors, and any of psycopg's
    once it is loaded."""
    errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,)
    pg = sys.modules.get("psycopg")
    if pg is not None:
        errors += (pg.Error,)
    return errors


class ReadModelDatabase:
    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.dialect: Dialect = "postgres" if settings.uses_postgres else "sqlite"
        self._pg: psycopg.Connection[tuple[Any, ...]] | None = None
        self._lite: sqlite3.Connection | None = None
        self._lock_files: list[IO[str]] = []
        self.connect()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgres"

    def connect(self) -> None:
        """(Re)open the connection, e.g. after the database restarted."""
        self.close()
        if self.postgres:
            import psycopg

            self._pg = psycopg.connect(
                str(self.settings.database_url),
                autocommit=True,
                options=f"-c search_path={self.settings.database_schema}",
            )
        else:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            path = self.settings.data_dir / "projections.sqlite3"
            # One owner at a time (a worker, or one server thread), possibly not its creator.
            self._lite = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            _write_ahead(self._lite)
            self._lite.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        for handle in self._lock_files:
            handle.close()
        self._lock_files.clear()
        if self._pg is not None:
            self._pg.close()
            self._pg = None
        if self._lite is not None:
            self._lite.close()
            self._lite = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; on SQLite it takes the write lock at once (BEGIN IMMEDIATE)."""
        if self._pg is not None:
            with self._pg.transaction():
                yield
            return
        assert self._lite is not None
        self._lite.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._lite.execute("ROLLBACK")
            raise
        self._lite.execute("COMMIT")

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: undo only what the block did if it raises."""
        if self._pg is not None:
            with self._pg.transaction():
                yield
            return
        assert self._lite is not None
        self._lite.execute("SAVEPOINT block")
        try:
            yield
        except BaseException:
            self._lite.execute("ROLLBACK TO SAVEPOINT block")
            self._lite.execute("RELEASE SAVEPOINT block")
            raise
        self._lite.execute("RELEASE SAVEPOINT block")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._pg is not None:
            self._pg.execute(self._sql(sql), params)
        else:
            assert self._lite is not None
            self._lite.execute(sql, params)

    def execute_script(self, statements: Iterable[str]) -> None:
        for statement in statements:
            self.execute(statement)

    def create(self, statements: list[str]) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements in one transaction. Several processes
        starting at once can still collide in PostgreSQL's catalogue (a unique violation on
        pg_type, or "already exists"); the next attempt finds the tables."""
        if not self.postgres:
            with self.transaction():
                self.execute_script(statements)
            return
        import psycopg

        for attempt in stamina.retry_context(
            on=(
                psycopg.errors.UniqueViolation,
                psycopg.errors.DuplicateObject,
                psycopg.errors.DuplicateTable,
            ),
            attempts=5,
            wait_initial=0.05,
        ):
            with attempt, self.transaction():
                self.execute_script(statements)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self._pg is not None:
            with self._pg.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
        else:
            assert self._lite is not None
            self._lite.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._pg is not None:
            return self._pg.execute(self._sql(sql), params).fetchall()
        assert self._lite is not None
        return self._lite.execute(sql, params).fetchall()

    def copy_in(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        types: Sequence[str] | None = None,
    ) -> None:
        """Bulk-load rows into a table (PostgreSQL COPY; SQLite one multi-row insert).

        With the columns' PostgreSQL ``types`` the COPY is binary: about three times the
        rate of text, as neither side formats or parses the values as text.
        """
        if self._pg is not None:
            binary = " (FORMAT BINARY)" if types is not None else ""
            with (
                self._pg.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{binary}") as copy,
            ):
                if types is not None:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def day(self, value: date) -> Any:
        """A date as a query parameter (SQLite keeps dates as ISO text)."""
        return value if self.postgres else value.isoformat()

    @staticmethod
    def as_date(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(value)

    def try_lock(self, name: str) -> bool:
        """Take the named lock for as long as this connection lives, if no one holds it
        (PostgreSQL: a session advisory lock; SQLite: an exclusive lock on a file). The lock
        is the hub's own: a hub in another schema of the same server takes its namesake."""
        if self._pg is not None:
            scoped = f"{self.settings.database_schema}:{name}".encode()
            key = int.from_bytes(hashlib.sha256(scoped).digest()[:8], "big", signed=True)
            row = self._pg.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            return bool(row and row[0])
        handle = (self.settings.data_dir / f"{name}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_files.append(handle)
        return True

    def table_exists(self, name: str) -> bool:
        if self.postgres:
            sql = (
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
            )
            return bool(self.query(sql, (self.settings.database_schema, name)))
        return bool(
            self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,))
        )

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")


def _write_ahead(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode. Processes opening a new file at once can find it locked
    while another switches it (SQLite does not wait on its busy timeout for this): try
    again for a while. Once the file is in WAL mode, the switch is a no-op."""
    for attempt in stamina.retry_context(
        on=sqlite3.OperationalError, attempts=20, wait_initial=0.05, wait_max=1.0, timeout=30
    ):
        with attempt:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if str(mode).lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
