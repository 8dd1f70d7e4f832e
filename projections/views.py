"""Two views of the figures across a reorganisation of the units. No I/O of its own.

- **As organised then** (:attr:`View.THEN`): each day's figures under the units that existed
  that day. The read model keeps figures under the unit codes the events named, so a
  dossier of a merged commune still in flight after the merger has its later figures under
  the old code: for the days after the old unit ended, they go to its successor. Stocks at the
  end of the period go to the units of its last day, those carried over to the units of its
  first.
- **Restated** (:attr:`View.RESTATED`): every figure of any period summed onto the units of
  one day (today), through the succession: a merged unit's figures go wholly to its
  successor; a split unit's go to its successors by their shares, each count allocated in
  whole dossiers by the largest remainder (so a unit's figures are spread without loss: the
  parts add up to the whole, every dossier counted once).

Without any merger, split or dissolution the two views are the figures as recorded. A unit
dissolved with no successor keeps its figures under its own code in both views.
See docs/decisions/0022-dossiers-across-the-reorganisation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import date, timedelta
from fractions import Fraction

from hub.adapters.sql import ReadModelDatabase
from hub.domain.unit_tree import UnitTree
from projections.choices import View
from projections.periods import Granularity, Period
from projections.progress import queries
from projections.progress.queries import Totals


def allocate(count: int, shares: Mapping[str, Fraction]) -> dict[str, int]:
    """``count`` spread over ``shares`` (summing to 1) in whole numbers that add up to it:
    each takes the whole part of its share, the rest go one by one to the largest
    remainders (ties: the larger share, then the code)."""
    if count < 0:
        return {code: -n for code, n in allocate(-count, shares).items()}
    exact = {code: share * count for code, share in shares.items()}
    whole = {code: int(value) for code, value in exact.items()}
    left = count - sum(whole.values())
    order = sorted(exact, key=lambda code: (-(exact[code] - whole[code]), -shares[code], code))
    for code in order[:left]:
        whole[code] += 1
    return whole


def spread(totals: Totals, shares: Mapping[str, Fraction]) -> dict[str, Totals]:
    """``totals`` spread over ``shares``, every figure allocated by :func:`allocate`."""
    if len(shares) == 1:
        return {next(iter(shares)): totals}
    parts = {code: Totals() for code in shares}
    for item in fields(Totals):
        for code, n in allocate(getattr(totals, item.name), shares).items():
            setattr(parts[code], item.name, getattr(parts[code], item.name) + n)
    return parts


def _carriers(tree: UnitTree, code: str, day: date) -> dict[str, Fraction]:
    """Who carries ``code``'s figures on ``day``: its successors, or itself if it has none
    (dissolved: its figures stay under its own code rather than vanish)."""
    return tree.successors(code, day) or {code: Fraction(1)}


def _add(into: dict[str, Totals], code: str, totals: Totals) -> None:
    into.setdefault(code, Totals()).add(totals)


def unit_totals(
    db: ReadModelDatabase,
    period: Period,
    tree: UnitTree | None,
    view: View,
    today: date,
) -> dict[str, Totals]:
    """Every unit's totals for ``period`` in ``view`` (restated onto the units of ``today``)."""
    if tree is None or not tree.changed:
        return queries.unit_totals(db, period)
    onto = today  # restated onto the units as they are, never as planned
    if view is View.RESTATED:
        cuts: list[date] = []
    else:
        cuts = tree.changes_between(period.start, period.end)
    starts = [period.start, *cuts]
    ends = [day - timedelta(1) for day in cuts] + [period.end]
    result: dict[str, Totals] = {}
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        segment = queries.unit_totals(db, Period(start, end, period.label))
        flows_on = onto if view is View.RESTATED else start
        for code, totals in segment.items():
            flows = replace(totals, pending_within_deadline=0, overdue=0, carried_over=0)
            for carrier, part in spread(flows, _carriers(tree, code, flows_on)).items():
                _add(result, carrier, part)
            if index == 0 and totals.carried_over:
                carried = Totals(carried_over=totals.carried_over)
                day = onto if view is View.RESTATED else period.start
                for carrier, part in spread(carried, _carriers(tree, code, day)).items():
                    _add(result, carrier, part)
            if index == len(starts) - 1 and totals.pending:
                stocks = Totals(
                    pending_within_deadline=totals.pending_within_deadline, overdue=totals.overdue
                )
                day = onto if view is View.RESTATED else period.end
                for carrier, part in spread(stocks, _carriers(tree, code, day)).items():
                    _add(result, carrier, part)
    return dict(sorted(result.items()))


# --- a unit's own figures in a view: its series and its procedures --------------------------


def weights(
    tree: UnitTree | None, codes: list[str], view: View, day: date, today: date
) -> dict[str, Fraction] | None:
    """The units whose figures make up ``codes``' figures on ``day`` in ``view``, each with
    the share that goes to ``codes``; None when it is ``codes`` alone, whole."""
    if tree is None or not tree.changed:
        return None
    wanted = set(codes)
    candidates = set(codes)
    for code in codes:
        candidates.update(tree.predecessors(code, max(day, today)))
    on = today if view is View.RESTATED else day
    found = {}
    for unit in candidates:
        share = sum(
            (part for carrier, part in _carriers(tree, unit, on).items() if carrier in wanted),
            Fraction(0),
        )
        if share:
            found[unit] = share
    if all(share == 1 for share in found.values()) and found.keys() == wanted:
        return None
    return found


def _scaled(totals: Totals, share: Fraction) -> Totals:
    """``totals`` times ``share``, each figure rounded half up (a part of a split unit)."""
    if share == 1:
        return totals
    scaled = Totals()
    for item in fields(Totals):
        value = getattr(totals, item.name) * share
        half_up = int(abs(value) + Fraction(1, 2))
        setattr(scaled, item.name, half_up if value >= 0 else -half_up)
    return scaled


def series(
    db: ReadModelDatabase,
    tree: UnitTree | None,
    codes: list[str],
    period: Period,
    by: Granularity,
    view: View,
    today: date,
) -> list[queries.SeriesPoint]:
    """``codes``' summed figures per bucket in ``view``, each bucket counted as a report
    counts a period (:func:`unit_totals`; a split unit's share allocated per bucket). Only a
    unit that carries others pays for this: a report's query per bucket."""
    if weights(tree, codes, view, period.end, today) is None:
        return queries.series(db, codes, period, by)
    points = []
    for bucket in period.buckets(by):
        totals = unit_totals_of(db, tree, codes, bucket, view, today)
        points.append(queries.SeriesPoint(bucket, totals))
    return points


def unit_totals_of(
    db: ReadModelDatabase,
    tree: UnitTree | None,
    codes: list[str],
    period: Period,
    view: View,
    today: date,
) -> Totals:
    """``codes``' figures together for ``period`` in ``view``."""
    found = unit_totals(db, period, tree, view, today)
    return Totals.summed(found[code] for code in codes if code in found)


def procedure_totals(
    db: ReadModelDatabase,
    tree: UnitTree | None,
    codes: list[str],
    period: Period,
    view: View,
    today: date,
) -> dict[str, Totals]:
    """``codes``' figures per procedure in ``view``: the units carried into ``codes``, by
    stretch of the period between changes, a split unit's share rounded per procedure."""
    if tree is None or weights(tree, codes, view, period.end, today) is None:
        return queries.procedure_totals(db, codes, period)
    cuts = [] if view is View.RESTATED else tree.changes_between(period.start, period.end)
    starts = [period.start, *cuts]
    ends = [day - timedelta(1) for day in cuts] + [period.end]
    result: dict[str, Totals] = {}
    for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
        stretch = Period(start, end, period.label)
        flows_of = weights(tree, codes, view, start, today) or dict.fromkeys(codes, Fraction(1))
        for share, units in _groups(flows_of).items():
            for procedure, totals in queries.procedure_totals(db, units, stretch).items():
                carried = totals.carried_over if index == 0 else 0
                flows = replace(totals, pending_within_deadline=0, overdue=0, carried_over=carried)
                _add(result, procedure, _scaled(flows, share))
        if index == len(starts) - 1:
            stocks_of = weights(tree, codes, view, end, today) or dict.fromkeys(codes, Fraction(1))
            for share, units in _groups(stocks_of).items():
                for procedure, totals in queries.procedure_totals(db, units, stretch).items():
                    stocks = Totals(
                        pending_within_deadline=totals.pending_within_deadline,
                        overdue=totals.overdue,
                    )
                    _add(result, procedure, _scaled(stocks, share))
    return dict(sorted(result.items()))


def _groups(shares: Mapping[str, Fraction]) -> dict[Fraction, list[str]]:
    groups: dict[Fraction, list[str]] = {}
    for unit, share in shares.items():
        groups.setdefault(share, []).append(unit)
    return groups


def carried(tree: UnitTree | None, codes: list[str], view: View, today: date) -> dict[str, date]:
    """The former units whose dossiers are ``codes``' to list today (each dossier listed
    once: a split unit's go with the successor of the largest share), and from which day:
    restated, all of them; as organised then, from the day they were taken over."""
    if tree is None or not tree.changed:
        return {}
    wanted = set(codes)
    found = {}
    for code in codes:
        for former in tree.predecessors(code, today):
            if former in wanted:
                continue
            shares = _carriers(tree, former, today)
            if max(shares, key=lambda c: (shares[c], c)) not in wanted:
                continue
            ended = tree.ended(former)
            taken = date.min if view is View.RESTATED or ended is None else ended + timedelta(1)
            found[former] = taken
    return found
