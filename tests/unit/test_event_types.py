"""The event type is the unit of change: one registry entry per type of the contract, every
table keyed by event type covers every entry, and every reader of the log takes an event of
every type without failing."""

from __future__ import annotations

from collections import deque
from datetime import timedelta
from typing import Any, get_args

import pytest

from connectors.dvcqg.mapping import STEP_TEXT, dossier_payload, fold, progress_step
from events import DossierStatus, parse_event
from events.models import EVENT_CLASSES, DossierEvent
from events.parsing import CURRENT_VERSIONS, EVENT_TYPES
from hub.audit.history import StoredEvent, history
from hub.contract_docs import render as events_markdown
from hub.domain.calendar import WorkingCalendar
from hub.domain.event_types import OPENING, REGISTRY, SAME
from hub.domain.lifecycle import TRANSITIONS, DossierState, Rules, decide, evolve
from projections.progress.facts import fact_of
from projections.progress.fold import ProgressFold
from projections.reuse.fold import fold as reuse_fold
from tests.factories import INTEGRATED_PROCEDURE, PAYLOADS, at, event

RULES = Rules(WorkingCalendar())
NOW = at("2021-04-01 10:00")


def test_every_event_type_of_the_contract_has_one_entry_and_every_table_covers_it() -> None:
    union = get_args(DossierEvent)
    names = {cls.model_fields["event_type"].default for cls in union}
    assert len(names) == len(union) == len(EVENT_CLASSES)
    assert set(REGISTRY) == names
    assert [kind.contract for kind in REGISTRY.values()] == list(EVENT_CLASSES)
    tables: dict[str, Any] = {
        "the contract's parser": EVENT_TYPES,
        "the contract's current versions": CURRENT_VERSIONS,
        "the lifecycle's transitions": TRANSITIONS,
        "the portal's step texts": STEP_TEXT,
        "the tests' payloads": PAYLOADS,
    }
    for table, keys in tables.items():
        assert set(keys) == names, f"{table} lacks {names - set(keys)} or has extra"
    published = events_markdown()
    assert all(f"`{name}`" in published for name in names), "docs/events.md lacks a type"
    for name, kind in REGISTRY.items():
        assert kind.action, f"{name} says nothing of what it did"
        for before, after in kind.transitions.items():
            assert before is None or isinstance(before, DossierStatus)
            assert after == SAME or isinstance(after, DossierStatus)
    assert {name for name, kind in REGISTRY.items() if None in kind.transitions} == OPENING


def _path_to(event_type: str) -> list[str]:
    """The shortest run of event types after which ``event_type`` is allowed."""
    allowed = set(REGISTRY[event_type].transitions)
    queue: deque[tuple[DossierStatus | None, list[str]]] = deque([(None, [])])
    seen: set[DossierStatus | None] = set()
    while queue:
        status, path = queue.popleft()
        if status in allowed:
            return path
        seen.add(status)
        for name, kind in REGISTRY.items():
            after = kind.transitions.get(status)
            if after is None or after == SAME:
                continue
            assert isinstance(after, DossierStatus)
            if after not in seen:
                queue.append((after, [*path, name]))
    raise AssertionError(f"no path leads to a status that allows {event_type}")


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_every_reader_of_the_log_takes_an_event_of_every_type(event_type: str) -> None:
    """The lifecycle, the figures, the reuse index, the portal connector and the auditor's
    history each take the event at the end of a valid path to it."""
    start = at("2021-03-15 08:00")
    stored: list[StoredEvent] = []
    state: DossierState | None = None
    for index, name in enumerate([*_path_to(event_type), event_type], start=1):
        when = (start + timedelta(hours=index)).strftime("%Y-%m-%d %H:%M")
        data = event(name, when=when)
        parsed = parse_event(data)
        change = decide(state, parsed, RULES, NOW)
        state = evolve(state, parsed, change)
        stored.append((index, {**data, "recorded_at": NOW.isoformat()}, change.to_json(), None))
    progress = ProgressFold()
    reuse = None
    sync = None
    for position, record, transition, _ in stored:
        progress.apply(fact_of(position, record, transition))
        reuse = reuse_fold(reuse, position, record)
        sync = fold(sync, record, transition)
        step = progress_step(record, transition)
        assert step.NoiDungXuLy.startswith(REGISTRY[record["event_type"]].action)
    assert sync is not None
    assert state is not None
    assert dossier_payload(sync, INTEGRATED_PROCEDURE).TrangThaiHoSo == int(state.status)
    assert reuse is not None
    assert reuse.position == len(stored)
    _, touched = progress.take()
    assert not progress.unknown, "the figures took a dossier for one never opened"
    assert touched == {stored[0][1]["dossier_code"]}
    seen = history(stored[0][1]["dossier_code"], list(stored), now=NOW)
    assert seen.timeline[-1].event_type == event_type
    assert seen.state.status == state.status.name.lower()
