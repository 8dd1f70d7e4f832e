"""What the lifecycle knows of a dossier, and what an accepted event did to it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.enums import Channel, Decision, DossierStatus
from events.models import ProcessingTime

S = DossierStatus


@dataclass(frozen=True)
class Transition:
    """What an accepted event did to the dossier; stored with the event."""

    status_before: S | None
    status_after: S
    due_before: datetime | None
    due_after: datetime | None
    counted_due_after: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "status_before": None if self.status_before is None else int(self.status_before),
            "status_after": int(self.status_after),
            "due_before": _iso(self.due_before),
            "due_after": _iso(self.due_after),
            "counted_due_after": _iso(self.counted_due_after),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transition:
        before = data["status_before"]
        return cls(
            status_before=None if before is None else S(before),
            status_after=S(data["status_after"]),
            due_before=_parse(data["due_before"]),
            due_after=_parse(data["due_after"]),
            counted_due_after=_parse(data["counted_due_after"]),
        )


@dataclass(frozen=True)
class DossierState:
    """A dossier as the lifecycle sees it."""

    code: str
    status: S
    receiving_unit: str
    handling_unit: str
    procedure_code: str | None
    channel: Channel | None
    occurred_at: datetime
    received_at: datetime | None = None
    processing_time: ProcessingTime | None = None
    due_at: datetime | None = None
    counted_due_at: datetime | None = None
    paused_at: datetime | None = None
    apology_slips: int = 0
    decision: Decision | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    #: The units that may act on it: the unit that opened it and every unit it was
    #: transferred to (hub.domain.ownership).
    units: frozenset[str] = frozenset()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
