"""Seals: every stored event's leaf hash and its dossier's hash chain, in log order, and the
signed checkpoints of the Merkle tree over them.

The sealer follows the store's log as the projections do. For each new event it computes
the RFC 9162 leaf hash of its canonical bytes (:mod:`hub.audit.canonical`) and the chain
hash ``SHA-256(previous chain || leaf)`` over its dossier's events, and appends a seal
(leaf index, log position, dossier, version, hashes) in the same transaction as its own
progress. At intervals it signs a checkpoint (tree size, root, time) and publishes it.
The Merkle frontier of each checkpoint is kept with it, so the next root costs only the
leaves added since.

An event stored and changed before the sealer reads it would be sealed as changed: the
sealer runs beside the ingest path and normally seals within a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import psycopg
import structlog
from psycopg import sql

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.audit.canonical import canonical_event, canonical_event_checked
from hub.audit.checkpoints import SignedCheckpoint, Signer
from hub.audit.merkle import RootAccumulator
from hub.settings import HubSettings
from verifier.dvchub_verify import CHAIN_START, chain_hash, leaf_hash

logger = structlog.get_logger("hub.audit.seals")

SEALS = "audit_seals"
STORE_TABLE = "dossiers_events"  # the dossier store's table in PostgreSQL
CHECKPOINTS = "audit_checkpoints"
_LOCK = "audit_sealer"
_HEADS_KEPT = 2_000_000  # dossiers whose chain heads the sealer keeps in memory


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
    ]


def prepare(db: ReadModelDatabase) -> None:
    db.create(create_statements(db))


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
    (count,) = db.query(f"SELECT COUNT(*) FROM {SEALS}")[0]
    return int(count)


def _chain_heads(db: ReadModelDatabase, originators: list[str]) -> dict[str, tuple[int, bytes]]:
    """Each dossier's last sealed version and chain hash."""
    heads: dict[str, tuple[int, bytes]] = {}
    for start in range(0, len(originators), 500):
        chunk = originators[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.query(
            f"SELECT s.originator_id, s.version, s.chain_hash FROM {SEALS} s JOIN "
            f"(SELECT originator_id, MAX(version) AS v FROM {SEALS} WHERE originator_id IN "
            f"({marks}) GROUP BY originator_id) m ON s.originator_id = m.originator_id "
            "AND s.version = m.v",
            chunk,
        )
        for originator, version, chain in rows:
            heads[originator] = (int(version), bytes(chain))
    return heads


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


class SealerBusyError(RuntimeError):
    """Another process is the store's sealer."""


class Sealer:
    """Seals new events and signs checkpoints; one at a time per store (a named lock)."""

    def __init__(
        self,
        db: ReadModelDatabase,
        store: DossierStore,
        signer: Signer,
        publish: Callable[[SignedCheckpoint], None] | None = None,
        page: int = 5_000,
    ) -> None:
        self.db, self.store, self.signer, self.page = db, store, signer, page
        self.publish = publish
        self._heads: dict[str, tuple[int, bytes]] = {}  # dossier -> last sealed version, chain
        self._size, self._last = -1, 0  # sealed count and last position; -1: read them
        prepare(db)

    def run_once(self) -> SignedCheckpoint | None:
        """Seal what is new and sign a checkpoint of it: ``dvchub audit seal``. Raises
        :class:`SealerBusyError` while another sealer holds the store."""
        if not self.lock():
            raise SealerBusyError("another sealer is running (dvchub serve or projections run)")
        self.seal()
        return self.checkpoint()

    def seal(self) -> int:
        """Seal every event stored since the last seal; how many were sealed. Only one
        sealer may run against a store at a time (:meth:`lock`)."""
        total = 0
        while True:
            with self.db.transaction():
                size, last = self._tail()
                rows = self.store.recorder.select_notifications(start=last + 1, limit=self.page)
                if not rows:
                    return total
                originators = {str(r.originator_id) for r in rows}
                missing = sorted(o for o in originators if o not in self._heads)
                heads = {**_chain_heads(self.db, missing)} if missing else {}
                out = []
                for index, row in enumerate(rows, start=size):
                    event = StoredEvent(
                        row.id, row.originator_id, row.originator_version, row.topic, row.state
                    )
                    leaf, slow = event.sealed_leaf()
                    key = str(row.originator_id)
                    version, previous = heads.get(key) or self._heads.get(key, (0, CHAIN_START))
                    if event.version != version + 1:
                        logger.warning(
                            "audit.seal_version_gap",
                            dossier_code=event.dossier_code(),
                            version=event.version,
                            after=version,
                        )
                    chain = chain_hash(previous, leaf)
                    heads[key] = (event.version, chain)
                    out.append(
                        (
                            index,
                            row.id,
                            key,
                            event.version,
                            event.dossier_code(),
                            leaf,
                            chain,
                            int(slow),
                        )
                    )
                self.db.copy_in(
                    SEALS,
                    (
                        "leaf_index",
                        "position",
                        "originator_id",
                        "version",
                        "dossier_code",
                        "leaf_hash",
                        "chain_hash",
                        "slow_canonical",
                    ),
                    out,
                )
            # Committed: only now do the dossiers' new chain heads count.
            if len(self._heads) > _HEADS_KEPT:
                self._heads.clear()
            self._heads.update(heads)
            self._size, self._last = size + len(rows), rows[-1].id
            total += len(rows)
            if len(rows) < self.page:
                return total

    def _tail(self) -> tuple[int, int]:
        """How many events are sealed, and the position of the last."""
        if self._size < 0:
            (count, position) = self.db.query(
                f"SELECT COUNT(*), COALESCE(MAX(position), 0) FROM {SEALS}"
            )[0]
            self._size, self._last = int(count), int(position)
        return self._size, self._last

    def lock(self) -> bool:
        """Become the store's one sealer, for as long as this connection lives; forget what
        was cached, as another sealer may have sealed meanwhile."""
        if not self.db.try_lock(f"{_LOCK}:{self.db.settings.database_schema}"):
            return False
        self.forget()
        return True

    def forget(self) -> None:
        self._heads.clear()
        self._size, self._last = -1, 0

    def checkpoint(self, at: datetime | None = None) -> SignedCheckpoint | None:
        """Sign a checkpoint of everything sealed, if the log grew since the last one."""
        with self.db.transaction():
            last = self.db.query(
                f"SELECT tree_size, frontier FROM {CHECKPOINTS} ORDER BY tree_size DESC LIMIT 1"
            )
            size, frontier = (int(last[0][0]), orjson.loads(last[0][1])) if last else (0, [])
            accumulator = RootAccumulator.resume(size, [bytes.fromhex(h) for h in frontier])
            fresh = self.db.query(
                f"SELECT leaf_hash FROM {SEALS} WHERE leaf_index >= ? ORDER BY leaf_index",
                (size,),
            )
            if not fresh and last:
                return None
            for (leaf,) in fresh:
                accumulator.append(bytes(leaf))
            signed = self.signer.sign(accumulator.size, accumulator.root(), at or datetime.now(UTC))
            self.db.execute(
                f"INSERT INTO {CHECKPOINTS} (tree_size, root_hash, signed_at, note, frontier) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    signed.size,
                    signed.root.hex(),
                    signed.signed_at.isoformat(),
                    signed.note,
                    orjson.dumps([h.hex() for h in accumulator.frontier]).decode(),
                ),
            )
        logger.info("audit.checkpoint", tree_size=signed.size, root=signed.root.hex())
        if self.publish is not None:
            self.publish(signed)
        return signed
