"""The connector's tables: its checkpoints, what it knows of each dossier, and the outbox of
updates to deliver, in the read-model database.

An update is written to the outbox in the same transaction as the checkpoint of the event it
comes from, so an event is enqueued once whatever crashes. Each dossier's updates go out in
position order; the head of a dossier's queue is its first update not yet sent. A head that is
*parked* (refused for good) blocks that dossier's later updates, and only those.

Statuses: ``pending`` (to send), ``in_flight`` (being sent: after a crash or an unanswered call
the portal is asked what it has before sending again), ``sent``, ``parked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Checkpoint

CHECKPOINTS = "dvcqg_checkpoints"
DOSSIERS = "dvcqg_dossiers"
OUTBOX = "dvcqg_outbox"


def create(db: ReadModelDatabase) -> None:
    day = "DATE" if db.postgres else "TEXT"
    db.create(
        [
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (source TEXT NOT NULL, "
            "part INTEGER NOT NULL, position BIGINT NOT NULL, kafka_offset BIGINT, "
            "PRIMARY KEY (source, part))",
            f"CREATE TABLE IF NOT EXISTS {DOSSIERS} (dossier_code TEXT PRIMARY KEY, "
            f"unit_code TEXT NOT NULL, received_day {day}, state TEXT NOT NULL, "
            "integrated INTEGER NOT NULL DEFAULT 0, on_portal INTEGER NOT NULL DEFAULT 0, "
            "last_synced_position BIGINT, last_synced_at TEXT)",
            f"CREATE TABLE IF NOT EXISTS {OUTBOX} (dossier_code TEXT NOT NULL, "
            "position BIGINT NOT NULL, event_type TEXT NOT NULL, unit_code TEXT NOT NULL, "
            f"day {day} NOT NULL, recorded_at TEXT, enqueued_at TEXT NOT NULL, "
            "dossier TEXT NOT NULL, "
            "step TEXT, status TEXT NOT NULL DEFAULT 'pending', "
            "attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, answer TEXT, "
            "in_flight_at TEXT, sent_at TEXT, PRIMARY KEY (dossier_code, position))",
            f"CREATE INDEX IF NOT EXISTS {OUTBOX}_open ON {OUTBOX} (status, dossier_code, "
            "position)",
            # The sender's heads, in order, without reading what was sent.
            f"CREATE INDEX IF NOT EXISTS {OUTBOX}_unsent ON {OUTBOX} (position) "
            "WHERE status <> 'sent'",
        ]
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# --- intake -------------------------------------------------------------------------------


def checkpoints(db: ReadModelDatabase, source: str) -> dict[int, Checkpoint]:
    rows = db.query(
        f"SELECT part, position, kafka_offset FROM {CHECKPOINTS} WHERE source = ?", (source,)
    )
    return {
        int(p): Checkpoint(int(p), int(pos), None if off is None else int(off))
        for p, pos, off in rows
    }


def advance(db: ReadModelDatabase, source: str, part: int, position: int, offset: int) -> None:
    db.execute(
        f"INSERT INTO {CHECKPOINTS} (source, part, position, kafka_offset) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (source, part) DO UPDATE SET position = excluded.position, "
        "kafka_offset = excluded.kafka_offset",
        (source, part, position, offset),
    )


def load_states(db: ReadModelDatabase, codes: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(codes), 5_000):
        chunk = codes[start : start + 5_000]
        marks = ", ".join("?" * len(chunk))
        for code, state in db.query(
            f"SELECT dossier_code, state FROM {DOSSIERS} WHERE dossier_code IN ({marks})", chunk
        ):
            found[code] = orjson.loads(state)
    return found


def save_states(
    db: ReadModelDatabase, states: dict[str, tuple[str, date | None, dict[str, Any], bool]]
) -> None:
    """Upsert (unit, received day, state, integrated) of each dossier code."""
    db.executemany(
        f"INSERT INTO {DOSSIERS} (dossier_code, unit_code, received_day, state, integrated) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dossier_code) DO UPDATE SET "
        "received_day = excluded.received_day, state = excluded.state, "
        "integrated = excluded.integrated",
        [
            (code, unit, None if day is None else db.day(day), orjson.dumps(state).decode(), int(i))
            for code, (unit, day, state, i) in sorted(states.items())
        ],
    )


@dataclass(frozen=True)
class Update:
    dossier_code: str
    position: int
    event_type: str
    unit_code: str
    day: date
    recorded_at: str | None  # when the hub accepted the event
    dossier: dict[str, Any]
    step: dict[str, Any] | None


def enqueue(db: ReadModelDatabase, updates: list[Update]) -> None:
    stamp = now()
    db.executemany(
        f"INSERT INTO {OUTBOX} (dossier_code, position, event_type, unit_code, day, "
        "recorded_at, enqueued_at, dossier, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dossier_code, position) DO NOTHING",
        [
            (
                u.dossier_code,
                u.position,
                u.event_type,
                u.unit_code,
                db.day(u.day),
                u.recorded_at,
                stamp,
                orjson.dumps(u.dossier).decode(),
                None if u.step is None else orjson.dumps(u.step).decode(),
            )
            for u in updates
        ],
    )


# --- delivery -----------------------------------------------------------------------------


@dataclass
class Head:
    """The first update of a dossier not yet sent."""

    dossier_code: str
    position: int
    status: str
    attempts: int
    dossier: dict[str, Any]
    step: dict[str, Any] | None
    on_portal: int  # 1 there, -1 not there, 0 unknown


def heads(
    db: ReadModelDatabase,
    limit: int,
    settle_seconds: float = 0.0,
    sole_sync_since: date | None = None,
) -> list[Head]:
    """The head of up to ``limit`` dossiers. A head left ``in_flight`` is taken only once
    ``settle_seconds`` have passed since it was sent: a call the sender gave up on may still
    be on its way to the portal, and checking before it lands would send it twice.

    ``sole_sync_since``: from that day on no other system syncs the province's dossiers, so
    one received since then that was never sent is known not to be on the portal (-1)."""
    settled = (datetime.now(UTC) - timedelta(seconds=settle_seconds)).isoformat(
        timespec="milliseconds"
    )
    on_portal = "COALESCE(d.on_portal, 0)"
    params: tuple[Any, ...] = (settled, limit)
    if sole_sync_since is not None:
        on_portal = (
            f"CASE WHEN {on_portal} = 0 AND d.received_day >= ? THEN -1 ELSE {on_portal} END"
        )
        params = (db.day(sole_sync_since), *params)
    rows = db.query(
        f"SELECT o.dossier_code, o.position, o.status, o.attempts, o.dossier, o.step, "
        f"{on_portal} FROM {OUTBOX} o "
        f"LEFT JOIN {DOSSIERS} d ON d.dossier_code = o.dossier_code "
        # Walks the unsent updates in position order (the partial index) until it has found
        # enough heads: those with no earlier unsent update of their dossier (the key). Not
        # an OR of statuses: SQLite would read every pending update through the status index
        # and sort them, each round.
        "WHERE o.status <> 'sent' AND o.status <> 'parked' "
        "AND (o.status = 'pending' OR o.in_flight_at <= ?) "
        f"AND NOT EXISTS (SELECT 1 FROM {OUTBOX} e WHERE e.dossier_code = o.dossier_code "
        "AND e.position < o.position AND e.status <> 'sent') "
        "ORDER BY o.position LIMIT ?",
        params,
    )
    return [_head(row[:6], int(row[6])) for row in rows]


def _head(row: tuple[Any, ...], on_portal: int) -> Head:
    code, position, status, attempts, dossier, step = row
    return Head(
        code,
        int(position),
        status,
        int(attempts),
        orjson.loads(dossier),
        None if step is None else orjson.loads(step),
        on_portal,
    )


def runs(
    db: ReadModelDatabase,
    dossiers: int,
    settle_seconds: float = 0.0,
    per_dossier: int = 50,
    sole_sync_since: date | None = None,
) -> list[list[Head]]:
    """For up to ``dossiers`` dossiers whose head can be sent, the head and the updates after
    it, in order, up to ``per_dossier`` and never past a parked one (``heads``)."""
    first = heads(db, dossiers, settle_seconds, sole_sync_since)
    if not first:
        return []
    by_code = {head.dossier_code: [head] for head in first}
    codes = list(by_code)
    for start in range(0, len(codes), 1_000):
        chunk = codes[start : start + 1_000]
        marks = ", ".join("?" * len(chunk))
        rows = db.query(
            f"SELECT dossier_code, position, status, attempts, dossier, step FROM {OUTBOX} "
            f"WHERE dossier_code IN ({marks}) AND status <> 'sent' "
            "ORDER BY dossier_code, position",
            chunk,
        )
        stopped: set[str] = set()
        for row in rows:
            code, position, status = row[0], int(row[1]), row[2]
            run = by_code[code]
            if code in stopped or position <= run[0].position:
                continue
            if status == "parked" or len(run) >= per_dossier:
                stopped.add(code)
                continue
            run.append(_head(row, run[0].on_portal))
    return [by_code[head.dossier_code] for head in first]


def back_to_pending(db: ReadModelDatabase, entries: list[Head]) -> None:
    if entries:
        with db.transaction():
            db.executemany(
                f"UPDATE {OUTBOX} SET status = 'pending' WHERE dossier_code = ? AND position = ?",
                [(h.dossier_code, h.position) for h in entries],
            )


def mark_in_flight(db: ReadModelDatabase, batch: list[Head], *, again: bool = False) -> None:
    """The updates are being sent, from now. ``again``: only those still ``in_flight`` get the
    new time; done just before their steps go out and when a call about them goes unanswered,
    so that settling counts from the last moment the portal may have received them."""
    where, stamp = (" AND status = 'in_flight'" if again else ""), now()
    with db.transaction():
        db.executemany(
            f"UPDATE {OUTBOX} SET status = 'in_flight', in_flight_at = ? "
            f"WHERE dossier_code = ? AND position = ?{where}",
            [(stamp, h.dossier_code, h.position) for h in batch],
        )


def mark_sent(db: ReadModelDatabase, batch: list[Head]) -> None:
    stamp = now()
    with db.transaction():
        db.executemany(
            f"UPDATE {OUTBOX} SET status = 'sent', sent_at = ?, last_error = NULL "
            "WHERE dossier_code = ? AND position = ?",
            [(stamp, h.dossier_code, h.position) for h in batch],
        )
        db.executemany(
            f"UPDATE {DOSSIERS} SET on_portal = 1, last_synced_position = ?, "
            "last_synced_at = ? WHERE dossier_code = ?",
            [(h.position, stamp, h.dossier_code) for h in batch],
        )


def set_on_portal(db: ReadModelDatabase, known: dict[str, int]) -> None:
    with db.transaction():
        db.executemany(
            f"UPDATE {DOSSIERS} SET on_portal = ? WHERE dossier_code = ?",
            [(value, code) for code, value in known.items()],
        )


def refused(
    db: ReadModelDatabase,
    head: Head,
    error: str,
    answer: str,
    budget: int,
    *,
    maybe_applied: bool = False,
) -> bool:
    """Record a refusal; park the update once the budget is spent. True if parked.
    ``maybe_applied``: the refusal was of a look-up, not of the update, so an update in
    flight stays in flight (the portal may hold it) until it is parked."""
    parked = head.attempts + 1 >= budget
    status = "parked" if parked else "pending"
    if maybe_applied and not parked and head.status == "in_flight":
        status = "in_flight"
    with db.transaction():
        db.execute(
            f"UPDATE {OUTBOX} SET status = ?, attempts = attempts + 1, last_error = ?, "
            "answer = ? WHERE dossier_code = ? AND position = ?",
            (status, error, answer, head.dossier_code, head.position),
        )
    return parked


def parked(db: ReadModelDatabase) -> list[tuple[Any, ...]]:
    """Parked updates, with how many of the dossier's updates wait behind each."""
    return db.query(
        f"SELECT p.dossier_code, p.position, p.event_type, p.unit_code, p.attempts, "
        f"p.last_error, p.answer, p.step, (SELECT COUNT(*) FROM {OUTBOX} w "
        "WHERE w.dossier_code = p.dossier_code AND w.position > p.position "
        f"AND w.status <> 'sent') FROM {OUTBOX} p WHERE p.status = 'parked' "
        "ORDER BY p.dossier_code, p.position"
    )


def retry_parked(db: ReadModelDatabase, dossier_code: str | None = None) -> int:
    """Put parked updates (of one dossier, or all) back in the queue with a fresh budget."""
    where = "status = 'parked'" + (" AND dossier_code = ?" if dossier_code else "")
    params: tuple[str, ...] = (dossier_code,) if dossier_code else ()
    with db.transaction():
        count = db.query(f"SELECT COUNT(*) FROM {OUTBOX} WHERE {where}", params)[0][0]
        db.execute(f"UPDATE {OUTBOX} SET status = 'pending', attempts = 0 WHERE {where}", params)
    return int(count)
