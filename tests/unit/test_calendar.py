from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from events.enums import TimeUnit
from events.models import ProcessingTime
from hub.adapters.calendar_files import CalendarFileError, build_calendar, load_year_files
from hub.domain.calendar import OfficeHours, WorkingCalendar
from hub.domain.vietnam import VIETNAM
from tests.factories import at

CALENDAR = WorkingCalendar()


def days(n: int | str, unit: TimeUnit = TimeUnit.WORKING_DAYS) -> ProcessingTime:
    return ProcessingTime(value=Decimal(n), unit=unit)


def test_weekends_and_public_holidays_are_not_working_days() -> None:
    assert not CALENDAR.is_working_day(date(2021, 3, 13))  # Saturday
    assert not CALENDAR.is_working_day(date(2021, 2, 12))  # Lunar New Year
    assert not CALENDAR.is_working_day(date(2021, 4, 21))  # Hùng Kings, 10th of 3rd lunar month
    assert not CALENDAR.is_working_day(date(2021, 9, 2))
    assert CALENDAR.is_working_day(date(2021, 3, 15))


def test_working_days_skip_the_lunar_new_year() -> None:
    # Monday 8 Feb 2021, 3 working days: 8 (rest), 9, [10-16 Tết], 17, 18.
    assert CALENDAR.due_at(at("2021-02-08 09:00"), days(3)) == at("2021-02-18 09:00")


def test_after_hours_starts_the_next_working_morning() -> None:
    # Friday 17:30: counting starts Monday 07:00; three full days end Wednesday 17:00.
    assert CALENDAR.due_at(at("2021-03-12 17:30"), days(3)) == at("2021-03-17 17:00")


def test_lunch_break_does_not_count() -> None:
    start = at("2021-03-15 11:00")
    assert CALENDAR.due_at(start, days(2, TimeUnit.WORKING_HOURS)) == at("2021-03-15 15:00")


def test_half_a_working_day() -> None:
    # A working day is 8 office hours; half of it from 07:00 ends at 11:00.
    assert CALENDAR.due_at(at("2021-03-15 07:00"), days("0.5")) == at("2021-03-15 11:00")


def test_calendar_days_ending_on_a_day_off_move_to_the_next_working_day() -> None:
    # 10 calendar days from Thursday 25 March end on Sunday 4 April -> Monday 5 April.
    assert CALENDAR.due_at(at("2021-03-25 10:00"), days(10, TimeUnit.CALENDAR_DAYS)) == at(
        "2021-04-05 17:00"
    )


def test_year_files_add_days_off_and_working_days(tmp_path: Path) -> None:
    (tmp_path / "2021.yaml").write_text(
        "year: 2021\n"
        "days_off:\n  - {date: 2021-03-16, note: provincial day}\n"
        "working_days:\n  - {date: 2021-03-20, note: swapped Saturday}\n"
    )
    calendar = build_calendar(tmp_path, "07:00-11:30,13:30-17:00")
    assert not calendar.is_working_day(date(2021, 3, 16))
    assert calendar.is_working_day(date(2021, 3, 20))
    # Monday 09:00 + 3 days: Mon (rest), [Tue off], Wed, Thu, Fri 09:00.
    assert calendar.due_at(at("2021-03-15 09:00"), days(3)) == at("2021-03-19 09:00")


def test_year_file_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "2021.yaml").write_text("year: 2021\ndays_off:\n  - {date: 2022-01-03}\n")
    with pytest.raises(CalendarFileError, match=r"2021\.yaml.*not in year 2021"):
        load_year_files(tmp_path)
    (tmp_path / "2021.yaml").write_text("year: 2022\n")
    with pytest.raises(CalendarFileError, match="file name must be the year"):
        load_year_files(tmp_path)


def test_a_day_cannot_be_both_off_and_working(tmp_path: Path) -> None:
    (tmp_path / "2021.yaml").write_text(
        "year: 2021\ndays_off: [{date: 2021-03-16}]\nworking_days: [{date: 2021-03-16}]\n"
    )
    with pytest.raises(CalendarFileError, match="2021-03-16"):
        build_calendar(tmp_path, "07:00-11:30,13:30-17:00")


def test_office_hours_are_validated() -> None:
    assert OfficeHours.parse("08:00-12:00").per_day == timedelta(hours=4)
    with pytest.raises(ValueError, match="must start before it ends"):
        OfficeHours.parse("13:00-12:00")
    with pytest.raises(ValueError, match="not a period"):
        OfficeHours.parse("eight to noon")


instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=VIETNAM)
)
durations = st.integers(min_value=0, max_value=60 * 8 * 40).map(lambda m: timedelta(minutes=m))


def _in_office_hours(moment: datetime) -> bool:
    local = moment.astimezone(VIETNAM)
    if not CALENDAR.is_working_day(local.date()):
        return False
    return any(start <= local.time() <= end for start, end in CALENDAR.office_hours.periods)


@settings(max_examples=300, deadline=None)
@given(instants, durations)
def test_adding_working_time_lands_in_office_hours_and_is_measured_back(
    start: datetime, amount: timedelta
) -> None:
    end = CALENDAR.add_working_time(start, amount)
    assert end >= start
    assert _in_office_hours(end)
    assert CALENDAR.working_time_between(start, end) == amount


@settings(max_examples=200, deadline=None)
@given(instants, durations, durations)
# The first step ends at the close of a day; adding nothing then moves to the next morning.
@example(at("2020-01-02 07:00"), timedelta(hours=8), timedelta())
def test_adding_working_time_is_additive(start: datetime, a: timedelta, b: timedelta) -> None:
    in_two_steps = CALENDAR.add_working_time(CALENDAR.add_working_time(start, a), b)
    in_one = CALENDAR.add_working_time(start, a + b)
    if b:
        assert in_two_steps == in_one
    else:
        # Zero added at a closing instant waits for the next opening: no office time passes.
        assert in_two_steps >= in_one
        assert CALENDAR.working_time_between(in_one, in_two_steps) == timedelta()


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=30))
def test_more_working_days_never_give_an_earlier_due_date(start: datetime, n: int, m: int) -> None:
    shorter, longer = sorted((n, m))
    assert CALENDAR.due_at(start, days(shorter)) <= CALENDAR.due_at(start, days(longer))


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=1, max_value=60))
def test_calendar_day_deadlines_end_at_close_of_a_working_day(start: datetime, n: int) -> None:
    due = CALENDAR.due_at(start, days(n, TimeUnit.CALENDAR_DAYS))
    assert CALENDAR.is_working_day(due.date())
    assert due.time() == time(17, 0)
    assert due.date() >= start.astimezone(VIETNAM).date() + timedelta(days=n)
