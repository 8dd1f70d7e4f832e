"""The counting rules of unit daily progress, as a fold over facts. No I/O.

For every (receiving unit, procedure, day in Vietnam) the fold keeps the flows of that day
(received by channel, resolved early / on time / late, withdrawn, refused, supplements
requested, results returned by method) and two *stock deltas*: pending within the deadline
and overdue. A stock at the end of a day is the sum of its deltas up to that day, so a
pending dossier changes the figures only when it is received, when its counted due date or
its clock changes, when its due date passes, and when it leaves. The rules, in
docs/decisions/0008-unit-daily-progress.md:

- Figures belong to the dossier's unit: the competent authority it was received for
  (``authority_code``), or else the unit of its first event. Reception is counted apart,
  where it happened: received and refused at the desk count under the unit of that event,
  so a service centre receiving for an authority elsewhere in the province counts the
  reception and the authority counts the rest (decision 0022).
- Received counts on the day of ``dossier.received``, by its channel.
- Resolved counts on the day of ``dossier.resolved``, comparing that day with the counted
  due date (apology slips do not move it): earlier is early, the same day on time, later
  late (:func:`hub.domain.standing.resolution`).
- Pending: received and in a status of :data:`hub.domain.standing.PENDING`. Overdue at the
  end of a day once its counted due date is that day or earlier, while its clock runs
  (:data:`~hub.domain.standing.CLOCK_RUNS`); while waiting for the applicant or stopped its
  clock is stopped and it counts within the deadline (the domain's
  :func:`~hub.domain.standing.overdue` at the end of each day, worked out here as stock
  deltas; ``tests/unit/test_standing.py`` checks the two agree).
- Withdrawn counts dossiers withdrawn after they were received; refused, dossiers refused
  at the desk.

The sums are commutative, so any split of the log into batches, and any interleaving of
dossiers across workers, gives the same figures; only each dossier's own order matters.

A dossier's turning overdue at the end of its due date is written when it is known to
matter: when the dossier leaves on or after that date, or, if it is still pending, when
the batch is taken. Most dossiers leave in time, so a rebuild that folds a long stretch in
one batch never writes the turn and its taking back. Rows whose figures are all zero carry
nothing and are not kept: which of them a fold would leave depends on its batches.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from hub.domain.event_types import OPENING
from hub.domain.standing import CLOCK_RUNS, CLOSED, PENDING, Standing, resolution
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
_CHANNELS: Final = frozenset({None, *_RECEIVED_BY_CHANNEL})
_METHODS: Final = frozenset({None, *_RETURNED_BY_METHOD})
# The domain's sets, as plain ints: facts carry statuses as ints, and int lookups are faster.
_PENDING: Final = frozenset(int(s) for s in PENDING)
_CLOCK_RUNS: Final = frozenset(int(s) for s in CLOCK_RUNS)
_TERMINAL: Final = frozenset(int(s) for s in CLOSED)  # no event is accepted after these
_OPENING: Final = OPENING
_NAMING: Final = _OPENING  # the events that carry (and may set) the procedure
_RESOLVED: Final = {Standing.EARLY: EARLY, Standing.ON_TIME: ON_TIME, Standing.LATE: LATE}
_WIDTH: Final = len(METRICS)
UNKNOWN_PROCEDURE: Final = ""

RowKey = tuple[str, str, date]  # (unit code, procedure code, day)
#: A dossier resolved late: (dossier code, receiving unit, procedure, counted due day, day
#: resolved). The lists of late dossiers are made of these.
LateRow = tuple[str, str, str, date | None, date]
_BATCHES: Final = itertools.count()  # numbers every fold's batches apart
Cells = dict[date, list[int]]  # one (unit, procedure)'s rows of a batch, by day


class UnfoldableFact(ValueError):
    """A fact the counting rules have no place for."""


@dataclass(slots=True)
class OpenDossier:
    """What the fold remembers of a dossier that may still have events."""

    unit: str
    procedure: str
    status: int
    received: bool = False
    pending: bool = False
    due: date | None = None  # the counted due date while pending with its clock running
    # Its turn to overdue at ``due`` is not written yet (never so between batches).
    owes_turn: bool = field(default=False, repr=False, compare=False)
    # Where its figures go in the fold's current batch (not kept: a lookup saved per event).
    cells: Cells | None = field(default=None, repr=False, compare=False)
    batch: int = field(default=-1, repr=False, compare=False)


class ProgressFold:
    """Folds facts into per-(unit, procedure, day) rows of :data:`METRICS`.

    ``dossiers`` holds only dossiers that are not closed: memory grows with the dossiers in
    progress, not with the length of the log. The rows of a batch are kept by (unit,
    procedure), then by day, and each open dossier holds on to its (unit, procedure)'s
    cells: a rebuild folds millions of events, and this spares a tuple key per figure.
    """

    def __init__(self, dossiers: dict[str, OpenDossier] | None = None) -> None:
        self.dossiers: dict[str, OpenDossier] = {} if dossiers is None else dossiers
        self.touched: set[str] = set()  # dossier codes whose state changed since take()
        self.unknown: list[Fact] = []  # facts of dossiers never opened (not counted)
        self.late: list[LateRow] = []  # resolved late since take_late()
        self._cells: dict[tuple[str, str], Cells] = {}
        self._batch = next(_BATCHES)

    def apply(self, fact: Fact) -> None:
        """Fold one fact; a fact the rules cannot count raises :class:`UnfoldableFact`
        before anything changes."""
        if fact.channel not in _CHANNELS or fact.return_method not in _METHODS:
            raise UnfoldableFact(
                f"event at position {fact.position}: channel {fact.channel!r} or return "
                f"method {fact.return_method!r} is not a code the figures count"
            )
        code = fact.dossier_code
        dossier = self.dossiers.get(code)
        kind = fact.event_type
        if dossier is None:
            if kind not in _OPENING:
                self.unknown.append(fact)
                return
            unit = fact.authority_code or fact.unit_code
            dossier = OpenDossier(unit, fact.procedure_code or UNKNOWN_PROCEDURE, 0)
            self.dossiers[code] = dossier
        self.touched.add(code)
        if kind in _NAMING:
            if fact.procedure_code and fact.procedure_code != dossier.procedure:
                dossier.procedure = fact.procedure_code
                dossier.batch = -1
            if fact.authority_code and fact.authority_code != dossier.unit:
                dossier.unit = fact.authority_code  # not pending yet: no stock to move
                dossier.batch = -1
        cells = dossier.cells
        if cells is None or dossier.batch != self._batch:
            cells = self._cells_of(dossier)
        day = fact.day
        if kind == "dossier.received":
            dossier.received = True
            desk = cells if fact.unit_code == dossier.unit else self._cells_at(fact, dossier)
            _add(desk, day, _RECEIVED_BY_CHANNEL[fact.channel or 1], 1)
        elif kind == "dossier.resolved":
            judged = resolution(day, fact.counted_due_day)
            _add(cells, day, _RESOLVED[judged], 1)
            if judged is Standing.LATE:
                self.late.append((code, dossier.unit, dossier.procedure, fact.counted_due_day, day))
        elif kind == "dossier.result_returned":
            _add(cells, day, _RETURNED_BY_METHOD[fact.return_method or 0], 1)
        elif kind == "dossier.supplement_requested":
            _add(cells, day, SUPPLEMENTS, 1)
        elif kind == "dossier.withdrawn":
            if dossier.received:
                _add(cells, day, WITHDRAWN, 1)
        elif kind == "dossier.refused":
            desk = cells if fact.unit_code == dossier.unit else self._cells_at(fact, dossier)
            _add(desk, day, REFUSED, 1)
        status = fact.status_after
        pending = dossier.received and status in _PENDING
        due = fact.counted_due_day if pending and status in _CLOCK_RUNS else None
        if pending != dossier.pending or due != dossier.due:
            if dossier.pending:
                _leave_pending(cells, dossier, day)
            if pending:
                _enter_pending(cells, dossier, day, due)
            dossier.pending, dossier.due = pending, due
        dossier.status = status
        if status in _TERMINAL:
            del self.dossiers[code]

    def take(self) -> tuple[dict[RowKey, list[int]], set[str]]:
        """The rows (none all zero) and the touched dossier codes since the last take; both
        reset. Dossiers still pending have their turn to overdue written first."""
        for code in self.touched:
            dossier = self.dossiers.get(code)
            if dossier is not None and dossier.owes_turn:
                cells = dossier.cells
                if cells is None or dossier.batch != self._batch:
                    cells = self._cells_of(dossier)
                _turn_overdue(cells, dossier)
        rows = {
            (unit, procedure, day): values
            for (unit, procedure), cells in self._cells.items()
            for day, values in cells.items()
            if any(values)
        }
        for cells in self._cells.values():
            cells.clear()  # open dossiers still point at them until their next event
        touched = self.touched
        self._cells, self.touched = {}, set()
        self._batch = next(_BATCHES)
        return rows, touched

    def take_late(self) -> list[LateRow]:
        """The dossiers resolved late since the last call."""
        late, self.late = self.late, []
        return late

    def _cells_at(self, fact: Fact, dossier: OpenDossier) -> Cells:
        """The cells of the unit where ``fact`` happened, for ``dossier``'s procedure."""
        key = (fact.unit_code, dossier.procedure)
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = {}
        return cells

    def _cells_of(self, dossier: OpenDossier) -> Cells:
        key = (dossier.unit, dossier.procedure)
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = {}
        dossier.cells, dossier.batch = cells, self._batch
        return cells


def _enter_pending(cells: Cells, dossier: OpenDossier, day: date, due: date | None) -> None:
    """Count ``dossier`` as pending from ``day`` on: within the deadline until ``due`` (the
    turn owed), overdue from the start if ``due`` is that day or earlier."""
    if due is None or day < due:
        _add(cells, day, WITHIN, 1)
        dossier.owes_turn = due is not None
    else:
        _add(cells, day, OVERDUE, 1)


def _leave_pending(cells: Cells, dossier: OpenDossier, day: date) -> None:
    """Stop counting ``dossier`` (pending until ``dossier.due``) as pending from ``day``."""
    due = dossier.due
    if dossier.owes_turn:
        if due is not None and day >= due:
            _turn_overdue(cells, dossier)  # it did turn: left on its due date or later
        else:
            dossier.owes_turn = False  # left in time: the turn never happened
            _add(cells, day, WITHIN, -1)
            return
    if due is None or day < due:
        _add(cells, day, WITHIN, -1)
        if due is not None:  # take back the turn written for a due date not reached
            _add(cells, due, WITHIN, 1)
            _add(cells, due, OVERDUE, -1)
    else:
        _add(cells, day, OVERDUE, -1)


def _turn_overdue(cells: Cells, dossier: OpenDossier) -> None:
    """Write ``dossier``'s owed turn from within the deadline to overdue, at its due date."""
    assert dossier.due is not None
    _add(cells, dossier.due, WITHIN, -1)
    _add(cells, dossier.due, OVERDUE, 1)
    dossier.owes_turn = False


def _add(cells: Cells, day: date, metric: int, n: int) -> None:
    row = cells.get(day)
    if row is None:
        row = cells[day] = [0] * _WIDTH
    row[metric] += n
