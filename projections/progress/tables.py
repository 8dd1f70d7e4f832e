"""The progress read model's tables, and how a batch or a rebuild writes them.

- ``progress_daily``: one row per (receiving unit, procedure, day) with every metric.
- ``progress_unit_daily``: the same summed over procedures, which the reports read.
- ``progress_dossiers``: the fold's memory of dossiers not yet closed, so a worker that
  restarts carries on where the last one stopped (and the list of overdue dossiers).
- ``progress_late``: the dossiers resolved late, under their receiving unit, with their
  counted due day and the day they were resolved (the lists of late dossiers).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from hub.adapters.sql import ReadModelDatabase
from projections.progress.fold import METRICS, LateRow, OpenDossier, RowKey

DAILY = "progress_daily"
UNIT_DAILY = "progress_unit_daily"
DOSSIERS = "progress_dossiers"
LATE = "progress_late"
TABLES = (DAILY, UNIT_DAILY, DOSSIERS, LATE)
LATE_COLUMNS = ("dossier_code", "unit_code", "procedure_code", "due", "resolved")
LATE_TYPES = ("text", "text", "text", "date", "date")
DOSSIER_COLUMNS = (
    "dossier_code",
    "unit_code",
    "procedure_code",
    "status",
    "received",
    "pending",
    "due",
)


KEYS = {DAILY: ("unit_code", "procedure_code", "day"), UNIT_DAILY: ("unit_code", "day")}
DAILY_COLUMNS = (*KEYS[DAILY], *METRICS)
UNIT_DAILY_COLUMNS = (*KEYS[UNIT_DAILY], *METRICS)
# The columns' PostgreSQL types, for binary bulk loads.
DAILY_TYPES = ("text", "text", "date", *["int4"] * len(METRICS))
UNIT_DAILY_TYPES = ("text", "date", *["int4"] * len(METRICS))
DOSSIER_TYPES = ("text", "text", "text", "int4", "int4", "int4", "date")


def create_statements(
    db: ReadModelDatabase, suffix: str = "", tag: str = "0", keys: bool = True
) -> list[str]:
    """CREATE statements of the tables named with ``suffix``; ``tag`` names their keys.
    Without ``keys`` the two row tables get their primary keys later (:func:`add_keys`):
    building an index once after a bulk load is faster than growing it row by row."""
    day = "DATE" if db.postgres else "TEXT"
    metrics = ", ".join(f"{name} INTEGER NOT NULL DEFAULT 0" for name in METRICS)

    def key(table: str) -> str:
        if not keys:
            return ""
        return f", CONSTRAINT {table}_{tag}_pk PRIMARY KEY ({', '.join(KEYS[table])})"

    return [
        f"CREATE TABLE IF NOT EXISTS {DAILY}{suffix} (unit_code TEXT NOT NULL, "
        f"procedure_code TEXT NOT NULL, day {day} NOT NULL, {metrics}{key(DAILY)})",
        f"CREATE TABLE IF NOT EXISTS {UNIT_DAILY}{suffix} (unit_code TEXT NOT NULL, "
        f"day {day} NOT NULL, {metrics}{key(UNIT_DAILY)})",
        f"CREATE TABLE IF NOT EXISTS {DOSSIERS}{suffix} (dossier_code TEXT NOT NULL, "
        "unit_code TEXT NOT NULL, procedure_code TEXT NOT NULL, status INTEGER NOT NULL, "
        f"received INTEGER NOT NULL, pending INTEGER NOT NULL, due {day}, "
        f"CONSTRAINT {DOSSIERS}_{tag}_pk PRIMARY KEY (dossier_code))",
        # Keyed by unit and day first: the lists read one unit's dossiers of a period.
        f"CREATE TABLE IF NOT EXISTS {LATE}{suffix} (dossier_code TEXT NOT NULL, "
        f"unit_code TEXT NOT NULL, procedure_code TEXT NOT NULL, due {day}, "
        f"resolved {day} NOT NULL, "
        f"CONSTRAINT {LATE}_{tag}_pk PRIMARY KEY (unit_code, resolved, dossier_code))",
    ]


def add_keys(db: ReadModelDatabase, suffix: str, tag: str) -> None:
    """Give the row tables created without keys their primary keys (PostgreSQL)."""
    for table, columns in KEYS.items():
        db.execute(
            f"ALTER TABLE {table}{suffix} ADD CONSTRAINT {table}_{tag}_pk "
            f"PRIMARY KEY ({', '.join(columns)})"
        )


def unit_rows(rows: dict[RowKey, list[int]]) -> dict[tuple[str, date], list[int]]:
    """``rows`` summed over procedures."""
    summed: dict[tuple[str, date], list[int]] = {}
    for (unit, _, day), values in rows.items():
        total = summed.get((unit, day))
        if total is None:
            summed[(unit, day)] = list(values)
        else:
            for index, value in enumerate(values):
                total[index] += value
    return summed


def add_rows(db: ReadModelDatabase, rows: dict[RowKey, list[int]], suffix: str = "") -> None:
    """Add a batch's rows to the tables (upsert, summing every metric); a row whose figures
    all come to zero is removed (no table keeps one, see :mod:`projections.progress.fold`)."""
    if not rows:
        return
    names = ", ".join(METRICS)
    marks = ", ".join("?" * len(METRICS))
    nothing = " AND ".join(f"{name} = 0" for name in METRICS)
    for table, keys, data, types in (
        (DAILY + suffix, KEYS[DAILY], _daily(db, rows), DAILY_TYPES),
        (UNIT_DAILY + suffix, KEYS[UNIT_DAILY], _unit_daily(db, unit_rows(rows)), UNIT_DAILY_TYPES),
    ):
        sums = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in METRICS)
        if db.postgres:
            _add_staged(db, table, keys, data, types, sums)
            continue
        key_marks = ", ".join("?" * len(keys))
        db.executemany(
            f"INSERT INTO {table} ({', '.join(keys)}, {names}) VALUES ({key_marks}, {marks}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}",
            data,
        )
        key_match = " AND ".join(f"{key} = ?" for key in keys)
        db.executemany(
            f"DELETE FROM {table} WHERE {key_match} AND {nothing}",
            [row[: len(keys)] for row in data],
        )


def _staged(
    db: ReadModelDatabase, table: str, columns: Sequence[str], rows: Any, types: Sequence[str]
) -> str:
    """``rows`` bulk-loaded (binary COPY) into a temporary table shaped like ``table``,
    emptied at the end of the transaction; its name."""
    stage = f"stage_{table}"
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
    db.execute(f"DELETE FROM {stage}")  # a transaction may stage several times (one by one)
    db.copy_in(stage, columns, rows, types)
    return stage


def _add_staged(
    db: ReadModelDatabase,
    table: str,
    keys: Sequence[str],
    data: list[tuple[Any, ...]],
    types: Sequence[str],
    sums: str,
) -> None:
    """PostgreSQL: the batch's rows added with one statement from a staged copy, not one
    upsert per row (the live worker's largest cost: a batch of 5,000 events makes thousands
    of rows); rows summed to nothing removed with one more."""
    columns = (*keys, *METRICS)
    stage = _staged(db, table, columns, data, types)
    names = ", ".join(columns)
    db.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}"
    )
    matched = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    zero = " AND ".join(f"t.{name} = 0" for name in METRICS)
    db.execute(f"DELETE FROM {table} t USING {stage} s WHERE {matched} AND {zero}")


def write_rows(db: ReadModelDatabase, rows: dict[RowKey, list[int]], suffix: str) -> None:
    """Bulk-load a rebuild's rows into fresh tables."""
    db.copy_in(f"{DAILY}{suffix}", DAILY_COLUMNS, _daily(db, rows), DAILY_TYPES)
    db.copy_in(
        f"{UNIT_DAILY}{suffix}",
        UNIT_DAILY_COLUMNS,
        _unit_daily(db, unit_rows(rows)),
        UNIT_DAILY_TYPES,
    )


def load_dossiers(
    db: ReadModelDatabase, codes: Iterable[str], suffix: str = ""
) -> dict[str, OpenDossier]:
    wanted = list(codes)
    found: dict[str, OpenDossier] = {}
    for offset in range(0, len(wanted), 5_000):
        chunk = wanted[offset : offset + 5_000]
        # PostgreSQL: one array parameter (a statement of 5,000 placeholders costs more to
        # prepare than to run); SQLite has no arrays.
        where, params = (
            ("dossier_code = ANY(?)", [chunk])
            if db.postgres
            else (f"dossier_code IN ({', '.join('?' * len(chunk))})", chunk)
        )
        for code, unit, procedure, status, received, pending, due in db.query(
            f"SELECT {', '.join(DOSSIER_COLUMNS)} FROM {DOSSIERS}{suffix} WHERE {where}",
            params,
        ):
            found[code] = OpenDossier(
                unit,
                procedure,
                status,
                bool(received),
                bool(pending),
                None if due is None else db.as_date(due),
            )
    return found


def save_dossiers(
    db: ReadModelDatabase,
    dossiers: dict[str, OpenDossier],
    touched: Iterable[str],
    suffix: str = "",
) -> None:
    """Write the touched dossiers' state; closed ones (no longer in ``dossiers``) go."""
    gone, kept = [], []
    for code in touched:
        dossier = dossiers.get(code)
        if dossier is None:
            gone.append((code,))
        else:
            kept.append(_dossier_row(db, code, dossier))
    if db.postgres:  # one statement each, not one per dossier
        if gone:
            db.execute(
                f"DELETE FROM {DOSSIERS}{suffix} WHERE dossier_code = ANY(?)",
                ([code for (code,) in gone],),
            )
        if kept:
            table = DOSSIERS + suffix
            stage = _staged(db, table, DOSSIER_COLUMNS, kept, DOSSIER_TYPES)
            names = ", ".join(DOSSIER_COLUMNS)
            updates = ", ".join(f"{c} = excluded.{c}" for c in DOSSIER_COLUMNS[1:])
            db.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
                f"ON CONFLICT (dossier_code) DO UPDATE SET {updates}"
            )
        return
    if gone:
        db.executemany(f"DELETE FROM {DOSSIERS}{suffix} WHERE dossier_code = ?", gone)
    if kept:
        updates = ", ".join(f"{c} = excluded.{c}" for c in DOSSIER_COLUMNS[1:])
        db.executemany(
            f"INSERT INTO {DOSSIERS}{suffix} ({', '.join(DOSSIER_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (dossier_code) DO UPDATE SET {updates}",
            kept,
        )


def write_dossiers(db: ReadModelDatabase, dossiers: dict[str, OpenDossier], suffix: str) -> None:
    db.copy_in(
        f"{DOSSIERS}{suffix}",
        DOSSIER_COLUMNS,
        (_dossier_row(db, code, dossier) for code, dossier in dossiers.items()),
        DOSSIER_TYPES,
    )


def save_late(db: ReadModelDatabase, late: list[LateRow], suffix: str = "") -> None:
    """Add dossiers resolved late (one already there is left as it is)."""
    if late:
        db.executemany(
            f"INSERT INTO {LATE}{suffix} ({', '.join(LATE_COLUMNS)}) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [_late_row(db, row) for row in late],
        )


def write_late(db: ReadModelDatabase, late: list[LateRow], suffix: str) -> None:
    """Bulk-load a rebuild's dossiers resolved late into its fresh table."""
    db.copy_in(f"{LATE}{suffix}", LATE_COLUMNS, (_late_row(db, r) for r in late), LATE_TYPES)


def _late_row(db: ReadModelDatabase, row: LateRow) -> tuple[Any, ...]:
    code, unit, procedure, due, resolved = row
    return (code, unit, procedure, None if due is None else db.day(due), db.day(resolved))


def _dossier_row(db: ReadModelDatabase, code: str, d: OpenDossier) -> tuple[Any, ...]:
    due = None if d.due is None else db.day(d.due)
    return (code, d.unit, d.procedure, d.status, int(d.received), int(d.pending), due)


def _daily(db: ReadModelDatabase, rows: dict[RowKey, list[int]]) -> list[tuple[Any, ...]]:
    return [
        (unit, proc, db.day(day), *values) for (unit, proc, day), values in sorted(rows.items())
    ]


def _unit_daily(
    db: ReadModelDatabase, rows: dict[tuple[str, date], list[int]]
) -> list[tuple[Any, ...]]:
    """Rows of a unit's procedures can cancel out: those summed to nothing are left out."""
    return [
        (unit, db.day(day), *values) for (unit, day), values in sorted(rows.items()) if any(values)
    ]
