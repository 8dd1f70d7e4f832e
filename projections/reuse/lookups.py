"""The ``reuse_lookups`` table: the ledger's look-ups, one row each, for counting per
requesting unit and period. Copied from the ledger's notification log after a checkpoint;
copying twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hub.adapters.sql import ReadModelDatabase
from hub.reuse.ledger import DossierLookups, ReuseLedger
from projections import checkpoints
from projections.progress.facts import vietnam_day

LOOKUPS = "reuse_lookups"
PROJECTION = "reuse_lookups"
SOURCE = "ledger"


def create_statements(db: ReadModelDatabase) -> list[str]:
    day = "DATE" if db.postgres else "TEXT"
    return [
        f"CREATE TABLE IF NOT EXISTS {LOOKUPS} (lookup_id TEXT PRIMARY KEY, at TEXT NOT NULL, "
        f"day {day} NOT NULL, dossier_code TEXT NOT NULL, requesting_unit TEXT NOT NULL, "
        "key_id TEXT NOT NULL, procedure_code TEXT NOT NULL, mode TEXT NOT NULL, "
        "outcome TEXT NOT NULL, reason TEXT)",
        f"CREATE INDEX IF NOT EXISTS {LOOKUPS}_day ON {LOOKUPS} (day, requesting_unit)",
    ]


def project(db: ReadModelDatabase, ledger: ReuseLedger) -> int:
    """Copy look-ups recorded since the last call into ``reuse_lookups``; how many. (The
    tables come from :func:`projections.reuse.worker.prepare`.)"""
    done = checkpoints.checkpoints(db, PROJECTION, SOURCE).get(0)
    start = 1 if done is None else done.position + 1
    copied = 0
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=1_000)
        if not page:
            return copied
        rows = []
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            if isinstance(event, DossierLookups.LookedUp):
                x = event.lookup
                rows.append(
                    (
                        x["lookup_id"],
                        x["at"],
                        db.day(vietnam_day(x["at"])),
                        x["dossier_code"],
                        x["requesting_unit"],
                        x["key_id"],
                        x["procedure_code"],
                        x["mode"],
                        x["outcome"],
                        x["reason"],
                    )
                )
        with db.transaction():
            db.executemany(
                f"INSERT INTO {LOOKUPS} (lookup_id, at, day, dossier_code, requesting_unit, "
                "key_id, procedure_code, mode, outcome, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (lookup_id) DO NOTHING",
                rows,
            )
            checkpoints.advance(db, PROJECTION, SOURCE, 0, page[-1].id, page[-1].id)
        copied += len(rows)
        start = page[-1].id + 1


@dataclass(frozen=True)
class LookupCount:
    unit_code: str
    granted: int  # full answers and matches
    refused: int  # refusals and non-matches


def lookups_by_unit(db: ReadModelDatabase, first: date, last: date) -> list[LookupCount]:
    rows = db.query(
        f"SELECT requesting_unit, SUM(CASE WHEN outcome IN ('granted', 'matched') THEN 1 "
        f"ELSE 0 END), SUM(CASE WHEN outcome IN ('granted', 'matched') THEN 0 ELSE 1 END) "
        f"FROM {LOOKUPS} WHERE day >= ? AND day <= ? GROUP BY requesting_unit "
        "ORDER BY requesting_unit",
        (db.day(first), db.day(last)),
    )
    return [LookupCount(unit, int(g or 0), int(r or 0)) for unit, g, r in rows]
