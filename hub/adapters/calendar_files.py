"""Load the per-year files of extra days off and extra working days.

Each year the government moves working days around public holidays; the province keeps
one YAML file per year (``2025.yaml``) in a directory named by ``DVCHUB_CALENDAR_DIR``::

    year: 2025
    days_off:
      - {date: 2025-05-02, note: "swapped with Saturday 26 April"}
    working_days:
      - {date: 2025-04-26, note: "worked in place of Friday 2 May"}
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from hub.domain.calendar import OfficeHours, WorkingCalendar


class CalendarFileError(ValueError):
    """A calendar file cannot be used; the message names the file and the problem."""


class _Day(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: date
    note: str | None = None


class YearFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    days_off: list[_Day] = []
    working_days: list[_Day] = []

    @model_validator(mode="after")
    def _dates_in_year(self) -> YearFile:
        for entry in (*self.days_off, *self.working_days):
            if entry.date.year != self.year:
                raise ValueError(f"{entry.date.isoformat()} is not in year {self.year}")
        return self


def load_year_files(directory: Path) -> tuple[frozenset[date], frozenset[date]]:
    """Read every ``YYYY.yaml`` in ``directory``; return (days off, working days)."""
    if not directory.is_dir():
        raise CalendarFileError(f"calendar directory {directory} does not exist")
    days_off: set[date] = set()
    working: set[date] = set()
    for path in sorted(directory.glob("*.yaml")):
        try:
            year = YearFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as error:
            raise CalendarFileError(f"{path}: not YAML: {error}") from None
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'file'}: "
                + e["msg"].removeprefix("Value error, ")
                for e in error.errors(include_url=False)
            )
            raise CalendarFileError(f"{path}: {problems}") from None
        if path.stem != str(year.year):
            raise CalendarFileError(f"{path}: file name must be the year, {year.year}.yaml")
        days_off.update(d.date for d in year.days_off)
        working.update(d.date for d in year.working_days)
    return frozenset(days_off), frozenset(working)


def build_calendar(directory: Path | None, office_hours: str) -> WorkingCalendar:
    days_off, working = load_year_files(directory) if directory else (frozenset(), frozenset())
    try:
        return WorkingCalendar(
            office_hours=OfficeHours.parse(office_hours),
            extra_days_off=days_off,
            extra_working_days=working,
        )
    except ValueError as error:
        raise CalendarFileError(str(error)) from None
