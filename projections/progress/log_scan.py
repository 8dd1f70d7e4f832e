"""Read the store's log fast, for rebuilds: one shard of the dossiers at a time.

eventsourcing's reader decodes every stored event into a domain event; a rebuild needs only
a few fields, so on PostgreSQL it reads the stored JSON directly (in log order, through
a binary COPY) and splits the work by dossier: shard ``k`` of ``n`` takes the dossiers
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


def scan_postgres(url: str, schema: str, shard: int, shards: int, upto: int) -> Iterator[Fact]:
    """The facts of shard ``shard`` of ``shards``, positions 1 to ``upto``, in log order.

    Read with a binary COPY of the query: about three times the rate of a server-side cursor
    on this machine, as rows arrive in a stream rather than in fetches.
    """
    query = sql.SQL(
        "COPY (SELECT notification_id, state FROM {table} WHERE notification_id <= {upto}"
        "{shard} ORDER BY notification_id) TO STDOUT (FORMAT BINARY)"
    ).format(
        table=sql.Identifier(schema, STORE_TABLE),
        upto=sql.Literal(upto),
        shard=sql.SQL(" AND get_byte(uuid_send(originator_id), 15) % {n} = {k}").format(
            n=sql.Literal(shards), k=sql.Literal(shard)
        )
        if shards > 1
        else sql.SQL(""),
    )
    with (
        psycopg.connect(url) as connection,
        connection.cursor() as cursor,
        cursor.copy(query) as copy,
    ):
        copy.set_types(["int8", "bytea"])
        for position, state in copy.rows():
            data = orjson.loads(state)
            yield fact_of(position, data["record"], data["transition"])
