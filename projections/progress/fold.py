"""The counting rules of unit daily progress, as a fold over facts. No I/O.

For every (receiving unit, procedure, day in Vietnam) the fold keeps the flows of that day
(received by channel, resolved early / on time / late, withdrawn, refused, supplements
requested, results returned by method) and two *stock deltas*: pending within the deadline
and overdue. A stock at the end of a day is the sum of its deltas up to that day, so a
pending dossier changes the figures only when it is received, when its counted due date or
its clock changes, when its due date passes, and when it leaves. The rules, in
docs/decisions/0008-unit-daily-progress.md:

- Figures belong to the receiving unit (the unit of the dossier's first event).
- Received counts on the day of ``dossier.received``, by its channel.
- Resolved counts on the day of ``dossier.resolved``, comparing that day with the counted
  due date (apology slips do not move it): earlier is early, the same day on time, later
  late.
- Pending: received and in status 2, 4, 5, 6 or 8. Overdue at the end of a day once its
  counted due date is that day or earlier; while waiting for the applicant (5, 6) or
  stopped (8) its clock is stopped and it counts within the deadline.
- Withdrawn counts dossiers withdrawn after they were received; refused, dossiers refused
  at the desk.

The sums are commutative, so any split of the log into batches, and any interleaving of
dossiers across workers, gives the same rows; only each dossier's own order matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from projections.progress.facts import Fact

METRICS: Final = (
    "received_walk_in",
    "received_online",
    "received_post",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "withdrawn",
    "refused",
    "supplements_requested",
    "returned_direct",
    "returned_post",
    "returned_online",
    "pending_within_delta",
    "overdue_delta",
)
(
    RECEIVED_WALK_IN,
    RECEIVED_ONLINE,
    RECEIVED_POST,
    EARLY,
    ON_TIME,
    LATE,
    WITHDRAWN,
    REFUSED,
    SUPPLEMENTS,
    RETURNED_DIRECT,
    RETURNED_POST,
    RETURNED_ONLINE,
    WITHIN,
    OVERDUE,
) = range(len(METRICS))
_RECEIVED_BY_CHANNEL: Final = {1: RECEIVED_WALK_IN, 2: RECEIVED_ONLINE, 3: RECEIVED_POST}
_RETURNED_BY_METHOD: Final = {0: RETURNED_DIRECT, 1: RETURNED_POST, 2: RETURNED_ONLINE}
_PENDING: Final = frozenset({2, 4, 5, 6, 8})
_CLOCK_RUNS: Final = frozenset({2, 4})
_TERMINAL: Final = frozenset({3, 7, 10})  # no event is accepted after these
_OPENING: Final = frozenset({"dossier.registered", "dossier.received", "dossier.refused"})
UNKNOWN_PROCEDURE: Final = ""

RowKey = tuple[str, str, date]  # (unit code, procedure code, day)


@dataclass(slots=True)
class OpenDossier:
    """What the fold remembers of a dossier that may still have events."""

    unit: str
    procedure: str
    status: int
    received: bool = False
    pending: bool = False
    due: date | None = None  # the counted due date while pending with its clock running


class ProgressFold:
    """Folds facts into per-(unit, procedure, day) rows of :data:`METRICS`.

    ``dossiers`` holds only dossiers that are not closed: memory grows with the dossiers in
    progress, not with the length of the log.
    """

    def __init__(self, dossiers: dict[str, OpenDossier] | None = None) -> None:
        self.dossiers: dict[str, OpenDossier] = {} if dossiers is None else dossiers
        self.rows: dict[RowKey, list[int]] = {}
        self.touched: set[str] = set()  # dossier codes whose state changed since take()
        self.unknown: list[Fact] = []  # facts of dossiers never opened (not counted)

    def apply(self, fact: Fact) -> None:
        code = fact.dossier_code
        dossier = self.dossiers.get(code)
        kind = fact.event_type
        if dossier is None:
            if kind not in _OPENING:
                self.unknown.append(fact)
                return
            dossier = OpenDossier(fact.unit_code, fact.procedure_code or UNKNOWN_PROCEDURE, 0)
            self.dossiers[code] = dossier
        self.touched.add(code)
        day = fact.day
        if kind == "dossier.received":
            dossier.procedure = fact.procedure_code or dossier.procedure
            dossier.received = True
            self._add(dossier, day, _RECEIVED_BY_CHANNEL[fact.channel or 1], 1)
        elif kind == "dossier.resolved":
            due = fact.counted_due_day
            outcome = ON_TIME if due is None or day == due else EARLY if day < due else LATE
            self._add(dossier, day, outcome, 1)
        elif kind == "dossier.result_returned":
            self._add(dossier, day, _RETURNED_BY_METHOD[fact.return_method or 0], 1)
        elif kind == "dossier.supplement_requested":
            self._add(dossier, day, SUPPLEMENTS, 1)
        elif kind == "dossier.withdrawn":
            if dossier.received:
                self._add(dossier, day, WITHDRAWN, 1)
        elif kind == "dossier.refused":
            dossier.procedure = fact.procedure_code or dossier.procedure
            self._add(dossier, day, REFUSED, 1)
        elif kind == "dossier.registered":
            dossier.procedure = fact.procedure_code or dossier.procedure
        status = fact.status_after
        pending = dossier.received and status in _PENDING
        due = fact.counted_due_day if pending and status in _CLOCK_RUNS else None
        if pending != dossier.pending or due != dossier.due:
            if dossier.pending:
                self._pending_from(dossier, day, dossier.due, -1)
            if pending:
                self._pending_from(dossier, day, due, 1)
            dossier.pending, dossier.due = pending, due
        dossier.status = status
        if status in _TERMINAL:
            del self.dossiers[code]

    def take(self) -> tuple[dict[RowKey, list[int]], set[str]]:
        """The rows and the touched dossier codes since the last take; both reset."""
        rows, touched = self.rows, self.touched
        self.rows, self.touched = {}, set()
        return rows, touched

    def _pending_from(self, dossier: OpenDossier, day: date, due: date | None, n: int) -> None:
        """Count ``dossier`` (n=1) or stop counting it (n=-1) as pending from ``day`` on."""
        if due is None or day < due:
            self._add(dossier, day, WITHIN, n)
            if due is not None:
                self._add(dossier, due, WITHIN, -n)
                self._add(dossier, due, OVERDUE, n)
        else:
            self._add(dossier, day, OVERDUE, n)

    def _add(self, dossier: OpenDossier, day: date, metric: int, n: int) -> None:
        key = (dossier.unit, dossier.procedure, day)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0] * len(METRICS)
        row[metric] += n
