"""Read the store's log of accepted events in the order they were stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

from hub.adapters.postgres_recorder import BinaryInsertApplicationRecorder
from hub.application import DossierStore
from hub.domain.dossier import Dossier, dossier_id

logger = structlog.get_logger("hub.log_reader")


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One accepted event: its position in the log, the contract record, its transition."""

    position: int
    record: dict[str, Any]
    transition: dict[str, Any]
    #: Who brought it (key id, channel); ``None`` for events stored before it was kept.
    provenance: dict[str, Any] | None = None


def log_page(store: DossierStore, start: int, limit: int) -> list[LoggedEvent]:
    """Up to ``limit`` accepted events from position ``start`` on, in store order.

    A row that is not a dossier event the hub could have stored (changed behind its back)
    comes with an empty record and transition: its readers park it rather than stop at it
    (and ``dvchub audit verify`` names it)."""
    page = []
    for notification in store.recorder.select_notifications(start=start, limit=limit):
        try:
            event = store.mapper.to_domain_event(notification)
            if not isinstance(event, Dossier.Opened | Dossier.Recorded):
                raise TypeError(f"not a dossier event: {type(event).__name__}")
            if not isinstance(event.record, dict) or not isinstance(event.transition, dict):
                raise TypeError("record and transition are not objects")
            page.append(LoggedEvent(notification.id, event.record, event.transition))
        except Exception as error:
            logger.error(
                "log.unreadable_event", position=notification.id, error_type=type(error).__name__
            )
            page.append(LoggedEvent(notification.id, {}, {}))
    return page


def stored_page(
    store: DossierStore, start: int, limit: int
) -> list[tuple[int, bytes | LoggedEvent]] | None:
    """Up to ``limit`` accepted events from ``start`` on, each as the JSON the store holds
    (``record`` and ``transition`` at its top), not decoded: for readers that decode only
    what they need (the embedded bus). A row of no dossier event comes as an empty
    :class:`LoggedEvent`, as in :func:`log_page`. None when the store's events are
    compressed or encrypted: read them with :func:`log_page`."""
    mapper = store.mapper
    if mapper.compressor is not None or mapper.cipher is not None:
        return None
    recorder = store.recorder
    rows: Iterable[tuple[int, str, bytes]]
    if isinstance(recorder, BinaryInsertApplicationRecorder):
        rows = recorder.stored_states(start, limit)
    else:
        rows = ((n.id, n.topic, n.state) for n in recorder.select_notifications(start, limit))
    page: list[tuple[int, bytes | LoggedEvent]] = []
    for position, topic, state in rows:
        if topic in _DOSSIER_TOPICS:
            page.append((position, bytes(state)))
        else:
            logger.error("log.unreadable_event", position=position, error_type="UnknownTopic")
            page.append((position, LoggedEvent(position, {}, {})))
    return page


def decoded_page(store: DossierStore, start: int, limit: int) -> list[LoggedEvent]:
    """:func:`log_page`, read as the stored JSON (:func:`stored_page`) and decoded with
    orjson alone, without building the library's domain events (which took most of the
    relay's time): the same events, and the same empty event for a row that is not one."""
    stored = stored_page(store, start, limit)
    if stored is None:
        return log_page(store, start, limit)
    return [
        value if isinstance(value, LoggedEvent) else _decoded(position, value)
        for position, value in stored
    ]


def _decoded(position: int, state: bytes) -> LoggedEvent:
    found = record_and_transition(state)
    if found is None:
        logger.error("log.unreadable_event", position=position, error_type="NotAStoredEvent")
        return LoggedEvent(position, {}, {})
    return LoggedEvent(position, *found)


def record_and_transition(state: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The contract record and the transition of a stored event's JSON; None for bytes that
    are not one (not JSON, or either of the two missing or not an object)."""
    try:
        data = orjson.loads(state)
        record, transition = data["record"], data["transition"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None
    if not isinstance(record, dict) or not isinstance(transition, dict):
        return None
    return record, transition


_DOSSIER_TOPICS = frozenset({get_topic(Dossier.Opened), get_topic(Dossier.Recorded)})


def read_log(store: DossierStore, start: int = 1, page: int = 5_000) -> Iterator[LoggedEvent]:
    """Every accepted event from ``start`` on, in store order, fetched a page at a time."""
    position = start
    while True:
        events = log_page(store, position, page)
        yield from events
        if len(events) < page:
            return
        position = events[-1].position + 1


def sqlite_file(store: DossierStore) -> tuple[Path, str] | None:
    """The SQLite file and table that hold an embedded store's log, for readers that scan it
    directly (in log order, the row id being the position); None for a store in PostgreSQL
    or in memory."""
    recorder = store.recorder
    if not isinstance(recorder, SQLiteApplicationRecorder):
        return None
    pool = recorder.datastore.pool
    if pool.is_sqlite_memory_mode:
        return None
    return Path(pool.db_name), recorder.events_table_name


def record_page(store: DossierStore, start: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    """``(position, contract record)`` of up to ``limit`` accepted events from ``start`` on,
    in store order. An embedded store's file is read directly and only each event's record
    decoded (no domain event built: several times the rate of :func:`log_page`); a row that
    is not an event the hub stored comes with an empty record, as in :func:`log_page`."""
    found = sqlite_file(store)
    if found is None:
        return [(event.position, event.record) for event in log_page(store, start, limit)]
    path, table = found  # the recorder's own table name, not input
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            f"SELECT rowid, state FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT ?",  # noqa: S608
            (start, limit),
        ).fetchall()
    page: list[tuple[int, dict[str, Any]]] = []
    for position, state in rows:
        try:
            record = orjson.loads(state)["record"]
            if not isinstance(record, dict):
                raise TypeError(f"a record that is a {type(record).__name__}")
        except Exception as error:
            logger.error("log.unreadable_event", position=position, error_type=type(error).__name__)
            record = {}
        page.append((int(position), record))
    return page


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
