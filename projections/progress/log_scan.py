"""Read the store's log fast, for rebuilds: one shard of the dossiers at a time.

eventsourcing's reader decodes every stored event into a domain event; a rebuild needs only
a few fields, so on PostgreSQL it reads the stored JSON directly (in log order, through a
server-side cursor) and splits the work by dossier: shard ``k`` of ``n`` takes the dossiers
whose aggregate id ends in a byte equal to ``k`` modulo ``n``. Each dossier's events stay
in order within its shard, which is all the fold needs.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import psycopg
from psycopg import sql

from projections.progress.facts import Fact, fact_of

STORE_TABLE = "dossiers_events"


def scan_postgres(
    url: str, schema: str, shard: int, shards: int, upto: int, itersize: int = 20_000
) -> Iterator[Fact]:
    """The facts of shard ``shard`` of ``shards``, positions 1 to ``upto``, in log order."""
    query = sql.SQL(
        "SELECT notification_id, state FROM {table} WHERE notification_id <= %s{shard} "
        "ORDER BY notification_id"
    ).format(
        table=sql.Identifier(schema, STORE_TABLE),
        shard=sql.SQL(" AND get_byte(uuid_send(originator_id), 15) %% %s = %s")
        if shards > 1
        else sql.SQL(""),
    )
    params: tuple[int, ...] = (upto, shards, shard) if shards > 1 else (upto,)
    with (
        psycopg.connect(url) as connection,
        connection.cursor(name=f"rebuild_{shard}", binary=True) as cursor,
    ):
        cursor.itersize = itersize
        cursor.execute(query, params)
        for position, state in cursor:
            data = orjson.loads(state)
            yield fact_of(position, data["record"], data["transition"])
