"""What the progress projection needs of an accepted event, and nothing more.

Reading only these fields keeps a rebuild fast: the PostgreSQL rebuild asks the server for
exactly them (see :mod:`projections.progress.log_scan`), the live runner takes them from
the bus record with :func:`fact_of`. Both must agree; a test compares the two.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple

from hub.domain.vietnam import VIETNAM


class Fact(NamedTuple):
    position: int
    dossier_code: str
    event_type: str
    unit_code: str
    day: date  # the day it occurred, in Vietnam
    status_after: int
    counted_due_day: date | None  # the counted due date after it, in Vietnam
    procedure_code: str | None
    channel: int | None
    return_method: int | None
    #: The competent authority a dossier was received for, when not the receiving unit.
    authority_code: str | None = None


def vietnam_day(instant: str) -> date:
    """The date in Vietnam of an RFC 3339 instant."""
    if instant.endswith("+07:00"):  # Vietnam has kept UTC+7 since 1975: the date is as written
        return date.fromisoformat(instant[:10])
    return datetime.fromisoformat(instant).astimezone(VIETNAM).date()


def fact_of(position: int, record: dict[str, Any], transition: dict[str, Any]) -> Fact:
    """The fact of a published event (its ``record`` and ``transition`` as JSON objects)."""
    payload = record["payload"]
    due = transition.get("counted_due_after")
    return Fact(
        position,
        record["dossier_code"],
        record["event_type"],
        record["unit_code"],
        vietnam_day(record["occurred_at"]),
        int(transition["status_after"]),
        None if due is None else vietnam_day(due),
        payload.get("procedure_code"),
        payload.get("channel"),
        payload.get("method"),
        payload.get("authority_code"),
    )
