"""The working-day calendar: when a dossier is due.

Working days skip Saturdays, Sundays and Vietnam's public holidays (from the ``holidays``
package, which knows the lunar holidays and the government's published swaps), then a
province's own per-year list of extra days off and extra working days is laid on top.
Time is counted in office hours (07:00-11:30 and 13:30-17:00 by default), so a dossier
received after hours starts the next working morning. Every instant is handled in
Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from events.enums import TimeUnit
from events.models import ProcessingTime
from hub.domain.vietnam import VIETNAM

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class OfficeHours:
    """The periods of a working day, in order, not overlapping."""

    periods: tuple[tuple[time, time], ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period")
        previous_end = time.min
        for start, end in self.periods:
            if not previous_end <= start < end:
                raise ValueError(
                    f"office period {start}-{end} must start before it ends and after the "
                    "previous period"
                )
            previous_end = end

    @property
    def per_day(self) -> timedelta:
        return sum(
            (
                datetime.combine(date.min, e) - datetime.combine(date.min, s)
                for s, e in self.periods
            ),
            timedelta(),
        )

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """Parse ``"07:00-11:30,13:30-17:00"``."""
        periods = []
        for part in text.split(","):
            start, _, end = part.strip().partition("-")
            try:
                periods.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
            except ValueError:
                raise ValueError(
                    f"office hours {text!r}: {part.strip()!r} is not a period like 07:00-11:30"
                ) from None
        return cls(tuple(periods))


def vietnam_public_holidays() -> Callable[[date], bool]:
    """Vietnam's public holidays per the Labour Code 2019 Art. 112, lunar ones included."""
    import holidays  # loaded when a calendar is made, not by every reader of this module

    calendar = holidays.country_holidays("VN")
    return calendar.__contains__


@dataclass
class WorkingCalendar:
    """Office-hours arithmetic over working days."""

    office_hours: OfficeHours = field(default_factory=OfficeHours)
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    is_public_holiday: Callable[[date], bool] = field(default_factory=vietnam_public_holidays)
    weekend: frozenset[int] = frozenset({5, 6})
    _working: dict[date, bool] = field(default_factory=dict, init=False, repr=False)
    _day_periods: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        both = self.extra_days_off & self.extra_working_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"days listed both as day off and as working day: {listed}")

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            if day in self.extra_working_days:
                known = True
            elif day in self.extra_days_off:
                known = False
            else:
                known = day.weekday() not in self.weekend and not self.is_public_holiday(day)
            self._working[day] = known
        return known

    def _periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The office periods of ``day`` as instants; none on a day off. Memoised."""
        periods = self._day_periods.get(day)
        if periods is None:
            periods = (
                tuple(
                    (datetime.combine(day, start, VIETNAM), datetime.combine(day, end, VIETNAM))
                    for start, end in self.office_hours.periods
                )
                if self.is_working_day(day)
                else ()
            )
            self._day_periods[day] = periods
        return periods

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant ``amount`` of office time after ``start``.

        Time before office hours, after them, and on days off does not count; an amount
        of zero gives the next instant that is inside office hours.
        """
        if amount < timedelta():
            raise ValueError("cannot add a negative working time")
        moment = _vietnam(start)
        remaining = amount
        day = moment.date()
        for _ in range(366 * 30):
            for period_start, period_end in self._periods(day):
                begin = max(period_start, moment)
                if begin >= period_end:
                    continue
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += _DAY
        raise ValueError("no working time found within 30 years; check the calendar")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time that passes from ``start`` to ``end`` (zero if ``end`` is earlier)."""
        start, end = _vietnam(start), _vietnam(end)
        total = timedelta()
        day = start.date()
        while day <= end.date():
            for period_start, period_end in self._periods(day):
                overlap = min(period_end, end) - max(period_start, start)
                if overlap > timedelta():
                    total += overlap
            day += _DAY
        return total

    def next_working_day(self, day: date) -> date:
        while not self.is_working_day(day):
            day += _DAY
        return day

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, self.office_hours.periods[-1][1], VIETNAM)

    def due_at(self, start: datetime, processing_time: ProcessingTime) -> datetime:
        """The due date of work that starts at ``start`` and takes ``processing_time``.

        Calendar days end at the close of office on the last day, moved to the next
        working day when it is a day off (Civil Code 2015, Art. 148).
        """
        value = processing_time.value
        if processing_time.unit is TimeUnit.CALENDAR_DAYS:
            days = int(value.to_integral_value(rounding="ROUND_CEILING"))
            last = _vietnam(start).date() + timedelta(days=days)
            return self.end_of_day(self.next_working_day(last))
        per_unit = (
            self.office_hours.per_day
            if processing_time.unit is TimeUnit.WORKING_DAYS
            else timedelta(hours=1)
        )
        return self.add_working_time(start, _scale(per_unit, value))


def _scale(amount: timedelta, factor: Decimal) -> timedelta:
    seconds = Decimal(amount.total_seconds()) * factor
    return timedelta(seconds=int(seconds.to_integral_value()))


def _vietnam(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    return moment.astimezone(VIETNAM)
