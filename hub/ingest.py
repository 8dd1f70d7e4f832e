"""The ingest path every source goes through: parse, check the lifecycle, store in batches.

A batch is written in one transaction (``Application.save`` of every dossier it touched),
which is what makes ingest fast on PostgreSQL. Optimistic concurrency per dossier keeps
it correct without reading more than it must (docs/decisions/0003-ingest-batching.md):

- dossiers stay in the aggregate cache between batches without being re-read;
- an opening event (registered, received, refused) for a dossier not in the cache is first
  assumed to open a new dossier, without a query.

Either guess can be wrong (another writer appended; the dossier exists but was not cached).
Then ``save()`` fails on the store's unique (dossier, version) constraint and nothing of the
batch is written; the batch's dossiers are dropped from the cache and the whole batch is
decided again, this time reading every dossier from the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import stamina
import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events.errors import EventRejected
from events.models import DossierEvent
from events.parsing import parse_event, parse_event_bytes
from events.reasons import RejectReason
from hub.application import DossierStore
from hub.auth.credentials import Principal
from hub.domain.dossier import Dossier, DuplicateEvent, dossier_id
from hub.domain.lifecycle import OPENING, Rules
from hub.domain.ownership import OPERATOR, Publisher, Transport
from hub.domain.vietnam import VIETNAM

logger = structlog.get_logger("hub.ingest")

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one submitted event."""

    status: Status
    event_id: UUID | None = None
    dossier_code: str | None = None
    reason: RejectReason | None = None
    message: str | None = None
    field: str | None = None

    @classmethod
    def rejected(cls, error: EventRejected, event: DossierEvent | None = None) -> Outcome:
        message = error.message
        if len(message) > MESSAGE_CHARS:
            message = message[:MESSAGE_CHARS] + "…"
        return cls(
            "rejected",
            event_id=None if event is None else event.event_id,
            dossier_code=None if event is None else event.dossier_code,
            reason=error.reason,
            message=message,
            field=error.field,
        )


#: The longest refusal message an outcome carries.
MESSAGE_CHARS = 1_000


def _now() -> datetime:
    return datetime.now(VIETNAM)


class Ingestor:
    """Accepts batches of events for the store."""

    def __init__(
        self,
        store: DossierStore,
        rules: Rules,
        clock: Callable[[], datetime] = _now,
        attempts: int = 5,
        protect: Callable[[Sequence[DossierEvent | Outcome]], list[DossierEvent | Outcome]]
        | None = None,
    ) -> None:
        self.store = store
        self.rules = rules
        self.clock = clock
        self.attempts = attempts
        # Seals applicants' personal data before anything is stored (hub.personal).
        self.protect = protect
        # One batch at a time: cached dossiers are changed in place while a batch is decided.
        self._lock = threading.Lock()

    def submit_bytes(
        self,
        raws: Iterable[bytes],
        principal: Principal | None = None,
        channel: Transport = Transport.FILE,
    ) -> list[Outcome]:
        """Parse and store JSON-encoded events, one outcome per item, in order.

        With a ``principal``, events for units it may not publish for are refused;
        without one the source is the operator (a file), still held to the ownership rule.
        """
        by = publisher_of(principal, channel)
        return self.submit_items([admit(raw, principal) for raw in raws], by)

    def submit_json(
        self,
        values: Iterable[object],
        principal: Principal | None = None,
        channel: Transport = Transport.FILE,
    ) -> list[Outcome]:
        """Parse and store decoded JSON values, one outcome per item, in order."""
        return self.submit_items(
            [_authorise(_parse(value, parse_event), principal) for value in values],
            publisher_of(principal, channel),
        )

    def submit_items(
        self,
        items: Sequence[DossierEvent | Outcome],
        by: Publisher | Sequence[Publisher] = OPERATOR,
    ) -> list[Outcome]:
        """Store admitted events; items already refused keep their outcome, in place.
        ``by`` is who brought them: one publisher for all, or one per item."""
        publishers = [by] * len(items) if isinstance(by, Publisher) else list(by)
        if len(publishers) != len(items):
            raise ValueError("one publisher per item")
        with self._lock:
            if self.protect is not None:
                items = self.protect(items)
            return self._submit(items, publishers)

    def _submit(
        self, items: Sequence[DossierEvent | Outcome], publishers: Sequence[Publisher]
    ) -> list[Outcome]:
        try:
            return self._decide_and_save(items, publishers, optimistic=True)
        except IntegrityError:
            # Most often a guess was wrong (an opening event of a dossier stored but not
            # cached, as when a file is sent again): decided again at once from the store.
            # Only a writer racing this one makes that fail too; then wait a little.
            if self.attempts <= 1:
                raise
        for attempt in stamina.retry_context(
            on=IntegrityError,
            attempts=max(1, self.attempts - 1),
            wait_initial=0.01,
            wait_max=1.0,
            wait_jitter=0.05,
        ):
            with attempt:
                return self._decide_and_save(items, publishers, optimistic=False)
        raise AssertionError("unreachable: stamina re-raises after the last attempt")

    def _decide_and_save(
        self,
        items: Sequence[DossierEvent | Outcome],
        publishers: Sequence[Publisher],
        *,
        optimistic: bool,
    ) -> list[Outcome]:
        dossiers: dict[UUID, Dossier | None] = {}
        outcomes: list[Outcome] = []
        for item, by in zip(items, publishers, strict=True):
            if isinstance(item, Outcome):
                outcomes.append(item)
                continue
            aggregate_id = dossier_id(item.dossier_code)
            if aggregate_id not in dossiers:
                opens = optimistic and item.event_type in OPENING
                dossiers[aggregate_id] = self._load(aggregate_id, assume_new=opens)
            dossier = dossiers[aggregate_id]
            try:
                if dossier is None:
                    dossiers[aggregate_id] = Dossier.open(item, self.rules, self.clock(), by)
                else:
                    dossier.record(item, self.rules, self.clock(), by)
            except DuplicateEvent:
                outcomes.append(Outcome("duplicate", item.event_id, item.dossier_code))
                logger.debug(
                    "event.duplicate", dossier_code=item.dossier_code, event_id=str(item.event_id)
                )
            except EventRejected as error:
                outcomes.append(Outcome.rejected(error, item))
                log = logger.error if error.reason is RejectReason.UNPROCESSABLE else logger.info
                log(
                    "event.rejected",
                    dossier_code=item.dossier_code,
                    event_id=str(item.event_id),
                    reason=error.reason.value,
                    message=error.message,
                    exc_info=error.__cause__ is not None,
                )
            else:
                outcomes.append(Outcome("accepted", item.event_id, item.dossier_code))
        touched = [d for d in dossiers.values() if d is not None and d.pending_events]
        try:
            self.store.save_dossiers(touched)
        except IntegrityError:
            logger.info("ingest.conflict_retry", dossiers=len(touched), optimistic=optimistic)
            self.store.forget_cached(list(dossiers))
            raise
        except BaseException:
            # Cached dossiers were changed in place; none of it was stored.
            self.store.forget_cached(list(dossiers))
            raise
        return outcomes

    def _load(self, aggregate_id: UUID, *, assume_new: bool) -> Dossier | None:
        """The dossier from the cache or the store; ``None`` if it is (assumed) new.

        Cached dossiers are handed out without a copy: they are changed in place and, if
        the batch is not stored, dropped from the cache.
        """
        cache = self.store.repository.cache
        if assume_new and (cache is None or aggregate_id not in cache.cache):
            return None
        try:
            dossier: object = self.store.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        assert isinstance(dossier, Dossier)
        return dossier


def publisher_of(principal: Principal | None, channel: Transport) -> Publisher:
    """Who brings events: the credential behind ``principal``, over ``channel``."""
    if principal is None:
        return Publisher(None, channel)
    return Publisher(principal.key_id, channel, principal.units)


def admit(raw: bytes, principal: Principal | None) -> DossierEvent | Outcome:
    """Parse one JSON-encoded event and check that ``principal`` may publish it."""
    return _authorise(_parse(raw, parse_event_bytes), principal)


def _authorise(item: DossierEvent | Outcome, principal: Principal | None) -> DossierEvent | Outcome:
    if principal is None or isinstance(item, Outcome) or principal.may_publish_for(item.unit_code):
        return item
    error = EventRejected(
        RejectReason.UNIT_NOT_AUTHORISED,
        f"credential {principal.key_id} ({principal.name}) may not publish for unit "
        f"{item.unit_code}",
        field="unit_code",
    )
    return Outcome.rejected(error, item)


def _parse(value: object, parser: Callable[..., DossierEvent]) -> DossierEvent | Outcome:
    try:
        return parser(value)
    except EventRejected as error:
        return Outcome.rejected(error)
