"""A rebuild's own parking: the events it could not fold, kept to be written when the new
tables are swapped in (see :mod:`hub.adapters.parked`). The fold runs on without them."""

from __future__ import annotations

from typing import Any

import orjson

from hub.adapters import parked
from projections.progress.facts import Fact, fact_of
from projections.progress.fold import ProgressFold


class Parking:
    def __init__(self, projection: str) -> None:
        self.projection = projection
        self.events: list[parked.ParkedEvent] = []
        self.unreadable_count = 0  # events the scan passed over without handing them on

    def fact(
        self, position: int, record: dict[str, Any], transition: dict[str, Any]
    ) -> Fact | None:
        """The event's fact, or ``None`` (parked) if it cannot be made."""
        try:
            return fact_of(position, record, transition)
        except Exception as error:
            self._park(position, record, error)
            return None

    def apply(self, fold: ProgressFold, fact: Fact) -> None:
        try:
            fold.apply(fact)
        except Exception as error:
            self.unfoldable(fact, error)

    def unfoldable(self, fact: Fact, error: Exception) -> None:
        """A fact the fold refused."""
        named = {"dossier_code": fact.dossier_code, "event_type": fact.event_type}
        self._park(fact.position, named, error)

    def failed(self, position: int, record: dict[str, Any], error: Exception) -> None:
        """An event (its stored record) that a fold could not take."""
        self._park(position, record, error)

    def unreadable(self, position: int, state: bytes, error: Exception) -> None:
        """A stored event (its stored state) the fast log scan could not read."""
        self.unreadable_count += 1
        try:
            record: dict[str, Any] | None = orjson.loads(state)["record"]
        except Exception:  # not even JSON: parked by its position alone
            record = None
        self._park(position, record, error)

    def _park(self, position: int, record: dict[str, Any] | None, error: Exception) -> None:
        self.events.append(parked.parked_event(self.projection, position, record, error))
