"""The Dossier aggregate: one dossier's lifecycle, enforced; its events, stored for ever.

Each stored event carries the contract event exactly as accepted (``record``, a JSON
object) and what it did to the dossier (``transition``: statuses and deadlines before and
after). Replaying a dossier therefore never consults the calendar or the settings that
were in force when the event was accepted.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.domain import Aggregate
from pydantic import AwareDatetime, TypeAdapter

from events.errors import EventRejected
from events.models import DossierEvent
from events.parsing import load_stored_event
from events.reasons import RejectReason
from hub.domain.lifecycle import DossierState, Rules, Transition, decide, evolve
from hub.domain.ownership import OPERATOR, Publisher

#: Namespace of dossier aggregate ids: ``uuid5(DOSSIER_NAMESPACE, dossier_code)``.
DOSSIER_NAMESPACE = UUID("5f0c2a8e-7a4b-5d0e-9c55-2d1e0b6f4a10")

JsonObject = dict[str, Any]


@lru_cache(maxsize=65_536)
def dossier_id(code: str) -> UUID:
    """The aggregate id of a dossier code; the same code always gives the same id."""
    return uuid5(DOSSIER_NAMESPACE, code)


class DuplicateEvent(Exception):
    """The event's id is already stored for this dossier with the same content."""

    def __init__(self, event_id: UUID) -> None:
        super().__init__(f"event {event_id} is already stored")
        self.event_id = event_id


_INSTANT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def to_record(event: DossierEvent, recorded_at: datetime) -> JsonObject:
    """The JSON object stored for an accepted event, stamped with the hub's time."""
    record = event.model_dump(mode="json")
    record["recorded_at"] = _INSTANT.dump_python(recorded_at, mode="json")
    return record


# A command has just validated the event and decided its transition; the event it triggers
# is applied at once by the library. Handing both over (with the very record object the
# event carries) saves validating the stored JSON again (about a third of ingest's CPU).
# Replays, which have only the JSON, load it.
_DECIDED: ContextVar[tuple[JsonObject, DossierEvent, Transition] | None] = ContextVar(
    "dossier_decided", default=None
)


class _HandingOver:
    """Hands ``event`` and its ``change`` to the fold of ``record`` while in the block (a
    plain class: the generator-based ``contextmanager`` cost 3 % of ingest's CPU)."""

    __slots__ = ("_decided", "_token")

    def __init__(self, record: JsonObject, event: DossierEvent, change: Transition) -> None:
        self._decided = (record, event, change)

    def __enter__(self) -> None:
        self._token = _DECIDED.set(self._decided)

    def __exit__(self, *_: object) -> None:
        _DECIDED.reset(self._token)


def content_digest(record: JsonObject) -> str:
    """SHA-256 of an event's content, ignoring when the hub recorded it."""
    content = {key: value for key, value in record.items() if key != "recorded_at"}
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _deciding(
    state: DossierState | None,
    event: DossierEvent,
    rules: Rules,
    recorded_at: datetime,
    by: Publisher,
) -> Transition:
    """:func:`decide`, with anything else than a refusal turned into this event's refusal:
    whatever goes wrong with one event (the calendar, a rule) stays with that event."""
    try:
        return decide(state, event, rules, recorded_at, by)
    except EventRejected:
        raise
    except Exception as error:
        raise EventRejected(
            RejectReason.UNPROCESSABLE,
            f"the hub could not process this event ({type(error).__name__}); it is kept "
            "with the rejects and the error is logged",
        ) from error


class Dossier(Aggregate):
    """A dossier (hồ sơ). Its commands are :meth:`open` and :meth:`record`.

    Each stored event keeps who brought it (``provenance``: the credential's key id and the
    channel); events stored before provenance was kept have none.
    """

    class Opened(Aggregate.Created):
        record: JsonObject
        transition: JsonObject
        provenance: JsonObject | None

    class Recorded(Aggregate.Event):
        record: JsonObject
        transition: JsonObject
        provenance: JsonObject | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Dossier)
            aggregate._fold(self.record, self.transition)

    def __init__(
        self, record: JsonObject, transition: JsonObject, provenance: JsonObject | None = None
    ) -> None:
        self.state: DossierState | None = None
        self.digests: dict[str, str] = {}
        self._fold(record, transition)

    @classmethod
    def open(
        cls,
        event: DossierEvent,
        rules: Rules,
        recorded_at: datetime,
        by: Publisher = OPERATOR,
    ) -> Dossier:
        """Start a dossier with its first event (registered, received or refused)."""
        change = _deciding(None, event, rules, recorded_at, by)  # only an opening event
        record = to_record(event, recorded_at)
        with _HandingOver(record, event, change):
            return cls._create(
                cls.Opened,
                id=dossier_id(event.dossier_code),
                record=record,
                transition=change.to_json(),
                provenance=by.to_json(),
            )

    def record(
        self,
        event: DossierEvent,
        rules: Rules,
        recorded_at: datetime,
        by: Publisher = OPERATOR,
    ) -> None:
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
        change = _deciding(self.state, event, rules, recorded_at, by)
        with _HandingOver(record, event, change):
            self.trigger_event(
                self.Recorded,
                record=record,
                transition=change.to_json(),
                provenance=by.to_json(),
            )

    def _fold(self, record: JsonObject, transition: JsonObject) -> None:
        decided = _DECIDED.get()
        if decided is not None and decided[0] is record:
            _, event, change = decided
        else:
            event, change = load_stored_event(record), Transition.from_json(transition)
        self.state = evolve(self.state, event, change)
        self.digests[record["event_id"]] = content_digest(record)
