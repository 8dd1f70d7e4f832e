"""Read the store's log of accepted events in the order they were stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hub.application import DossierStore
from hub.domain.dossier import Dossier, dossier_id


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One accepted event: its position in the log, the contract record, its transition."""

    position: int
    record: dict[str, Any]
    transition: dict[str, Any]


def read_log(store: DossierStore, start: int = 1, page: int = 5_000) -> Iterator[LoggedEvent]:
    """Every accepted event from ``start`` on, in store order, fetched a page at a time."""
    position = start
    while True:
        notifications = store.recorder.select_notifications(start=position, limit=page)
        for notification in notifications:
            event = store.mapper.to_domain_event(notification)
            assert isinstance(event, Dossier.Opened | Dossier.Recorded)
            yield LoggedEvent(notification.id, event.record, event.transition)
        if len(notifications) < page:
            return
        position = notifications[-1].id + 1


def dossier_history(store: DossierStore, code: str) -> list[LoggedEvent]:
    """A dossier's accepted events in order; ``position`` is its version in the dossier."""
    history = []
    for event in store.events.get(dossier_id(code)):
        assert isinstance(event, Dossier.Opened | Dossier.Recorded)
        history.append(LoggedEvent(event.originator_version, event.record, event.transition))
    return history
