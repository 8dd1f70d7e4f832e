"""The seals' and checkpoints' tables, and reading them.

A seal is one stored event's RFC 9162 leaf hash (of its canonical bytes,
:mod:`hub.audit.canonical`) and its dossier's chain hash ``SHA-256(previous chain || leaf)``,
with its leaf index, log position, dossier and version; :mod:`hub.audit.sealer` appends them
in log order. A checkpoint row keeps a signed checkpoint and the Merkle frontier it was
computed from, so the next root costs only the leaves added since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
import psycopg
from psycopg import sql

from hub.adapters.sql import ReadModelDatabase
from hub.audit import heads

SEALS = "audit_seals"
CHECKPOINTS = "audit_checkpoints"


def create_statements(db: ReadModelDatabase) -> list[str]:
    binary = "BYTEA" if db.postgres else "BLOB"
    return [
        f"CREATE TABLE IF NOT EXISTS {SEALS} (leaf_index BIGINT PRIMARY KEY, "
        "position BIGINT NOT NULL UNIQUE, originator_id TEXT NOT NULL, "
        f"version INTEGER NOT NULL, dossier_code TEXT NOT NULL, leaf_hash {binary} NOT NULL, "
        f"chain_hash {binary} NOT NULL, slow_canonical INTEGER NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {SEALS}_dossier ON {SEALS} (originator_id, version)",
        f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (tree_size BIGINT PRIMARY KEY, "
        "root_hash TEXT NOT NULL, signed_at TEXT NOT NULL, note TEXT NOT NULL, "
        "frontier TEXT NOT NULL)",
        *heads.create_statements(db),
    ]


def prepare(db: ReadModelDatabase) -> None:
    db.create(create_statements(db))
    # Seals made before the map of heads was kept: its heads come from them, once.
    with db.transaction():
        if not db.query(f"SELECT 1 FROM {heads.HEADS} LIMIT 1") and db.query(
            f"SELECT 1 FROM {SEALS} LIMIT 1"
        ):
            db.execute(
                f"INSERT INTO {heads.HEADS} (dossier_code, originator_id, version, leaf_index, "
                f"chain_hash) SELECT s.dossier_code, s.originator_id, s.version, s.leaf_index, "
                f"s.chain_hash FROM {SEALS} s JOIN (SELECT originator_id, MAX(version) AS v "
                f"FROM {SEALS} GROUP BY originator_id) m ON s.originator_id = m.originator_id "
                "AND s.version = m.v"
            )


@dataclass(frozen=True, slots=True)
class Seal:
    leaf_index: int
    position: int
    originator_id: str
    version: int
    dossier_code: str
    leaf_hash: bytes
    chain_hash: bytes
    slow: bool = False


def seals(db: ReadModelDatabase, shard: tuple[int, int] | None = None) -> list[Seal]:
    """Every seal in leaf order; with ``shard=(k, n)`` (PostgreSQL) only those of the
    dossiers whose id's last byte is ``k`` modulo ``n``, as :func:`scan_postgres` reads, in
    no particular order and with a binary COPY."""
    columns = (
        "leaf_index, position, originator_id, version, dossier_code, leaf_hash, chain_hash, "
        "slow_canonical"
    )
    if shard is None:
        return [
            _seal(row) for row in db.query(f"SELECT {columns} FROM {SEALS} ORDER BY leaf_index")
        ]
    k, n = shard
    query = sql.SQL(
        "COPY (SELECT {columns} FROM {table} "
        "WHERE mod(('x' || right(originator_id, 2))::bit(8)::int, {n}) = {k}) "
        "TO STDOUT (FORMAT BINARY)"
    ).format(
        columns=sql.SQL(columns),
        table=sql.Identifier(db.settings.database_schema, SEALS),
        n=sql.Literal(n),
        k=sql.Literal(k),
    )
    with (
        psycopg.connect(str(db.settings.database_url)) as connection,
        connection.cursor() as cursor,
        cursor.copy(query) as copy,
    ):
        copy.set_types(["int8", "int8", "text", "int4", "text", "bytea", "bytea", "int4"])
        return [
            Seal(i, p, o, v, c, bytes(lh), bytes(ch), bool(slow))
            for i, p, o, v, c, lh, ch, slow in copy.rows()
        ]


def _seal(row: tuple[Any, ...]) -> Seal:
    i, p, o, v, c, lh, ch, slow = row
    return Seal(int(i), int(p), o, int(v), c, bytes(lh), bytes(ch), bool(slow))


def last_sealed_position(db: ReadModelDatabase) -> int:
    (position,) = db.query(f"SELECT COALESCE(MAX(position), 0) FROM {SEALS}")[0]
    return int(position)


def dossier_seals(db: ReadModelDatabase, originator_id: UUID) -> list[Seal]:
    rows = db.query(
        f"SELECT leaf_index, position, originator_id, version, dossier_code, leaf_hash, "
        f"chain_hash, slow_canonical FROM {SEALS} WHERE originator_id = ? ORDER BY version",
        (str(originator_id),),
    )
    return [_seal(row) for row in rows]


def leaf_hashes(db: ReadModelDatabase, upto: int | None = None) -> list[bytes]:
    """The sealed leaf hashes in leaf order (the first ``upto`` of them)."""
    query = f"SELECT leaf_hash FROM {SEALS}"
    params: tuple[int, ...] = ()
    if upto is not None:
        query += " WHERE leaf_index < ?"
        params = (upto,)
    return [bytes(h) for (h,) in db.query(query + " ORDER BY leaf_index", params)]


def sealed_size(db: ReadModelDatabase) -> int:
    """The size of the sealed log: one past the last leaf index (seals missing in the middle
    leave it as it was; :func:`missing_leaves` finds them)."""
    (last,) = db.query(f"SELECT MAX(leaf_index) FROM {SEALS}")[0]
    return 0 if last is None else int(last) + 1


def missing_leaves(db: ReadModelDatabase, upto: int | None = None) -> list[tuple[int, int]]:
    """Runs of leaf indexes with no seal below ``upto`` (default: the sealed size), as
    (first, last) pairs: a seal row removed from the middle of the log."""
    query = f"SELECT leaf_index FROM {SEALS}"
    params: tuple[int, ...] = ()
    if upto is not None:
        query += " WHERE leaf_index < ?"
        params = (upto,)
    gaps: list[tuple[int, int]] = []
    expected = 0
    for (index,) in db.query(query + " ORDER BY leaf_index", params):
        if index > expected:
            gaps.append((expected, index - 1))
        expected = index + 1
    if upto is not None and expected < upto:
        gaps.append((expected, upto - 1))
    return gaps


def head_rows(db: ReadModelDatabase, below: int) -> list[tuple[str, str, int, int, bytes]]:
    """(dossier code, originator, version, leaf index, chain hash) of each dossier's latest
    seal below leaf ``below``: what the map of heads is recomputed from."""
    if db.postgres:  # each dossier's latest seal, found by the (dossier, version) index
        query = (
            f"SELECT DISTINCT ON (originator_id) dossier_code, originator_id, version, "
            f"leaf_index, chain_hash FROM {SEALS} WHERE leaf_index < ? "
            "ORDER BY originator_id, version DESC"
        )
    else:  # SQLite gives a MAX() query's other columns from the row of the maximum
        query = (
            f"SELECT dossier_code, originator_id, MAX(version), leaf_index, chain_hash FROM "
            f"{SEALS} WHERE leaf_index < ? GROUP BY originator_id"
        )
    return [
        (str(code), str(originator), int(version), int(index), bytes(chain))
        for code, originator, version, index, chain in db.query(query, (below,))
    ]


class SealGapError(RuntimeError):
    """Seals are missing from the middle of the log: no root can be computed over it."""


@dataclass(frozen=True)
class CheckpointRow:
    size: int
    root: bytes
    signed_at: datetime
    note: str
    frontier: list[bytes]


def checkpoints(db: ReadModelDatabase) -> list[CheckpointRow]:
    rows = db.query(
        f"SELECT tree_size, root_hash, signed_at, note, frontier FROM {CHECKPOINTS} "
        "ORDER BY tree_size"
    )
    return [
        CheckpointRow(
            int(size),
            bytes.fromhex(root),
            datetime.fromisoformat(at),
            note,
            [bytes.fromhex(h) for h in orjson.loads(frontier)],
        )
        for size, root, at, note, frontier in rows
    ]
