"""The lists of late and overdue dossiers of units, from the progress read model: the same
fold that counts them in the figures (:mod:`projections.progress.fold`), so a list and its
figure agree.

- Resolved late in a period: ``progress_late``, one row per dossier resolved after its
  counted due day, under its receiving unit.
- Overdue: dossiers still pending with their deadline clock running whose counted due day
  has ended (``progress_dossiers``). This list is of now: a dossier resolved since is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from hub.adapters.sql import ReadModelDatabase
from projections.periods import Period
from projections.progress.tables import DOSSIERS, LATE


@dataclass(frozen=True)
class ListedDossier:
    code: str
    unit_code: str
    procedure_code: str
    due: date | None
    resolved: date | None = None

    def days_late(self, today: date) -> int | None:
        """Days past the due day: to the day it was resolved, or to ``today``."""
        if self.due is None:
            return None
        return ((self.resolved or today) - self.due).days


@dataclass(frozen=True)
class Page:
    total: int
    dossiers: list[ListedDossier]


def resolved_late(
    db: ReadModelDatabase, units: Sequence[str], period: Period, offset: int, limit: int
) -> Page:
    """Dossiers of ``units`` resolved late in ``period``, the latest first."""
    if not units or period.end < period.start:
        return Page(0, [])
    marks = ", ".join("?" * len(units))
    where = f"unit_code IN ({marks}) AND resolved >= ? AND resolved <= ?"
    params = (*units, db.day(period.start), db.day(period.end))
    total = int(db.query(f"SELECT COUNT(*) FROM {LATE} WHERE {where}", params)[0][0])
    rows = db.query(
        f"SELECT dossier_code, unit_code, procedure_code, due, resolved FROM {LATE} "
        f"WHERE {where} ORDER BY resolved DESC, dossier_code LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return Page(
        total,
        [
            ListedDossier(code, unit, procedure, _day(db, due), _day(db, resolved))
            for code, unit, procedure, due, resolved in rows
        ],
    )


def overdue(
    db: ReadModelDatabase, units: Sequence[str], through: date, offset: int, limit: int
) -> Page:
    """Dossiers of ``units`` pending with the clock running whose due day ended by
    ``through``, the longest overdue first."""
    if not units:
        return Page(0, [])
    marks = ", ".join("?" * len(units))
    where = f"unit_code IN ({marks}) AND pending = 1 AND due IS NOT NULL AND due <= ?"
    params = (*units, db.day(through))
    total = int(db.query(f"SELECT COUNT(*) FROM {DOSSIERS} WHERE {where}", params)[0][0])
    rows = db.query(
        f"SELECT dossier_code, unit_code, procedure_code, due FROM {DOSSIERS} "
        f"WHERE {where} ORDER BY due, dossier_code LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return Page(
        total,
        [
            ListedDossier(code, unit, procedure, _day(db, due))
            for code, unit, procedure, due in rows
        ],
    )


def _day(db: ReadModelDatabase, value: object) -> date | None:
    return None if value is None else db.as_date(value)
