"""What the connector has synced, and what waits: per dossier, and per unit and day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from prometheus_client import Gauge
from pydantic import BaseModel, Field

from connectors.dvcqg.outbox import DOSSIERS, OUTBOX
from hub.adapters.sql import ReadModelDatabase

PENDING = Gauge("dvchub_dvcqg_pending_updates", "Updates not yet acknowledged by the portal")
PARKED_NOW = Gauge("dvchub_dvcqg_parked_updates", "Updates parked, waiting for an operator")
INTAKE_LAG = Gauge(
    "dvchub_dvcqg_intake_lag_records",
    "Events of the bus the connector's intake has not read yet (its assigned partitions)",
)
OLDEST = Gauge("dvchub_dvcqg_oldest_pending_seconds", "Age of the oldest update not yet sent")


@dataclass(frozen=True)
class UnitDay:
    unit_code: str
    day: date
    synced: int
    pending: int
    parked: int
    oldest_pending_seconds: float | None


def by_unit_and_day(
    db: ReadModelDatabase, start: date, end: date, unit: str | None = None
) -> list[UnitDay]:
    """Per receiving unit and day of the event: synced, pending and parked updates."""
    where = "day >= ? AND day <= ?" + (" AND unit_code = ?" if unit else "")
    params: tuple[Any, ...] = (db.day(start), db.day(end)) + ((unit,) if unit else ())
    rows = db.query(
        "SELECT unit_code, day, "
        "SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status IN ('pending', 'in_flight') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END), "
        "MIN(CASE WHEN status <> 'sent' THEN enqueued_at END) "
        f"FROM {OUTBOX} WHERE {where} GROUP BY unit_code, day ORDER BY unit_code, day",
        params,
    )
    now = datetime.now(UTC)
    return [
        UnitDay(
            u,
            db.as_date(d),
            int(s),
            int(p),
            int(k),
            None if oldest is None else (now - datetime.fromisoformat(oldest)).total_seconds(),
        )
        for u, d, s, p, k, oldest in rows
    ]


class SyncUnitDayDoc(BaseModel):
    unit_code: str
    day: str
    synced: int
    pending: int
    parked: int
    oldest_pending_seconds: float | None

    @classmethod
    def of(cls, row: UnitDay) -> SyncUnitDayDoc:
        return cls(
            unit_code=row.unit_code,
            day=row.day.isoformat(),
            synced=row.synced,
            pending=row.pending,
            parked=row.parked,
            oldest_pending_seconds=row.oldest_pending_seconds,
        )


class SyncUnitsDoc(BaseModel):
    """``GET /v1/sync/units``: per receiving unit and day, the updates synced, pending and
    parked, and the oldest pending one's age."""

    period: str
    rows: list[SyncUnitDayDoc]


class SyncUpdateDoc(BaseModel):
    position: int
    event_type: str
    status: Literal["pending", "in_flight", "sent", "parked"]
    attempts: int
    error: str | None
    sent_at: str | None


class SyncDossierDoc(BaseModel):
    """``GET /v1/sync/dossiers/{code}``: each update of a dossier and where it stands."""

    dossier_code: str
    integrated: bool
    on_portal: bool | None = Field(description="Null: not known (never looked up or sent)")
    last_synced_position: int | None
    last_synced_at: str | None
    updates: list[SyncUpdateDoc]


def dossier(db: ReadModelDatabase, code: str) -> dict[str, Any] | None:
    found = db.query(
        f"SELECT integrated, on_portal, last_synced_position, last_synced_at FROM {DOSSIERS} "
        "WHERE dossier_code = ?",
        (code,),
    )
    if not found:
        return None
    integrated, on_portal, position, at = found[0]
    updates = db.query(
        f"SELECT position, event_type, status, attempts, last_error, sent_at FROM {OUTBOX} "
        "WHERE dossier_code = ? ORDER BY position",
        (code,),
    )
    return {
        "dossier_code": code,
        "integrated": bool(integrated),
        "on_portal": {1: True, -1: False}.get(int(on_portal)),
        "last_synced_position": position,
        "last_synced_at": at,
        "updates": [
            {
                "position": p,
                "event_type": e,
                "status": s,
                "attempts": a,
                "error": err,
                "sent_at": sent,
            }
            for p, e, s, a, err, sent in updates
        ],
    }


def refresh_gauges(db: ReadModelDatabase) -> None:
    pending, parked, oldest = db.query(
        "SELECT SUM(CASE WHEN status IN ('pending', 'in_flight') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END), "
        f"MIN(CASE WHEN status <> 'sent' THEN enqueued_at END) FROM {OUTBOX}"
    )[0]
    PENDING.set(int(pending or 0))
    PARKED_NOW.set(int(parked or 0))
    OLDEST.set(
        0.0
        if oldest is None
        else (datetime.now(UTC) - datetime.fromisoformat(oldest)).total_seconds()
    )
