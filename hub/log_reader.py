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
    #: Who brought it (key id, channel); ``None`` for events stored before it was kept.
    provenance: dict[str, Any] | None = None


def log_page(store: DossierStore, start: int, limit: int) -> list[LoggedEvent]:
    """Up to ``limit`` accepted events from position ``start`` on, in store order."""
    page = []
    for notification in store.recorder.select_notifications(start=start, limit=limit):
        event = store.mapper.to_domain_event(notification)
        assert isinstance(event, Dossier.Opened | Dossier.Recorded)
        page.append(LoggedEvent(notification.id, event.record, event.transition))
    return page


def read_log(store: DossierStore, start: int = 1, page: int = 5_000) -> Iterator[LoggedEvent]:
    """Every accepted event from ``start`` on, in store order, fetched a page at a time."""
    position = start
    while True:
        events = log_page(store, position, page)
        yield from events
        if len(events) < page:
            return
        position = events[-1].position + 1


def last_position(store: DossierStore) -> int:
    """The position of the newest accepted event (0 when there is none)."""
    return int(store.recorder.max_notification_id() or 0)


def dossier_history(store: DossierStore, code: str) -> list[LoggedEvent]:
    """A dossier's accepted events in order; ``position`` is its version in the dossier."""
    history = []
    for event in store.events.get(dossier_id(code)):
        assert isinstance(event, Dossier.Opened | Dossier.Recorded)
        history.append(
            LoggedEvent(
                event.originator_version,
                event.record,
                event.transition,
                getattr(event, "provenance", None),
            )
        )
    return history
