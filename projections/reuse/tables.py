"""The reuse index's table, in the read-model database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from hub.adapters.sql import ReadModelDatabase
from projections.reuse.fold import IndexedDossier

DOSSIERS = "reuse_dossiers"
_COLUMNS = (
    "dossier_code, unit_code, position, procedure_code, owner_hash, status, received_on, "
    "resolved_on, components, results, reuses"
)


def create_statements(db: ReadModelDatabase, suffix: str = "", indexes: bool = True) -> list[str]:
    """The table (``reuse_dossiers`` + ``suffix``: a rebuild's fresh one) and its indexes."""
    day = "DATE" if db.postgres else "TEXT"
    table = [
        f"CREATE TABLE IF NOT EXISTS {DOSSIERS}{suffix} (dossier_code TEXT PRIMARY KEY, "
        "unit_code TEXT NOT NULL, position BIGINT NOT NULL, procedure_code TEXT, "
        f"owner_hash TEXT, status TEXT NOT NULL, received_on {day}, resolved_on {day}, "
        "components TEXT NOT NULL, results TEXT NOT NULL, reuses TEXT NOT NULL, "
        "reuse_count INTEGER NOT NULL DEFAULT 0)",
    ]
    return table + (index_statements() if indexes else [])


def index_statements() -> list[str]:
    return [
        f"CREATE INDEX IF NOT EXISTS {DOSSIERS}_owner ON {DOSSIERS} (owner_hash)",
        f"CREATE INDEX IF NOT EXISTS {DOSSIERS}_received ON {DOSSIERS} (received_on, unit_code)",
    ]


def load(db: ReadModelDatabase, codes: list[str], suffix: str = "") -> dict[str, IndexedDossier]:
    found: dict[str, IndexedDossier] = {}
    for start in range(0, len(codes), 5_000):
        chunk = codes[start : start + 5_000]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT {_COLUMNS} FROM {DOSSIERS}{suffix} WHERE dossier_code IN ({marks})"
        for row in db.query(sql, chunk):
            found[row[0]] = _dossier(row)
    return found


def one(db: ReadModelDatabase, code: str) -> IndexedDossier | None:
    return load(db, [code]).get(code)


def owned_by(db: ReadModelDatabase, owner_hash: str) -> list[IndexedDossier]:
    """Every indexed dossier of one owner (to see which results later ones superseded)."""
    rows = db.query(f"SELECT {_COLUMNS} FROM {DOSSIERS} WHERE owner_hash = ?", (owner_hash,))
    return [_dossier(row) for row in rows]


def save(db: ReadModelDatabase, dossiers: list[IndexedDossier], suffix: str = "") -> None:
    db.executemany(
        f"INSERT INTO {DOSSIERS}{suffix} ({_COLUMNS}, reuse_count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dossier_code) DO UPDATE SET "
        "position = excluded.position, procedure_code = excluded.procedure_code, "
        "owner_hash = excluded.owner_hash, status = excluded.status, "
        "received_on = excluded.received_on, resolved_on = excluded.resolved_on, "
        "components = excluded.components, results = excluded.results, "
        "reuses = excluded.reuses, reuse_count = excluded.reuse_count",
        [
            (
                d.dossier_code,
                d.unit_code,
                d.position,
                d.procedure_code,
                d.owner_hash,
                d.status,
                None if d.received_on is None else db.day(d.received_on),
                None if d.resolved_on is None else db.day(d.resolved_on),
                orjson.dumps(d.components).decode(),
                orjson.dumps(d.results).decode(),
                orjson.dumps(d.reuses).decode(),
                len(d.reuses),
            )
            for d in sorted(dossiers, key=lambda d: d.dossier_code)
        ],
    )


@dataclass(frozen=True)
class ReuseCount:
    unit_code: str
    received: int  # dossiers received in the period
    reusing: int  # of which reused an earlier dossier's result or documents


def received_reusing(
    db: ReadModelDatabase, first: date, last: date, units: set[str] | None = None
) -> list[ReuseCount]:
    """Per receiving unit: dossiers received from ``first`` to ``last``, and how many of them
    reused an earlier dossier."""
    rows = db.query(
        f"SELECT unit_code, COUNT(*), SUM(CASE WHEN reuse_count > 0 THEN 1 ELSE 0 END) "
        f"FROM {DOSSIERS} WHERE received_on >= ? AND received_on <= ? GROUP BY unit_code "
        "ORDER BY unit_code",
        (db.day(first), db.day(last)),
    )
    return [
        ReuseCount(unit, int(received), int(reusing or 0))
        for unit, received, reusing in rows
        if units is None or unit in units
    ]


def _dossier(row: tuple[Any, ...]) -> IndexedDossier:
    code, unit, position, procedure, owner, status, received, resolved, comps, results, reuses = row
    return IndexedDossier(
        code,
        unit,
        int(position),
        procedure,
        owner,
        status,
        _day(received),
        _day(resolved),
        orjson.loads(comps),
        orjson.loads(results),
        orjson.loads(reuses),
    )


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def reused_by(db: ReadModelDatabase, code: str) -> list[dict[str, Any]]:
    """The dossiers received reusing ``code`` (its results or documents)."""
    rows = db.query(
        f"SELECT dossier_code, unit_code, received_on, components FROM {DOSSIERS} "
        "WHERE reuse_count > 0 AND reuses LIKE ? ORDER BY received_on, dossier_code",
        (f'%"{code}"%',),
    )
    return [
        {
            "dossier_code": later,
            "unit_code": unit,
            "received_on": None if day is None else str(day),
            "components": [c["code"] for c in orjson.loads(comps) if c.get("reused_from") == code],
        }
        for later, unit, day, comps in rows
    ]
