"""Figures true as of a stated moment: a period is counted up to the last whole day before
now (Vietnam time), never beyond.

The read model's stocks are kept per day: pending within the deadline and overdue *at the
end of* each day, and a dossier due today turns overdue at the end of today. Until today has
ended, its figures (and those of every later day, which hold only turns still to come) are a
projection, not a fact (domain: "a figure for a moment that has not come yet is a
projection"). So a period that reaches today is cut at the end of yesterday, and every
figure says so: :attr:`AsOf.moment` is the instant it is true at. Decision 0020.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from hub.domain.vietnam import VIETNAM
from projections.periods import Period


@dataclass(frozen=True)
class AsOf:
    """The days of ``requested`` whose figures are facts at ``now``."""

    requested: Period
    #: The requested period up to :attr:`through` (the same label); it has no day when the
    #: period's first day has not ended yet, and then its stocks are those it starts with.
    counted: Period
    #: The last whole day counted (the period's last day, or yesterday).
    through: date

    @property
    def moment(self) -> datetime:
        """The instant the figures are true at: the end of :attr:`through`, Vietnam time."""
        return datetime.combine(self.through + timedelta(days=1), time(0), VIETNAM)

    @property
    def complete(self) -> bool:
        """True: every day of the requested period has ended."""
        return self.counted.end == self.requested.end

    @property
    def begun(self) -> bool:
        """True: at least one day of the requested period has ended."""
        return self.counted.end >= self.counted.start


def last_whole_day(now: datetime) -> date:
    """The last day that has ended at ``now``, in Vietnam."""
    return now.astimezone(VIETNAM).date() - timedelta(days=1)


def as_of(period: Period, now: datetime) -> AsOf:
    """``period`` as counted at ``now``."""
    through = min(period.end, last_whole_day(now))
    if through < period.start:  # not begun: no day of it is a fact yet
        empty = Period(period.start, period.start - timedelta(days=1), period.label)
        return AsOf(period, empty, through)
    return AsOf(period, Period(period.start, through, period.label), through)
