"""Read the bus and enqueue the updates the portal must receive.

One transaction per polled batch: the dossiers' sync states, the outbox rows of dossiers of
procedures integrated at the event's date, and the checkpoint. Events of other procedures
only update the state (a procedure may become integrated later; its dossiers' later events
are then synced with the whole dossier as it stands).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog

from connectors.dvcqg import outbox, status
from connectors.dvcqg.mapping import (
    SyncState,
    carry_over,
    dossier_payload,
    fold,
    progress_step,
)
from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.bus.sources import Checkpoint, Delivery, Source, consume, last_per_part
from hub.catalogue.store import CatalogueStore
from hub.catalogue.versions import CatalogueVersion
from hub.domain.vietnam import VIETNAM

logger = structlog.get_logger("connectors.dvcqg.intake")

#: Where events the connector cannot map are parked (``dvchub projections parked``).
QUARANTINE = "dvcqg_intake"


@dataclass
class _Mapped:
    """A batch mapped, ready to write."""

    states: dict[str, tuple[str, date | None, dict[str, Any], bool]] = field(default_factory=dict)
    updates: list[outbox.Update] = field(default_factory=list)
    quarantined: list[tuple[int, dict[str, Any], Exception]] = field(default_factory=list)
    checkpoints: list[tuple[int, int, int]] = field(default_factory=list)


class Intake:
    def __init__(self, db: ReadModelDatabase, source: Source, catalogue: CatalogueStore) -> None:
        self.db, self.source, self.catalogue_store = db, source, catalogue
        self._catalogue: CatalogueVersion | None = None
        self._catalogue_read = 0.0
        self.enqueued = 0

    def start(self) -> None:
        outbox.create(self.db)
        self.db.create(parked.create_statements())
        self.source.start(self._resume)

    def _resume(self, parts: list[int]) -> dict[int, Checkpoint]:
        found = outbox.checkpoints(self.db, self.source.name)
        return {p: found.get(p, Checkpoint(p, 0, None)) for p in parts}

    def catalogue(self) -> CatalogueVersion | None:
        if self._catalogue is None or time.monotonic() - self._catalogue_read > 10:
            self._catalogue = self.catalogue_store.current()
            self._catalogue_read = time.monotonic()
        return self._catalogue

    def handle(self, batch: list[Delivery]) -> int:
        """Enqueue the batch's updates; the number enqueued.

        The batch is mapped before the write transaction and only written inside it, so that
        the sender (on SQLite, the same file's one writer) is not kept waiting while events
        are decoded and mapped. Mapping needs the checkpoints and the dossiers' states as they
        were: if another intake moved a checkpoint meanwhile, it is mapped again inside."""
        catalogue = self.catalogue()
        done = outbox.checkpoints(self.db, self.source.name)
        mapped = self._map(batch, done, catalogue)
        with self.db.transaction():
            now_done = outbox.checkpoints(self.db, self.source.name)
            if now_done != done:
                mapped = self._map(batch, now_done, catalogue)
            for position, record, error in mapped.quarantined:
                self._quarantine(position, record, error)
            outbox.save_states(self.db, mapped.states)
            outbox.enqueue(self.db, mapped.updates)
            for part, position, offset in mapped.checkpoints:
                outbox.advance(self.db, self.source.name, part, position, offset)
        self.source.acknowledge(batch)
        lag: Callable[[], int] | None = getattr(self.source, "lag", None)
        if lag is not None:
            status.INTAKE_LAG.set(lag())
        self.enqueued += len(mapped.updates)
        return len(mapped.updates)

    def _map(
        self,
        batch: list[Delivery],
        done: dict[int, Checkpoint],
        catalogue: CatalogueVersion | None,
    ) -> _Mapped:
        """What the batch changes: states, updates, quarantined events, checkpoints."""
        floors = {part: cp.position for part, cp in done.items()}
        fresh = []
        for delivery in batch:
            if delivery.position > floors.get(delivery.part, 0):
                fresh.append(delivery)
                floors[delivery.part] = delivery.position
        decoded = [(d.position, *d.decode()) for d in fresh]
        codes = sorted({str(record.get("dossier_code")) for _, record, _ in decoded})
        states = {
            code: SyncState.model_validate(data)
            for code, data in outbox.load_states(self.db, codes).items()
        }
        mapped = _Mapped()
        integrated_now: dict[str, bool] = {}
        for position, record, transition in decoded:
            code = str(record.get("dossier_code"))
            try:
                state = fold(states.get(code), record, transition)
                day = _day(record["occurred_at"])
                if catalogue is not None:
                    carry_over(state, catalogue.tree, day)
                procedure = None
                if catalogue is not None and state.procedure_code:
                    procedure = catalogue.procedures.get(state.procedure_code)
                integrated = procedure is not None and procedure.integrated_on(day)
                update = None
                if integrated and procedure is not None:
                    step = progress_step(record, transition)
                    update = outbox.Update(
                        code,
                        position,
                        record["event_type"],
                        record["dossier_code"].split("-")[0],
                        day,
                        record.get("recorded_at"),
                        dossier_payload(state, procedure).model_dump(mode="json"),
                        step.model_dump(mode="json"),
                    )
            except Exception as error:  # one event's trouble is quarantined, not the batch
                mapped.quarantined.append((position, record, error))
                continue
            states[code] = state
            integrated_now[code] = integrated
            if update is not None:
                mapped.updates.append(update)
        for code, integrated in integrated_now.items():
            state = states[code]
            # The day it was received, or submitted if never received (reconcile's period).
            submitted = state.received_at or state.opened_at
            received = None if submitted is None else _day(submitted)
            mapped.states[code] = (state.unit, received, state.model_dump(), integrated)
        for part, delivery in last_per_part(batch).items():
            position = max(floors.get(part, 0), delivery.position)
            mapped.checkpoints.append((part, position, delivery.offset))
        return mapped

    def _quarantine(self, position: int, record: dict[str, Any], error: Exception) -> None:
        """Park an event the connector cannot map; its dossier's later events go on."""
        parked.park(self.db, parked.parked_event(QUARANTINE, position, record, error))

    def run(self, stop: threading.Event) -> None:
        self.start()
        consume(self.source, self.handle, self.db.connect, stop, "dvcqg.intake")


def _day(instant: str) -> date:
    return datetime.fromisoformat(instant).astimezone(VIETNAM).date()
