"""Where a dossier stands: the named sets of statuses, and the one classifier of early, on
time, late, pending within the deadline and overdue. No I/O.

Every reader of the log that judges a dossier — the figures (projections.progress), the
auditor's history (hub.audit.history), the portal connector and the reuse index — asks here,
so that they cannot disagree (decisions 0004 and 0008):

- a dossier is *pending* from its reception until it is finished, withdrawn or refused;
- its deadline clock runs only while it is received or processing; waiting for the applicant
  (a supplement, a financial obligation) or stopped, the clock stands still, so it is
  *within* its deadline however far past the old due date the wait goes;
- pending with the clock running, it is *overdue* once its counted due date has passed (at
  the end of a day: on its due day or later);
- resolved, it is early, on time or late by the date it finished against the counted due
  date (an apology slip's new date does not count);
- withdrawn and refused dossiers are reported apart.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Final

from events.enums import DossierStatus

S = DossierStatus

#: Received and not finished, withdrawn or refused.
PENDING: Final = frozenset(
    {S.RECEIVED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION_REQUESTED, S.STOPPED}
)
#: Pending with the deadline clock running.
CLOCK_RUNS: Final = frozenset({S.RECEIVED, S.PROCESSING})
#: Pending with the clock stopped: waiting for the applicant, or processing stopped.
WAITING: Final = frozenset({S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION_REQUESTED, S.STOPPED})
#: Processing finished (a result, approving or denying), returned or not.
FINISHED: Final = frozenset({S.FINISHED, S.RESULT_RETURNED})
#: No event is accepted after these.
CLOSED: Final = frozenset({S.NOT_RECEIVED, S.WITHDRAWN, S.RESULT_RETURNED})


class Standing(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    WITHIN = "pending"  # pending, within its deadline
    OVERDUE = "overdue"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"


def resolution(finished_on: date, due_on: date | None) -> Standing:
    """A finished dossier, by the day it finished against its counted due day (none: on
    time)."""
    if due_on is None or finished_on == due_on:
        return Standing.ON_TIME
    return Standing.EARLY if finished_on < due_on else Standing.LATE


def overdue(status: int, counted_due: datetime | None, moment: datetime) -> bool:
    """Pending with the clock running and its counted due date passed at ``moment``."""
    return status in CLOCK_RUNS and counted_due is not None and moment > counted_due


def standing(
    status: int,
    counted_due: datetime | None,
    moment: datetime,
    finished_on: date | None = None,
    due_on: date | None = None,
) -> Standing | None:
    """Where a dossier with ``status`` stands at ``moment``; None before it was received.
    A finished one needs ``finished_on`` and its counted ``due_on`` (Vietnam dates)."""
    if status in FINISHED:
        if finished_on is None:
            raise ValueError("a finished dossier is judged by the day it finished")
        return resolution(finished_on, due_on)
    if status == S.WITHDRAWN:
        return Standing.WITHDRAWN
    if status == S.NOT_RECEIVED:
        return Standing.REFUSED
    if status not in PENDING:
        return None
    return Standing.OVERDUE if overdue(status, counted_due, moment) else Standing.WITHIN
