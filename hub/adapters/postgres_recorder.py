"""eventsourcing's PostgreSQL application recorder, sending new events in binary format and
reading pages of the log as a binary stream.

The library inserts a batch as one array of a composite type, ``unnest(%s::stored_event[])``.
With ``%s`` psycopg dumps that array as text, escaping every byte of every event's JSON with
regular expressions: a fifth of the hub's ingest time. ``%b`` asks psycopg for its binary
dumpers of the same composite type, which copy the bytes as they are. The statement is
otherwise the library's own (including its ``RETURNING notification_id``).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Composed, Identifier, Literal


class BinaryInsertApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_events_statement = _binary_placeholders(self.insert_events_statement)

    def stored_states(self, start: int, limit: int) -> list[tuple[int, str, bytes]]:
        """``(position, topic, stored state)`` of up to ``limit`` events from ``start`` on,
        in log order: what ``select_notifications`` reads for the live readers, without the
        columns they do not use, streamed by a binary COPY rather than fetched as rows
        (the rebuild's log scan reads the same way)."""
        query = SQL(
            "COPY (SELECT notification_id, topic, state FROM {table} "
            "WHERE notification_id >= {start} ORDER BY notification_id LIMIT {limit}) "
            "TO STDOUT (FORMAT BINARY)"
        ).format(
            table=Identifier(self.datastore.schema, self.events_table_name),
            start=Literal(int(start)),
            limit=Literal(int(limit)),
        )
        with self.datastore.transaction(commit=False) as cursor, cursor.copy(query) as copy:
            copy.set_types(["int8", "text", "bytea"])
            return [(int(n), str(topic), bytes(state)) for n, topic, state in copy.rows()]


def _binary_placeholders(statement: Composed) -> Composed:
    parts = [
        SQL(part.as_string().replace("%s", "%b")) if isinstance(part, SQL) else part
        for part in statement
    ]
    replaced = Composed(parts)
    if replaced.as_string().count("%b") != 1:
        raise RuntimeError(f"unexpected insert statement: {statement.as_string()}")
    return replaced
