"""The store's table reached around the hub, as someone with write access would: for tests
of what the hub does with rows it did not write."""

from __future__ import annotations

import sqlite3
from typing import Any
from uuid import UUID

import psycopg

from hub.bootstrap import Hub


class RawStore:
    """The store's table, reached around the hub as someone with write access would."""

    def __init__(self, hub: Hub) -> None:
        settings = hub.settings
        self.postgres = settings.uses_postgres
        if self.postgres:
            self.pg = psycopg.connect(
                str(settings.database_url),
                autocommit=True,
                options=f"-c search_path={settings.database_schema}",
            )
            self.table, self.position = "dossiers_events", "notification_id"
        else:
            self.lite = sqlite3.connect(settings.data_dir / "events.sqlite3", isolation_level=None)
            self.table, self.position = "stored_events", "rowid"

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres:
            cursor = self.pg.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []
        return self.lite.execute(sql, params).fetchall()

    def key(self, originator_id: str) -> Any:
        """An aggregate id as the table keeps it (eventsourcing's SQLite: 32 hex digits)."""
        return UUID(originator_id) if self.postgres else UUID(originator_id).hex

    def rows(self) -> list[tuple[int, str, int, bytes]]:
        return [
            (int(p), str(UUID(str(o))), int(v), bytes(s))
            for p, o, v, s in self.run(
                f"SELECT {self.position}, originator_id, originator_version, state "
                f"FROM {self.table} ORDER BY {self.position}"
            )
        ]

    def set_state(self, originator_id: str, version: int, state: bytes) -> None:
        self.run(
            f"UPDATE {self.table} SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, self.key(originator_id), version),
        )

    def delete(self, originator_id: str, version: int) -> None:
        self.run(
            f"DELETE FROM {self.table} WHERE originator_id = ? AND originator_version = ?",
            (self.key(originator_id), version),
        )

    def shift_after(self, position: int, by: int) -> None:
        """Renumber every event after ``position`` (as making room for an insertion does)."""
        far = 10_000_000
        self.run(
            f"UPDATE {self.table} SET {self.position} = {self.position} + ? "
            f"WHERE {self.position} > ?",
            (far, position),
        )
        self.run(
            f"UPDATE {self.table} SET {self.position} = {self.position} - ? "
            f"WHERE {self.position} > ?",
            (far - by, far),
        )

    def insert(self, position: int, originator_id: str, version: int, state: bytes) -> None:
        self.run(
            f"INSERT INTO {self.table} ({self.position}, originator_id, originator_version, "
            "topic, state) VALUES (?, ?, ?, ?, ?)",
            (
                position,
                self.key(originator_id),
                version,
                "hub.domain.dossier:Dossier.Recorded",
                state,
            ),
        )

    def close(self) -> None:
        if self.postgres:
            self.pg.close()
        else:
            self.lite.close()
