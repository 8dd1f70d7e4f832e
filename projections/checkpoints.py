"""Where each projection has got to, written in the same transaction as its read model.

``projection_checkpoints`` has one row per (projection, source, part): the last position
applied from that part and, for Kafka, the next offset to read. ``projection_generations``
has one row per projection: a rebuild swaps in new tables, increments the generation and
records the position it rebuilt to; workers notice the new generation at their next batch,
drop what they held and carry on after that position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Checkpoint

CHECKPOINTS = "projection_checkpoints"
GENERATIONS = "projection_generations"


@dataclass(frozen=True)
class Generation:
    number: int
    rebuilt_to: int  # positions up to here are in the tables since the last rebuild
    rebuilt_at: str | None


def create_statements() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (projection TEXT NOT NULL, "
        "source TEXT NOT NULL, part INTEGER NOT NULL, position BIGINT NOT NULL, "
        "kafka_offset BIGINT, updated_at TEXT NOT NULL, "
        "PRIMARY KEY (projection, source, part))",
        f"CREATE TABLE IF NOT EXISTS {GENERATIONS} (projection TEXT PRIMARY KEY, "
        "generation INTEGER NOT NULL, rebuilt_to BIGINT NOT NULL, rebuilt_at TEXT)",
    ]


def ensure(db: ReadModelDatabase, projection: str) -> None:
    db.execute(
        f"INSERT INTO {GENERATIONS} (projection, generation, rebuilt_to) VALUES (?, 0, 0) "
        "ON CONFLICT (projection) DO NOTHING",
        (projection,),
    )


def generation(db: ReadModelDatabase, projection: str, *, lock: str | None = None) -> Generation:
    """The projection's generation; in a transaction, ``lock`` ("SHARE" or "UPDATE") holds
    its row until commit (PostgreSQL; SQLite's transactions hold the whole database)."""
    suffix = f" FOR {lock}" if lock and db.postgres else ""
    rows = db.query(
        f"SELECT generation, rebuilt_to, rebuilt_at FROM {GENERATIONS} WHERE projection = ?"
        + suffix,
        (projection,),
    )
    if not rows:
        return Generation(0, 0, None)
    number, rebuilt_to, rebuilt_at = rows[0]
    return Generation(int(number), int(rebuilt_to), rebuilt_at)


def checkpoints(db: ReadModelDatabase, projection: str, source: str) -> dict[int, Checkpoint]:
    rows = db.query(
        f"SELECT part, position, kafka_offset FROM {CHECKPOINTS} "
        "WHERE projection = ? AND source = ?",
        (projection, source),
    )
    return {
        int(part): Checkpoint(int(part), int(position), None if off is None else int(off))
        for part, position, off in rows
    }


def advance(
    db: ReadModelDatabase, projection: str, source: str, part: int, position: int, offset: int
) -> None:
    db.execute(
        f"INSERT INTO {CHECKPOINTS} (projection, source, part, position, kafka_offset, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (projection, source, part) DO UPDATE "
        "SET position = excluded.position, kafka_offset = excluded.kafka_offset, "
        "updated_at = excluded.updated_at",
        (projection, source, part, position, offset, _now()),
    )


def start_generation(db: ReadModelDatabase, projection: str, rebuilt_to: int) -> int:
    """After a rebuild to ``rebuilt_to``: forget every checkpoint, bump the generation."""
    current = generation(db, projection)
    db.execute(f"DELETE FROM {CHECKPOINTS} WHERE projection = ?", (projection,))
    db.execute(
        f"UPDATE {GENERATIONS} SET generation = ?, rebuilt_to = ?, rebuilt_at = ? "
        "WHERE projection = ?",
        (current.number + 1, rebuilt_to, _now(), projection),
    )
    return current.number + 1


def status_rows(db: ReadModelDatabase) -> list[tuple[str, str, int, int, int | None, str]]:
    rows = db.query(
        f"SELECT projection, source, part, position, kafka_offset, updated_at FROM {CHECKPOINTS} "
        "ORDER BY projection, source, part"
    )
    return [(p, s, int(part), int(pos), off, at) for p, s, part, pos, off, at in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
