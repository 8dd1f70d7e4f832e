"""The counting rules of unit daily progress, against a naive recomputation.

Hypothesis draws dossiers with random paths (received, transferred, waiting for a
supplement or a fee, deadlines recomputed, resolved early, on time or late, returned,
withdrawn, refused at the desk). The naive model replays each dossier up to the end of
every day and classifies it, with no deltas and no shared state; the fold must give the
same figures for every unit and day, whatever the batches and the interleaving of
dossiers.
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.progress.facts import Fact
from projections.progress.fold import METRICS, OpenDossier, ProgressFold

START = date(2021, 3, 1)
UNITS = ("000.00.01.H12", "000.00.60.H12", "000.01.60.H12")
PROCEDURES = ("1.000101", "1.000202")


@dataclass(frozen=True)
class Step:
    kind: str
    gap: int  # days after the previous step
    status: int
    new_due_in: int | None = None  # days from this step to a recomputed due date
    channel: int = 1
    method: int = 0


@st.composite
def dossier_paths(draw: st.DrawFn) -> list[Step]:
    channel = draw(st.sampled_from([1, 2, 3]))
    if draw(st.booleans()) and channel == 2:
        steps = [Step("dossier.registered", 0, 1, channel=channel)]
        if draw(st.integers(0, 9)) == 0:
            return [*steps, Step("dossier.withdrawn", draw(st.integers(0, 3)), 7)]
    else:
        steps = []
    if draw(st.integers(0, 14)) == 0:
        return [*steps, Step("dossier.refused", draw(st.integers(0, 2)), 3, channel=channel)]
    steps.append(
        Step("dossier.received", draw(st.integers(0, 2)), 2, draw(st.integers(0, 12)), channel)
    )
    for _ in range(draw(st.integers(0, 3))):
        turn = draw(st.sampled_from(["transfer", "supplement", "fee", "stop"]))
        gap = draw(st.integers(0, 6))
        if turn == "transfer":
            steps.append(Step("dossier.transferred", gap, 4))
        elif turn == "supplement":
            steps.append(Step("dossier.supplement_requested", gap, 5))
            steps.append(
                Step(
                    "dossier.supplement_received",
                    draw(st.integers(0, 9)),
                    4,
                    draw(st.integers(0, 10)),
                )
            )
        elif turn == "fee":
            steps.append(Step("dossier.financial_obligation_requested", gap, 6))
            steps.append(
                Step("dossier.fee_paid", draw(st.integers(0, 5)), 4, draw(st.integers(0, 10)))
            )
        else:
            steps.append(Step("dossier.processing_stopped", gap, 8))
            steps.append(Step("dossier.processing_resumed", draw(st.integers(0, 5)), 4))
    ending = draw(st.sampled_from(["resolved", "returned", "withdrawn", "open"]))
    gap = draw(st.integers(0, 15))
    if ending == "withdrawn":
        steps.append(Step("dossier.withdrawn", gap, 7))
    elif ending in ("resolved", "returned"):
        steps.append(Step("dossier.resolved", gap, 9))
        if ending == "returned":
            steps.append(
                Step(
                    "dossier.result_returned",
                    draw(st.integers(0, 4)),
                    10,
                    method=draw(st.sampled_from([0, 1, 2])),
                )
            )
    return steps


def facts_of(index: int, unit: str, procedure: str, opened: date, steps: list[Step]) -> list[Fact]:
    """The facts of one dossier: its days and statuses, and its counted due date."""
    code = f"{unit}-{opened:%y%m%d}-{index:04d}"
    facts, day, due = [], opened, None
    for step in steps:
        day = day + timedelta(days=step.gap)
        if step.new_due_in is not None:
            due = day + timedelta(days=step.new_due_in)
        facts.append(
            Fact(
                0,
                code,
                step.kind,
                unit,
                day,
                step.status,
                due,
                procedure
                if step.kind in ("dossier.registered", "dossier.received", "dossier.refused")
                else None,
                step.channel
                if step.kind in ("dossier.registered", "dossier.received", "dossier.refused")
                else None,
                step.method if step.kind == "dossier.result_returned" else None,
            )
        )
    return facts


def naive(dossiers: list[list[Fact]], last_day: date) -> dict[tuple[str, str, date], list[int]]:
    """Each figure recomputed from scratch: flows by counting, stocks by replaying to each day."""
    figures: dict[tuple[str, str, date], list[int]] = defaultdict(lambda: [0] * len(METRICS))
    index = {name: i for i, name in enumerate(METRICS)}
    for facts in dossiers:
        unit = facts[0].unit_code
        procedure = next(f.procedure_code for f in facts if f.procedure_code)
        received = False
        for fact in facts:
            key = (unit, procedure, fact.day)
            if fact.event_type == "dossier.received":
                received = True
                channel = ("received_walk_in", "received_online", "received_post")[
                    (fact.channel or 1) - 1
                ]
                figures[key][index[channel]] += 1
            elif fact.event_type == "dossier.resolved":
                due = fact.counted_due_day
                outcome = (
                    "resolved_on_time"
                    if due is None or fact.day == due
                    else "resolved_early"
                    if fact.day < due
                    else "resolved_late"
                )
                figures[key][index[outcome]] += 1
            elif fact.event_type == "dossier.result_returned":
                method = ("returned_direct", "returned_post", "returned_online")[
                    fact.return_method or 0
                ]
                figures[key][index[method]] += 1
            elif fact.event_type == "dossier.supplement_requested":
                figures[key][index["supplements_requested"]] += 1
            elif fact.event_type == "dossier.withdrawn" and received:
                figures[key][index["withdrawn"]] += 1
            elif fact.event_type == "dossier.refused":
                figures[key][index["refused"]] += 1
        # stocks: the state at the end of every day
        day = facts[0].day
        previous = (0, 0)
        while day <= last_day:
            seen = [f for f in facts if f.day <= day]
            last = seen[-1] if seen else None
            within = overdue = 0
            ever_received = any(f.event_type == "dossier.received" for f in seen)
            if last is not None and ever_received and last.status_after in (2, 4, 5, 6, 8):
                running = last.status_after in (2, 4)
                if running and last.counted_due_day is not None and last.counted_due_day <= day:
                    overdue = 1
                else:
                    within = 1
            if (within, overdue) != previous:
                row = figures[(unit, procedure, day)]
                row[index["pending_within_delta"]] += within - previous[0]
                row[index["overdue_delta"]] += overdue - previous[1]
                previous = (within, overdue)
            day += timedelta(days=1)
    return dict(figures)


def stocks_by_day(
    rows: dict[tuple[str, str, date], list[int]], last_day: date
) -> dict[tuple[str, date], tuple[int, ...]]:
    """Every figure per (unit, day), stocks as running sums: what reports read."""
    result = {}
    for unit in UNITS:
        within = overdue = 0
        day = START
        while day <= last_day:
            flows = [0] * (len(METRICS) - 2)
            for procedure in PROCEDURES:
                row = rows.get((unit, procedure, day))
                if row:
                    flows = [a + b for a, b in zip(flows, row[:-2], strict=True)]
                    within += row[-2]
                    overdue += row[-1]
            result[(unit, day)] = (*flows, within, overdue)
            day += timedelta(days=1)
    return result


scenarios = st.lists(
    st.tuples(
        st.sampled_from(UNITS), st.sampled_from(PROCEDURES), st.integers(0, 20), dossier_paths()
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(scenarios, st.randoms(use_true_random=False), st.integers(1, 7))
def test_the_fold_counts_as_the_naive_model_in_any_batches_and_interleaving(
    drawn: list[tuple[str, str, int, list[Step]]], rng: random.Random, batches: int
) -> None:
    dossiers = [
        facts_of(i, unit, procedure, START + timedelta(days=offset), steps)
        for i, (unit, procedure, offset, steps) in enumerate(drawn)
    ]
    last_day = START + timedelta(days=120)
    expected = stocks_by_day(naive(dossiers, last_day), last_day)

    # Interleave the dossiers at random, keeping each one's own order, then fold in batches,
    # carrying only what a worker writes to its tables between batches.
    queues = [list(facts) for facts in dossiers]
    stream = []
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        stream.append(queue.pop(0))
    cuts = sorted(rng.sample(range(len(stream) + 1), min(batches, len(stream) + 1)))
    rows: dict[tuple[str, str, date], list[int]] = {}
    saved: dict[str, OpenDossier] = {}
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        fold = ProgressFold({code: copy.copy(d) for code, d in saved.items()})
        for fact in stream[start:end]:
            fold.apply(fact)
        batch_rows, touched = fold.take()
        for key, values in batch_rows.items():
            total = rows.setdefault(key, [0] * len(METRICS))
            for i, value in enumerate(values):
                total[i] += value
        for code in touched:
            if code in fold.dossiers:
                saved[code] = fold.dossiers[code]
            else:
                saved.pop(code, None)
        assert not fold.unknown

    assert stocks_by_day(rows, last_day) == expected


def test_a_dossier_resolved_on_its_due_date_is_on_time_and_the_day_after_late() -> None:
    steps = [Step("dossier.received", 0, 2, 5), Step("dossier.resolved", 5, 9)]
    late = [Step("dossier.received", 0, 2, 5), Step("dossier.resolved", 6, 9)]
    fold = ProgressFold()
    for fact in facts_of(1, UNITS[0], PROCEDURES[0], START, steps) + facts_of(
        2, UNITS[0], PROCEDURES[0], START, late
    ):
        fold.apply(fact)
    rows, _ = fold.take()
    on_day = rows[(UNITS[0], PROCEDURES[0], START + timedelta(days=5))]
    after = rows[(UNITS[0], PROCEDURES[0], START + timedelta(days=6))]
    assert on_day[METRICS.index("resolved_on_time")] == 1
    assert after[METRICS.index("resolved_late")] == 1
    # pending: both within until day 5; from day 5 the unfinished one is overdue for one day
    # The unfinished one turns overdue at the end of its due date; the other left that day.
    assert on_day[METRICS.index("overdue_delta")] == 1
    assert set(fold.dossiers) == {
        f"{UNITS[0]}-{START:%y%m%d}-0001",
        f"{UNITS[0]}-{START:%y%m%d}-0002",
    }


def test_a_dossier_that_leaves_in_time_writes_no_turn_to_overdue() -> None:
    """Received with a due date five days on and resolved on day 3: folded in one batch, no
    row is written on its due date; cut between the two, the first batch writes the turn
    (it may still happen) and the second takes it back, and no row of zeros is returned."""
    steps = [Step("dossier.received", 0, 2, 5), Step("dossier.resolved", 3, 9)]
    facts = facts_of(1, UNITS[0], PROCEDURES[0], START, steps)
    due = (UNITS[0], PROCEDURES[0], START + timedelta(days=5))
    within, overdue = METRICS.index("pending_within_delta"), METRICS.index("overdue_delta")

    fold = ProgressFold()
    for fact in facts:
        fold.apply(fact)
    whole, _ = fold.take()
    assert due not in whole
    assert whole[(UNITS[0], PROCEDURES[0], START)][within] == 1
    assert whole[(UNITS[0], PROCEDURES[0], START + timedelta(days=3))][within] == -1

    first = ProgressFold()
    first.apply(facts[0])
    rows, _ = first.take()
    assert (rows[due][within], rows[due][overdue]) == (-1, 1)
    second = ProgressFold({code: copy.copy(d) for code, d in first.dossiers.items()})
    second.apply(facts[1])
    rows, _ = second.take()
    assert (rows[due][within], rows[due][overdue]) == (1, -1)
    assert all(any(values) for values in rows.values())


def test_a_dossier_that_leaves_after_its_due_date_turned_overdue_on_it() -> None:
    steps = [Step("dossier.received", 0, 2, 2), Step("dossier.resolved", 4, 9)]
    fold = ProgressFold()
    for fact in facts_of(1, UNITS[0], PROCEDURES[0], START, steps):
        fold.apply(fact)
    rows, _ = fold.take()
    within, overdue = METRICS.index("pending_within_delta"), METRICS.index("overdue_delta")
    turned = rows[(UNITS[0], PROCEDURES[0], START + timedelta(days=2))]
    left = rows[(UNITS[0], PROCEDURES[0], START + timedelta(days=4))]
    assert (turned[within], turned[overdue]) == (-1, 1)
    assert (left[within], left[overdue]) == (0, -1)
