"""A rebuild's own parking: the events it could not fold, kept to be written when the new
tables are swapped in (see :mod:`projections.parked`). The fold runs on without them."""

from __future__ import annotations

from typing import Any

import orjson
import structlog

from projections import parked
from projections.progress.facts import Fact, fact_of
from projections.progress.fold import ProgressFold

logger = structlog.get_logger("projections.rebuild")


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
            self._park(position, record.get("dossier_code"), record.get("event_type"), error)
            return None

    def apply(self, fold: ProgressFold, fact: Fact) -> None:
        try:
            fold.apply(fact)
        except Exception as error:
            self.unfoldable(fact, error)

    def unfoldable(self, fact: Fact, error: Exception) -> None:
        """A fact the fold refused."""
        self._park(fact.position, fact.dossier_code, fact.event_type, error)

    def failed(self, position: int, record: dict[str, Any], error: Exception) -> None:
        """An event (its stored record) that a fold could not take."""
        self._park(position, record.get("dossier_code"), record.get("event_type"), error)

    def unreadable(self, position: int, state: bytes, error: Exception) -> None:
        """A stored event (its stored state) the fast log scan could not read."""
        self.unreadable_count += 1
        code = kind = None
        try:
            record = orjson.loads(state)["record"]
            code, kind = record.get("dossier_code"), record.get("event_type")
        except Exception:  # noqa: S110 - not even JSON: parked by its position alone
            pass
        self._park(position, code, kind, error)

    def _park(self, position: int, code: object, kind: object, error: Exception) -> None:
        reason = parked.describe(error)
        self.events.append(
            parked.ParkedEvent(
                self.projection,
                position,
                None if code is None else str(code),
                None if kind is None else str(kind),
                reason,
                parked.now(),
            )
        )
        logger.error(
            "projections.event_parked",
            projection=self.projection,
            position=position,
            dossier_code=code,
            event_type=kind,
            error=reason,
        )
