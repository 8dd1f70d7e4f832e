"""Read the progress tables: totals per unit for a period, series, procedures.

Flows are summed over the period's days; stocks (pending within deadline, overdue) are the
sums of their deltas up to the last day; carried over is the stock before the first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

from hub.adapters.sql import ReadModelDatabase
from projections.periods import Granularity, Period
from projections.progress.fold import METRICS
from projections.progress.tables import DAILY, UNIT_DAILY
from projections.rates import Rate

_FLOWS = METRICS[:-2]


@dataclass
class Totals:
    """A unit's (or a group's) figures for a period."""

    received_walk_in: int = 0
    received_online: int = 0
    received_post: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    withdrawn: int = 0
    refused: int = 0
    supplements_requested: int = 0
    returned_direct: int = 0
    returned_post: int = 0
    returned_online: int = 0
    pending_within_deadline: int = 0
    overdue: int = 0
    carried_over: int = 0

    @property
    def received(self) -> int:
        return self.received_walk_in + self.received_online + self.received_post

    @property
    def resolved(self) -> int:
        return self.resolved_early + self.resolved_on_time + self.resolved_late

    @property
    def pending(self) -> int:
        return self.pending_within_deadline + self.overdue

    @property
    def online_rate(self) -> Rate:
        return Rate(self.received_online, self.received)

    @property
    def early_or_on_time_rate(self) -> Rate:
        return Rate(self.resolved_early + self.resolved_on_time, self.resolved)

    @property
    def late_rate(self) -> Rate:
        return Rate(self.resolved_late, self.resolved)

    @property
    def within_deadline_rate(self) -> Rate:
        return Rate(self.pending_within_deadline, self.pending)

    @property
    def overdue_rate(self) -> Rate:
        return Rate(self.overdue, self.pending)

    def add(self, other: Totals) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @classmethod
    def summed(cls, many: Iterable[Totals]) -> Totals:
        """The figures of several units (or groups) together."""
        total = cls()
        for totals in many:
            total.add(totals)
        return total

    def counts(self) -> dict[str, int]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _totals(flows: Iterable[int], stocks: tuple[int, int], carried: int) -> Totals:
    counts = dict(zip(_FLOWS, flows, strict=True))
    return Totals(
        **counts, pending_within_deadline=stocks[0], overdue=stocks[1], carried_over=carried
    )


def unit_totals(db: ReadModelDatabase, period: Period) -> dict[str, Totals]:
    """Every unit's totals for ``period``."""
    sums = ", ".join(f"SUM({name})" for name in _FLOWS)
    flows = {
        unit: values
        for unit, *values in db.query(
            f"SELECT unit_code, {sums} FROM {UNIT_DAILY} WHERE day >= ? AND day <= ? "
            "GROUP BY unit_code",
            (db.day(period.start), db.day(period.end)),
        )
    }
    stocks = _stocks(db, period)
    result = {}
    for unit in sorted(flows.keys() | stocks.keys()):
        before, at_end = stocks.get(unit, ((0, 0), (0, 0)))
        values = flows.get(unit) or [0] * len(_FLOWS)
        result[unit] = _totals((int(v or 0) for v in values), at_end, sum(before))
    return result


def _stocks(
    db: ReadModelDatabase, period: Period
) -> dict[str, tuple[tuple[int, int], tuple[int, int]]]:
    """Per unit: (within, overdue) at the end of the day before the period and of its end."""
    rows = db.query(
        f"SELECT unit_code, "
        f"SUM(CASE WHEN day < ? THEN pending_within_delta ELSE 0 END), "
        f"SUM(CASE WHEN day < ? THEN overdue_delta ELSE 0 END), "
        f"SUM(pending_within_delta), SUM(overdue_delta) "
        f"FROM {UNIT_DAILY} WHERE day <= ? GROUP BY unit_code",
        (db.day(period.start), db.day(period.start), db.day(period.end)),
    )
    return {
        unit: ((int(bw or 0), int(bo or 0)), (int(w or 0), int(o or 0)))
        for unit, bw, bo, w, o in rows
    }


@dataclass(frozen=True)
class SeriesPoint:
    period: Period
    totals: Totals


def series(
    db: ReadModelDatabase, units: list[str], period: Period, by: Granularity
) -> list[SeriesPoint]:
    """The summed figures of ``units`` per bucket of ``by`` within ``period``."""
    if not units:
        return []
    marks = ", ".join("?" * len(units))
    columns = ", ".join(f"SUM({name})" for name in METRICS)
    before = db.query(
        f"SELECT SUM(pending_within_delta), SUM(overdue_delta) FROM {UNIT_DAILY} "
        f"WHERE unit_code IN ({marks}) AND day < ?",
        (*units, db.day(period.start)),
    )[0]
    within, overdue = int(before[0] or 0), int(before[1] or 0)
    daily: dict[date, list[int]] = {
        db.as_date(day): [int(v or 0) for v in values]
        for day, *values in db.query(
            f"SELECT day, {columns} FROM {UNIT_DAILY} WHERE unit_code IN ({marks}) "
            "AND day >= ? AND day <= ? GROUP BY day",
            (*units, db.day(period.start), db.day(period.end)),
        )
    }
    points = []
    ordered = sorted(daily.items())
    index = 0
    for bucket in period.buckets(by):
        carried = within + overdue
        flows = [0] * len(_FLOWS)
        while index < len(ordered) and ordered[index][0] <= bucket.end:
            values = ordered[index][1]
            for i in range(len(_FLOWS)):
                flows[i] += values[i]
            within += values[-2]
            overdue += values[-1]
            index += 1
        points.append(SeriesPoint(bucket, _totals(flows, (within, overdue), carried)))
    return points


def procedure_totals(db: ReadModelDatabase, units: list[str], period: Period) -> dict[str, Totals]:
    """Figures per procedure of ``units`` for ``period`` (stocks at its end)."""
    if not units:
        return {}
    marks = ", ".join("?" * len(units))
    flows = ", ".join(f"SUM(CASE WHEN day >= ? THEN {name} ELSE 0 END)" for name in _FLOWS)
    rows = db.query(
        f"SELECT procedure_code, {flows}, "
        f"SUM(CASE WHEN day < ? THEN pending_within_delta + overdue_delta ELSE 0 END), "
        f"SUM(pending_within_delta), SUM(overdue_delta) FROM {DAILY} "
        f"WHERE unit_code IN ({marks}) AND day <= ? GROUP BY procedure_code",
        (*[db.day(period.start)] * len(_FLOWS), db.day(period.start), *units, db.day(period.end)),
    )
    result = {}
    for procedure, *values in rows:
        numbers = [int(v or 0) for v in values]
        flow, carried, within, overdue = (
            numbers[: len(_FLOWS)],
            numbers[-3],
            numbers[-2],
            numbers[-1],
        )
        result[procedure] = _totals(flow, (within, overdue), carried)
    return result


def online_before(db: ReadModelDatabase, units: list[str], day: date) -> int:
    """Online dossiers ``units`` received before ``day``."""
    if not units:
        return 0
    marks = ", ".join("?" * len(units))
    rows = db.query(
        f"SELECT SUM(received_online) FROM {UNIT_DAILY} WHERE unit_code IN ({marks}) AND day < ?",
        (*units, db.day(day)),
    )
    return int(rows[0][0] or 0)


def last_day(db: ReadModelDatabase, through: date) -> date | None:
    """The last day up to ``through`` with any figure; None without any."""
    rows = db.query(f"SELECT MAX(day) FROM {UNIT_DAILY} WHERE day <= ?", (db.day(through),))
    return None if rows[0][0] is None else db.as_date(rows[0][0])


def position(db: ReadModelDatabase) -> int:
    """The newest position the progress read model has applied."""
    rows = db.query(
        "SELECT MAX(position) FROM projection_checkpoints WHERE projection = 'unit_progress'"
    )
    floor = db.query(
        "SELECT rebuilt_to FROM projection_generations WHERE projection = 'unit_progress'"
    )
    return max(int(rows[0][0] or 0), int(floor[0][0]) if floor else 0)
