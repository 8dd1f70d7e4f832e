"""The Dossier aggregate: one dossier's lifecycle, enforced; its events, stored for ever.

Each stored event carries the contract event exactly as accepted (``record``, a JSON
object) and what it did to the dossier (``transition``: statuses and deadlines before and
after). Replaying a dossier therefore never consults the calendar or the settings that
were in force when the event was accepted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.domain import Aggregate

from events.errors import EventRejected
from events.models import DossierEvent
from events.parsing import load_stored_event
from events.reasons import RejectReason
from hub.domain.lifecycle import DossierState, Rules, Transition, decide, evolve

#: Namespace of dossier aggregate ids: ``uuid5(DOSSIER_NAMESPACE, dossier_code)``.
DOSSIER_NAMESPACE = UUID("5f0c2a8e-7a4b-5d0e-9c55-2d1e0b6f4a10")

JsonObject = dict[str, Any]


def dossier_id(code: str) -> UUID:
    """The aggregate id of a dossier code; the same code always gives the same id."""
    return uuid5(DOSSIER_NAMESPACE, code)


class DuplicateEvent(Exception):
    """The event's id is already stored for this dossier with the same content."""

    def __init__(self, event_id: UUID) -> None:
        super().__init__(f"event {event_id} is already stored")
        self.event_id = event_id


def to_record(event: DossierEvent, recorded_at: datetime) -> JsonObject:
    """The JSON object stored for an accepted event."""
    return event.model_copy(update={"recorded_at": recorded_at}).model_dump(mode="json")


def content_digest(record: JsonObject) -> str:
    """SHA-256 of an event's content, ignoring when the hub recorded it."""
    content = {key: value for key, value in record.items() if key != "recorded_at"}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Dossier(Aggregate):
    """A dossier (hồ sơ). Its commands are :meth:`open` and :meth:`record`."""

    class Opened(Aggregate.Created):
        record: JsonObject
        transition: JsonObject

    class Recorded(Aggregate.Event):
        record: JsonObject
        transition: JsonObject

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Dossier)
            aggregate._fold(self.record, self.transition)

    def __init__(self, record: JsonObject, transition: JsonObject) -> None:
        self.state: DossierState | None = None
        self.digests: dict[str, str] = {}
        self._fold(record, transition)

    @classmethod
    def open(cls, event: DossierEvent, rules: Rules, recorded_at: datetime) -> Dossier:
        """Start a dossier with its first event (registered, received or refused)."""
        change = decide(None, event, rules)  # refuses any event but an opening one
        return cls._create(
            cls.Opened,
            id=dossier_id(event.dossier_code),
            record=to_record(event, recorded_at),
            transition=change.to_json(),
        )

    def record(self, event: DossierEvent, rules: Rules, recorded_at: datetime) -> None:
        """Append an event, if it is new and the lifecycle allows it."""
        record = to_record(event, recorded_at)
        known = self.digests.get(record["event_id"])
        if known is not None:
            if known == content_digest(record):
                raise DuplicateEvent(event.event_id)
            raise EventRejected(
                RejectReason.EVENT_ID_REUSED,
                f"event_id {event.event_id} is already stored for dossier "
                f"{event.dossier_code} with different content",
                field="event_id",
            )
        change = decide(self.state, event, rules)
        self.trigger_event(self.Recorded, record=record, transition=change.to_json())

    @property
    def code(self) -> str:
        assert self.state is not None
        return self.state.code

    def _fold(self, record: JsonObject, transition: JsonObject) -> None:
        event = load_stored_event(record)
        self.state = evolve(self.state, event, Transition.from_json(transition))
        self.digests[record["event_id"]] = content_digest(record)
