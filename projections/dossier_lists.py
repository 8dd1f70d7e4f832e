"""The lists of late and overdue dossiers of units, from the progress read model: the same
fold that counts them in the figures (:mod:`projections.progress.fold`), so a list and its
figure agree.

- Resolved late in a period: ``progress_late``, one row per dossier resolved after its
  counted due day, under its receiving unit.
- Overdue: dossiers still pending with their deadline clock running whose counted due day
  has ended (``progress_dossiers``). This list is of now: a dossier resolved since is gone.

A unit that carries former units (after a merger or split, :func:`projections.views.carried`)
lists their dossiers too: those still in progress, which are its own now, and those resolved
late from the day it took them over (restated: all of them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.adapters.sql import ReadModelDatabase
from projections.paging import Paged
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
    paged: Paged
    dossiers: list[ListedDossier]

    @property
    def total(self) -> int:
        return self.paged.total


def resolved_late(
    db: ReadModelDatabase,
    units: Sequence[str],
    period: Period,
    page: int,
    size: int,
    carried: Mapping[str, date] | None = None,
) -> Page:
    """Page ``page`` of the dossiers of ``units`` resolved late in ``period``, the latest
    first; with ``carried``, also those of former units (a unit that merged into one of
    ``units``) resolved late from the day given for each."""
    if period.end < period.start:
        return Page(Paged.of(0, page, size), [])
    own = f"unit_code IN ({', '.join('?' * len(units))})" if units else "1 = 0"
    former = [(code, max(day, period.start)) for code, day in sorted((carried or {}).items())]
    whose = " OR ".join([own, *("(unit_code = ? AND resolved >= ?)" for _ in former)])
    return _page(
        db,
        LATE,
        "dossier_code, unit_code, procedure_code, due, resolved",
        f"({whose}) AND resolved >= ? AND resolved <= ?",
        (
            *units,
            *(value for code, day in former for value in (code, db.day(day))),
            db.day(period.start),
            db.day(period.end),
        ),
        "resolved DESC, dossier_code",
        page,
        size,
    )


def overdue(
    db: ReadModelDatabase, units: Sequence[str], through: date, page: int, size: int
) -> Page:
    """Page ``page`` of the dossiers of ``units`` pending with the clock running whose due
    day ended by ``through``, the longest overdue first."""
    if not units:
        return Page(Paged.of(0, page, size), [])
    return _page(
        db,
        DOSSIERS,
        "dossier_code, unit_code, procedure_code, due, NULL",
        f"unit_code IN ({', '.join('?' * len(units))}) "
        "AND pending = 1 AND due IS NOT NULL AND due <= ?",
        (*units, db.day(through)),
        "due, dossier_code",
        page,
        size,
    )


def _page(
    db: ReadModelDatabase,
    table: str,
    columns: str,
    where: str,
    chosen: tuple[Any, ...],
    order: str,
    page: int,
    size: int,
) -> Page:
    """One page of ``table``'s rows meeting ``where``: counted, then read."""
    total = int(db.query(f"SELECT COUNT(*) FROM {table} WHERE {where}", chosen)[0][0])
    paged = Paged.of(total, page, size)
    rows = db.query(
        f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        (*chosen, size, paged.offset),
    )
    return Page(
        paged,
        [
            ListedDossier(code, unit, procedure, _day(db, due), _day(db, resolved))
            for code, unit, procedure, due, resolved in rows
        ],
    )


def _day(db: ReadModelDatabase, value: object) -> date | None:
    return None if value is None else db.as_date(value)
