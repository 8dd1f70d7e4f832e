"""The window of instants the hub accepts: what legacy systems send as dates is checked
before the lifecycle sees it. No I/O.

Agency systems write "no deadline" as 9999-12-31, a null date as 0001-01-01, and some run
on clocks set years ahead. Stored for ever, such an instant would stop every dossier's
later events (``occurred_before_previous``) or overflow the read side's day arithmetic. So
every instant an event carries must lie in a window: not before :attr:`TimeWindow.earliest`,
``occurred_at`` no later than the hub's receipt plus :attr:`TimeWindow.max_skew`, and due
dates no further than :attr:`TimeWindow.due_horizon` after the event that sets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from events.errors import EventRejected
from events.models import DossierEvent
from events.reasons import RejectReason

#: Result documents valid longer than this are written without ``valid_until``.
LONGEST_VALIDITY = timedelta(days=100 * 366)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    earliest: date = date(2000, 1, 1)
    max_skew: timedelta = timedelta(minutes=5)
    due_horizon: timedelta = timedelta(days=3_660)

    def check(self, event: DossierEvent, received_at: datetime) -> None:
        """Raise :class:`EventRejected` if an instant of ``event`` is outside the window;
        ``received_at`` is when the hub received it."""
        occurred = event.occurred_at
        self._not_before_earliest(occurred, "occurred_at")
        if _later(occurred, received_at + self.max_skew):
            raise EventRejected(
                RejectReason.OCCURRED_IN_FUTURE,
                f"occurred_at {occurred.isoformat()} is after the hub received the event "
                f"({received_at.isoformat(timespec='seconds')}) by more than the allowed "
                f"clock skew of {int(self.max_skew.total_seconds())} s; check the sending "
                "system's clock",
                field="occurred_at",
            )
        if event.event_type == "dossier.received" and event.payload.due_at is not None:
            self._due(event.payload.due_at, occurred, "payload.due_at")
        elif event.event_type == "dossier.deadline_extended":
            self._due(event.payload.new_due_at, occurred, "payload.new_due_at")
        elif event.event_type == "dossier.resolved":
            for index, document in enumerate(event.payload.result_documents):
                where = f"payload.result_documents.{index}"
                self._day_not_before_earliest(document.issued_on, f"{where}.issued_on")
                latest = (received_at + self.max_skew).date() + timedelta(days=1)
                if document.issued_on > latest:
                    raise EventRejected(
                        RejectReason.DATE_OUT_OF_RANGE,
                        f"{where}.issued_on {document.issued_on} is in the future",
                        field=f"{where}.issued_on",
                    )
                if document.valid_until is not None:
                    self._day_not_before_earliest(document.valid_until, f"{where}.valid_until")
                    if document.valid_until > document.issued_on + LONGEST_VALIDITY:
                        raise EventRejected(
                            RejectReason.DATE_OUT_OF_RANGE,
                            f"{where}.valid_until {document.valid_until} is over 100 years "
                            "after issued_on; leave it out for a result that does not expire",
                            field=f"{where}.valid_until",
                        )

    def check_due(self, due: datetime, set_at: datetime, field: str | None) -> None:
        """A due date the hub computed (or was given) for an event at ``set_at``."""
        self._due(due, set_at, field)

    def _due(self, due: datetime, set_at: datetime, field: str | None) -> None:
        self._not_before_earliest(due, field or "due date")
        if _later(due, set_at + self.due_horizon):
            raise EventRejected(
                RejectReason.DUE_BEYOND_HORIZON,
                f"{field or 'the computed due date'} {due.isoformat()} is more than "
                f"{self.due_horizon.days} days after the event ({set_at.isoformat()}); "
                "a sentinel such as 9999-12-31 is not a due date",
                field=field,
            )

    def _not_before_earliest(self, instant: datetime, field: str) -> None:
        # Wall-clock time: an offset applied to year 1 would overflow, and hours do not
        # matter at this bound.
        if instant.replace(tzinfo=None) < datetime.combine(self.earliest, time()):
            raise EventRejected(
                RejectReason.BEFORE_EARLIEST_DATE,
                f"{field} {instant.isoformat()} is before {self.earliest.isoformat()}, the "
                "earliest date the hub accepts; a sentinel such as 0001-01-01 is not a date",
                field=field,
            )

    def _day_not_before_earliest(self, day: date, field: str) -> None:
        if day < self.earliest:
            raise EventRejected(
                RejectReason.BEFORE_EARLIEST_DATE,
                f"{field} {day.isoformat()} is before {self.earliest.isoformat()}, the "
                "earliest date the hub accepts",
                field=field,
            )


def _later(instant: datetime, bound: datetime) -> bool:
    """``instant > bound``, also for instants whose offset takes them past year 9999."""
    try:
        return instant > bound
    except OverflowError:
        return instant.replace(tzinfo=None) > bound.replace(tzinfo=None)
