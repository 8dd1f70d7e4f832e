"""Events a projection could not fold: parked, so that one event never stops a projection.

A worker that fails to apply an event already stored (an older hub may have stored what
today's read side cannot fold) records it here, in the same transaction as the rest of
its batch, and goes on. ``dvchub projections status`` and ``/metrics`` count them,
``dvchub projections parked`` lists them and ``dvchub projections retry`` folds them again
once the cause is fixed; a rebuild folds everything again and parks what still fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from hub.adapters.sql import ReadModelDatabase

PARKED = "projection_parked"
logger = structlog.get_logger("hub.adapters.parked")


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    projection: str
    position: int
    dossier_code: str | None
    event_type: str | None
    error: str
    parked_at: str


def create_statements() -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {PARKED} (projection TEXT NOT NULL, "
        "position BIGINT NOT NULL, dossier_code TEXT, event_type TEXT, error TEXT NOT NULL, "
        "parked_at TEXT NOT NULL, PRIMARY KEY (projection, position))"
    ]


def describe(error: BaseException) -> str:
    """What went wrong, short: the exception's type and the start of its message."""
    text = str(error).replace("\n", " ")
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def parked_event(
    projection: str, position: int, record: Mapping[str, Any] | None, error: BaseException
) -> ParkedEvent:
    """The parked event for ``error`` at ``position``, naming the dossier and the event type
    when ``record`` (what could be read of the event, if anything) has them; logged."""
    code = kind = None
    if record is not None:
        code, kind = record.get("dossier_code"), record.get("event_type")
    event = ParkedEvent(
        projection,
        position,
        None if code is None else str(code),
        None if kind is None else str(kind),
        describe(error),
        now(),
    )
    logger.error(
        "projections.event_parked",
        projection=projection,
        position=position,
        dossier_code=event.dossier_code,
        event_type=event.event_type,
        error=event.error,
    )
    return event


def park(db: ReadModelDatabase, event: ParkedEvent) -> None:
    db.execute(
        f"INSERT INTO {PARKED} (projection, position, dossier_code, event_type, error, "
        "parked_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (projection, position) DO UPDATE "
        "SET error = excluded.error, parked_at = excluded.parked_at",
        (
            event.projection,
            event.position,
            event.dossier_code,
            event.event_type,
            event.error,
            event.parked_at,
        ),
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parked(db: ReadModelDatabase, projection: str | None = None) -> list[ParkedEvent]:
    where, params = ("WHERE projection = ? ", (projection,)) if projection else ("", ())
    if not db.table_exists(PARKED):
        return []
    rows = db.query(
        f"SELECT projection, position, dossier_code, event_type, error, parked_at "
        f"FROM {PARKED} {where}ORDER BY projection, position",
        params,
    )
    return [
        ParkedEvent(str(p), int(pos), code, kind, str(err), str(at))
        for p, pos, code, kind, err, at in rows
    ]


def counts(db: ReadModelDatabase) -> dict[str, int]:
    """Parked events per projection."""
    if not db.table_exists(PARKED):
        return {}
    rows = db.query(f"SELECT projection, COUNT(*) FROM {PARKED} GROUP BY projection")
    return {str(name): int(n) for name, n in rows}


def release(db: ReadModelDatabase, projection: str, position: int) -> None:
    db.execute(
        f"DELETE FROM {PARKED} WHERE projection = ? AND position = ?", (projection, position)
    )


def replace_all(db: ReadModelDatabase, projection: str, events: list[ParkedEvent]) -> None:
    """After a rebuild: the projection's parked events are exactly ``events``."""
    db.execute(f"DELETE FROM {PARKED} WHERE projection = ?", (projection,))
    for event in events:
        park(db, event)
