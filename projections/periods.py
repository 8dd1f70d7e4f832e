"""Reporting periods: a day, month, quarter, half-year, year or any range of days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from events.errors import shown


class Granularity(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


class PeriodError(ValueError):
    """A period that cannot be read, or that asks for more than the hub answers."""


#: Periods lie within these days (the hub's history, and what a date can be added to).
EARLIEST_DAY = date(1990, 1, 1)
LATEST_DAY = date(2199, 12, 31)
#: The longest range of days a period may span, and the most buckets a series may have.
LONGEST_RANGE_DAYS = 20 * 366
MOST_BUCKETS = 1_000


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2021``, ``2021H1``, ``2021Q2``, ``2021-03``, ``2021-03-15`` or ``A..B`` (days)."""
        value = text.strip()
        if len(value) > 40:
            raise PeriodError(f"{shown(value)}: not a period")
        try:
            period = _parse(value)
        except ValueError as error:
            if isinstance(error, PeriodError):
                raise
            raise PeriodError(f"{text!r}: {error}") from None
        if period.start < EARLIEST_DAY or period.end > LATEST_DAY:
            raise PeriodError(
                f"{value!r} is outside {EARLIEST_DAY.isoformat()}..{LATEST_DAY.isoformat()}"
            )
        if period.days > LONGEST_RANGE_DAYS:
            raise PeriodError(f"{value!r} spans {period.days:,} days; at most 20 years")
        return period

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def bucket_count(self, by: Granularity) -> int:
        """How many buckets of ``by`` :meth:`buckets` gives (without making them)."""
        if by is Granularity.DAY:
            return self.days
        if by is Granularity.YEAR:
            return self.end.year - self.start.year + 1
        months = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.HALF: 6}[by]
        first = (self.start.year * 12 + self.start.month - 1) // months
        last = (self.end.year * 12 + self.end.month - 1) // months
        return last - first + 1

    def check_buckets(self, by: Granularity) -> None:
        """Raise :class:`PeriodError` if the period has more than :data:`MOST_BUCKETS`."""
        count = self.bucket_count(by)
        if count > MOST_BUCKETS:
            raise PeriodError(
                f"{self.label} has {count:,} buckets of a {by.value}; at most {MOST_BUCKETS:,}: "
                "choose a shorter period or a coarser bucket"
            )

    def buckets(self, by: Granularity) -> list[Period]:
        """The period cut into consecutive buckets of ``by`` (the first and last may be
        partial)."""
        self.check_buckets(by)
        found: list[Period] = []
        day = self.start
        while day <= self.end:
            bucket = bucket_of(day, by)
            end = min(bucket.end, self.end)
            found.append(Period(day, end, bucket.label))
            day = end + timedelta(days=1)
        return found


_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-?H([12])$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _parse(value: str) -> Period:
    if ".." in value:
        first, _, last = value.partition("..")
        start, end = date.fromisoformat(first), date.fromisoformat(last)
        if end < start:
            raise PeriodError(f"{value!r}: the range ends before it starts")
        return Period(start, end, value)
    if match := _YEAR.match(value):
        year = int(match[1])
        return Period(date(year, 1, 1), date(year, 12, 31), value)
    if match := _HALF.match(value):
        return bucket_of(date(int(match[1]), 1 + 6 * (int(match[2]) - 1), 1), Granularity.HALF)
    if match := _QUARTER.match(value):
        return bucket_of(date(int(match[1]), 1 + 3 * (int(match[2]) - 1), 1), Granularity.QUARTER)
    if match := _MONTH.match(value):
        return bucket_of(date(int(match[1]), int(match[2]), 1), Granularity.MONTH)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PeriodError(
            f"{value!r} is not a period: use 2021, 2021H1, 2021Q2, 2021-03, 2021-03-15 or "
            "2021-01-01..2021-03-31"
        ) from None
    return Period(day, day, value)


def bucket_of(day: date, by: Granularity) -> Period:
    """The whole bucket of ``by`` that ``day`` falls in."""
    if by is Granularity.DAY:
        return Period(day, day, day.isoformat())
    if by is Granularity.YEAR:
        return Period(date(day.year, 1, 1), date(day.year, 12, 31), str(day.year))
    months = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.HALF: 6}[by]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    next_month = first_month + months
    end = (
        date(day.year + 1, 1, 1) if next_month > 12 else date(day.year, next_month, 1)
    ) - timedelta(days=1)
    index = (first_month - 1) // months + 1
    label = {
        Granularity.MONTH: f"{day.year}-{first_month:02d}",
        Granularity.QUARTER: f"{day.year}Q{index}",
        Granularity.HALF: f"{day.year}H{index}",
    }[by]
    return Period(start, end, label)
