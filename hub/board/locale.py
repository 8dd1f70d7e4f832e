"""Numbers, percentages, dates, moments and period names as Vietnamese and English readers
write them, through Babel (CLDR): "8.144" and "54,36%" in Vietnamese, "8,144" and "54.36%"
in English; never a thousands separator of one language beside a decimal mark of the other.

English uses the British conventions (day before month), as Vietnamese does, so that a date
reads the same way in both languages. Half-years have no CLDR name; their words are here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache

from babel import Locale
from babel.dates import format_interval, format_skeleton, format_time
from babel.numbers import format_decimal, format_percent

from hub.domain.vietnam import VIETNAM
from projections.periods import Granularity, Period, bucket_of
from projections.rates import Rate

_LOCALES = {"vi": "vi", "en": "en_GB"}
_HALVES = {
    "vi": ("6 tháng đầu năm {year}", "6 tháng cuối năm {year}"),
    "en": ("First half of {year}", "Second half of {year}"),
}
_YEAR = {"vi": "Năm {year}", "en": "{year}"}
NO_VALUE = "–"


@dataclass(frozen=True)
class Formats:
    """Everything the board writes of a value, in one language."""

    lang: str

    @property
    def locale(self) -> Locale:
        return _locale(_LOCALES.get(self.lang, "vi"))

    def number(self, value: int | Decimal | None) -> str:
        return NO_VALUE if value is None else format_decimal(value, locale=self.locale)

    def percent(self, rate: Rate) -> str:
        """A rate as published (two decimals, half up), e.g. ``54,36%``; a dash for none."""
        shown = rate.percent(2)
        if shown is None:
            return NO_VALUE
        return format_percent(shown / 100, format="#,##0.00%", locale=self.locale)

    def share(self, share: Fraction) -> str:
        """A unit's share of another's figures, e.g. ``33,33%``."""
        return format_percent(
            Decimal(share.numerator) / Decimal(share.denominator),
            format="#,##0.##%",
            locale=self.locale,
        )

    def day(self, day: date) -> str:
        """``1/3/2021`` (vi), ``01/03/2021`` (en)."""
        return format_skeleton("yMMdd", day, locale=self.locale)

    def moment(self, instant: datetime) -> str:
        """An instant in Vietnam time: ``00:00 1/12/2026``."""
        local = instant.astimezone(VIETNAM)
        clock = format_time(local, "HH:mm", locale=self.locale)
        return f"{clock} {self.day(local.date())}"

    def day_range(self, first: date, last: date) -> str:
        if first == last:
            return self.day(first)
        return format_interval(first, last, "yMMdd", locale=self.locale)

    def period(self, period: Period) -> str:
        """The name of a period: a month, a quarter, a half-year, a year, or its days."""
        start = period.start
        if period.end < start:
            return self.day(start)
        for granularity in (Granularity.MONTH, Granularity.QUARTER, Granularity.HALF):
            whole = bucket_of(start, granularity)
            if (whole.start, whole.end) == (period.start, period.end):
                return self._bucket(whole, granularity)
        year = bucket_of(start, Granularity.YEAR)
        if (year.start, year.end) == (period.start, period.end):
            return _YEAR[self._words].format(year=start.year)
        return self.day_range(period.start, period.end)

    def bucket(self, period: Period, by: Granularity) -> str:
        """A chart's bucket: a day, or the bucket's name (shorter than :meth:`period`)."""
        if by is Granularity.DAY:
            return format_skeleton("Md", period.start, locale=self.locale)
        if by is Granularity.MONTH:
            return format_skeleton("yM", period.start, locale=self.locale)
        return self.period(bucket_of(period.start, by))

    def _bucket(self, whole: Period, by: Granularity) -> str:
        if by is Granularity.MONTH:
            return _capital(format_skeleton("yMMMM", whole.start, locale=self.locale))
        if by is Granularity.QUARTER:
            return _capital(format_skeleton("yQQQQ", whole.start, locale=self.locale))
        half = 0 if whole.start.month == 1 else 1
        return _HALVES[self._words][half].format(year=whole.start.year)

    @property
    def _words(self) -> str:
        return self.lang if self.lang in _HALVES else "vi"


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
