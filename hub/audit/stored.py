"""The store's log as stored: each event's id, version, topic and state bytes, read in log
order through eventsourcing, or by shard of the dossiers with a binary COPY on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import orjson
import psycopg
from psycopg import sql

from hub.application import DossierStore
from hub.audit.canonical import canonical_event, canonical_event_checked
from hub.settings import HubSettings
from verifier.dvchub_verify import leaf_hash

STORE_TABLE = "dossiers_events"  # the dossier store's table in PostgreSQL


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One row of the store's log, as stored."""

    position: int
    originator_id: UUID | str
    version: int
    topic: str
    state: bytes

    def leaf(self, slow: bool | None = None) -> bytes:
        """The leaf hash; ``slow`` as :func:`hub.audit.canonical.canonical_event` takes it."""
        return leaf_hash(
            canonical_event(self.originator_id, self.version, self.topic, self.state, slow)
        )

    def sealed_leaf(self) -> tuple[bytes, bool]:
        """The leaf hash as sealing makes it, and whether the canonical bytes needed the
        slow way."""
        data, slow = canonical_event_checked(
            self.originator_id, self.version, self.topic, self.state
        )
        return leaf_hash(data), slow

    def dossier_code(self) -> str:
        try:
            return str(orjson.loads(self.state)["record"]["dossier_code"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return "?"


def stored_events(store: DossierStore, start: int = 1, page: int = 5_000) -> Iterator[StoredEvent]:
    """Every stored event from position ``start`` on, as stored, in log order."""
    position = start
    while True:
        rows = store.recorder.select_notifications(start=position, limit=page)
        for row in rows:
            yield StoredEvent(
                row.id, row.originator_id, row.originator_version, row.topic, row.state
            )
        if len(rows) < page:
            return
        position = rows[-1].id + 1


def scan_postgres(settings: HubSettings, shard: tuple[int, int]) -> Iterator[StoredEvent]:
    """The stored events of shard ``(k, n)`` of the dossiers, in no particular order (a
    sequential scan, no sort), read with a binary COPY: several times the rate of
    eventsourcing's reader, which decodes every event."""
    k, n = shard
    query = sql.SQL(
        "COPY (SELECT notification_id, originator_id::text, originator_version, topic, state "
        "FROM {table} WHERE get_byte(uuid_send(originator_id), 15) % {n} = {k}) "
        "TO STDOUT (FORMAT BINARY)"
    ).format(
        table=sql.Identifier(settings.database_schema, STORE_TABLE),
        n=sql.Literal(n),
        k=sql.Literal(k),
    )
    with (
        psycopg.connect(str(settings.database_url)) as connection,
        connection.cursor() as cursor,
        cursor.copy(query) as copy,
    ):
        copy.set_types(["int8", "text", "int8", "text", "bytea"])
        for position, originator, version, topic, state in copy.rows():
            yield StoredEvent(position, originator, version, topic, bytes(state))
