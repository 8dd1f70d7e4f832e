"""Per-unit figures as of one instant, folded from the log of accepted events.

Counting follows provincial practice (see docs/decisions/0004-counting.md): a dossier is
resolved when it reaches status 9 or 10; its finish date is compared with its counted due
date *by date* in Vietnam time (earlier: early, same day: on time, later: late; an apology
slip does not move the counted due date). A received dossier that is not finished,
withdrawn or refused is pending, and overdue once its due date has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from events.enums import Channel, DossierStatus

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_FINISHED = {DossierStatus.FINISHED, DossierStatus.RESULT_RETURNED}


@dataclass
class _Dossier:
    unit: str
    status: DossierStatus
    channel: Channel | None = None
    received: bool = False
    counted_due: datetime | None = None
    finished_at: datetime | None = None


@dataclass
class UnitSummary:
    unit_code: str
    received: dict[Channel, int] = field(default_factory=lambda: dict.fromkeys(Channel, 0))
    early: int = 0
    on_time: int = 0
    late: int = 0
    withdrawn: int = 0
    refused: int = 0
    pending_within_deadline: int = 0
    overdue: int = 0

    @property
    def received_total(self) -> int:
        return sum(self.received.values())

    @property
    def resolved(self) -> int:
        return self.early + self.on_time + self.late


def summarise(
    events: Iterable[tuple[dict[str, Any], dict[str, Any]]], as_of: datetime
) -> dict[str, UnitSummary]:
    """Fold ``(record, transition)`` pairs, in log order, into figures per receiving unit."""
    dossiers: dict[str, _Dossier] = {}
    for record, transition in events:
        occurred = datetime.fromisoformat(record["occurred_at"])
        if occurred > as_of:
            continue
        code = record["dossier_code"]
        status = DossierStatus(transition["status_after"])
        dossier = dossiers.get(code)
        if dossier is None:
            dossier = dossiers[code] = _Dossier(unit=record["unit_code"], status=status)
        dossier.status = status
        if record["event_type"] == "dossier.received":
            dossier.received = True
            dossier.channel = Channel(record["payload"]["channel"])
        if transition["counted_due_after"]:
            dossier.counted_due = datetime.fromisoformat(transition["counted_due_after"])
        if status is DossierStatus.FINISHED and transition["status_before"] != status:
            dossier.finished_at = occurred
    units: dict[str, UnitSummary] = {}
    for dossier in dossiers.values():
        summary = units.setdefault(dossier.unit, UnitSummary(dossier.unit))
        if dossier.status is DossierStatus.NOT_RECEIVED:
            summary.refused += 1
            continue
        if not dossier.received:
            continue
        assert dossier.channel is not None
        summary.received[dossier.channel] += 1
        if dossier.status is DossierStatus.WITHDRAWN:
            summary.withdrawn += 1
        elif dossier.status in _FINISHED:
            assert dossier.finished_at is not None
            _count_resolution(summary, dossier.finished_at, dossier.counted_due)
        elif dossier.counted_due is not None and dossier.counted_due < as_of:
            summary.overdue += 1
        else:
            summary.pending_within_deadline += 1
    return units


def _count_resolution(summary: UnitSummary, finished: datetime, due: datetime | None) -> None:
    if due is None:
        summary.on_time += 1
        return
    finished_on, due_on = finished.astimezone(VIETNAM).date(), due.astimezone(VIETNAM).date()
    if finished_on < due_on:
        summary.early += 1
    elif finished_on == due_on:
        summary.on_time += 1
    else:
        summary.late += 1
