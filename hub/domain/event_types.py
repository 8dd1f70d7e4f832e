"""Every event type the hub knows, each in one entry: the unit of change. No I/O.

An entry says all the hub needs to know of one event type: its contract class
(:mod:`events.models`); from which statuses it is allowed and to which status it leads
(its row of the lifecycle's transition table); why it is refused when the dossier's status
does not allow it; what it does to the deadline (:class:`DeadlineRule`) and to the rest of
the dossier's state (its *evolve* hook); and what it did, in words (the portal's
``NoiDungXuLy``, the auditor's history). The lifecycle's table, the opening events, the
contract's list of types and the connector's step texts are derived from it, and a test
checks that every table keyed by event type anywhere in the hub covers every entry.

Adding an event type: its payload and envelope in :mod:`events.models` (and the union
there), its entry here, and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from events.enums import DossierStatus
from events.models import (
    ComplaintReceived,
    DeadlineExtended,
    DossierReceived,
    DossierRefused,
    DossierRegistered,
    DossierResolved,
    DossierTransferred,
    DossierWithdrawn,
    Envelope,
    FeePaid,
    FinancialObligationRequested,
    ProcessingResumed,
    ProcessingStopped,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from events.reasons import RejectReason
from hub.domain.standing import CLOCK_RUNS, WAITING
from hub.domain.state import DossierState

S = DossierStatus
#: A transition that keeps the status.
SAME: Final = "same"
_ACTIVE = tuple(sorted(CLOCK_RUNS))
_WAITING = tuple(sorted(WAITING))

#: What an event changes of the state besides status and deadlines (a dict of changes).
StateChange = Callable[[Any, DossierState | None], dict[str, Any]]


class DeadlineRule(Enum):
    """What an event does to the dossier's due date (worked out by the lifecycle)."""

    KEEPS = "keeps"
    #: The processing time starts: the due date from the payload, or counted from now.
    STARTS = "starts"
    #: An apology slip: the promised date moves later; the counted date does not.
    EXTENDS = "extends"
    #: Ends a wait for the applicant or a stop: the clock runs again (a completed
    #: supplement restarts it under the "recompute" rule).
    RESUMES = "resumes"


def _keeps(event: Any, state: DossierState | None) -> dict[str, Any]:
    return {}


def _submitted(event: Any, state: DossierState | None) -> dict[str, Any]:
    changes = {"procedure_code": event.payload.procedure_code, "channel": event.payload.channel}
    authority = event.payload.authority_code
    if authority is not None:  # received for another authority: it handles the dossier
        units = frozenset({event.unit_code}) if state is None else state.units
        changes.update(handling_unit=authority, units=units | {authority})
    return changes


def _received(event: Any, state: DossierState | None) -> dict[str, Any]:
    return {
        **_submitted(event, state),
        "received_at": event.occurred_at,
        "processing_time": event.payload.processing_time,
    }


def _transferred(event: Any, state: DossierState | None) -> dict[str, Any]:
    unit = event.payload.to_unit_code
    if not unit:
        return {}
    changes: dict[str, Any] = {"handling_unit": unit}
    if state is not None:
        changes["units"] = state.units | {unit}
    return changes


def _apologised(event: Any, state: DossierState | None) -> dict[str, Any]:
    return {"apology_slips": (0 if state is None else state.apology_slips) + 1}


def _resolved(event: Any, state: DossierState | None) -> dict[str, Any]:
    return {"decision": event.payload.decision, "finished_at": event.occurred_at}


def _returned(event: Any, state: DossierState | None) -> dict[str, Any]:
    return {"returned_at": event.occurred_at}


@dataclass(frozen=True)
class EventKind:
    """One event type, as the whole hub knows it."""

    contract: type[Envelope]
    #: status before (None: a dossier the hub has not seen) -> status after, or SAME.
    transitions: Mapping[S | None, S | str]
    #: What it did, in Vietnamese: the portal's NoiDungXuLy and the history's label.
    action: str
    #: Why it is refused when the status does not allow it (after a closed dossier's own
    #: reason; None: the status's reason).
    refusal: RejectReason | None = None
    deadline: DeadlineRule = DeadlineRule.KEEPS
    evolve: StateChange = _keeps

    @property
    def name(self) -> str:
        name: str = self.contract.model_fields["event_type"].default
        return name

    @property
    def opens(self) -> bool:
        """It may be a dossier's first event."""
        return None in self.transitions


_KINDS = (
    EventKind(
        DossierRegistered,
        {None: S.REGISTERED},
        "Nộp hồ sơ trực tuyến",
        RejectReason.DOSSIER_ALREADY_RECEIVED,
        evolve=_submitted,
    ),
    EventKind(
        DossierReceived,
        {None: S.RECEIVED, S.REGISTERED: S.RECEIVED},
        "Tiếp nhận hồ sơ",
        RejectReason.DOSSIER_ALREADY_RECEIVED,
        DeadlineRule.STARTS,
        _received,
    ),
    EventKind(
        DossierRefused,
        {None: S.NOT_RECEIVED, S.REGISTERED: S.NOT_RECEIVED},
        "Từ chối tiếp nhận hồ sơ",
        RejectReason.DOSSIER_ALREADY_RECEIVED,
    ),
    EventKind(
        DossierTransferred,
        dict.fromkeys(_ACTIVE, S.PROCESSING),
        "Chuyển xử lý",
        evolve=_transferred,
    ),
    EventKind(
        SupplementRequested,
        dict.fromkeys(_ACTIVE, S.SUPPLEMENT_REQUESTED),
        "Yêu cầu bổ sung hồ sơ",
    ),
    EventKind(
        SupplementReceived,
        {S.SUPPLEMENT_REQUESTED: S.PROCESSING},
        "Tiếp nhận hồ sơ bổ sung",
        RejectReason.SUPPLEMENT_NOT_REQUESTED,
        DeadlineRule.RESUMES,
    ),
    EventKind(
        FinancialObligationRequested,
        dict.fromkeys(_ACTIVE, S.FINANCIAL_OBLIGATION_REQUESTED),
        "Yêu cầu thực hiện nghĩa vụ tài chính",
    ),
    EventKind(
        FeePaid,
        {
            S.FINANCIAL_OBLIGATION_REQUESTED: S.PROCESSING,
            S.RECEIVED: SAME,
            S.PROCESSING: SAME,
            S.SUPPLEMENT_REQUESTED: SAME,
            S.FINISHED: SAME,
        },
        "Đã nộp phí, lệ phí",
        deadline=DeadlineRule.RESUMES,
    ),
    EventKind(
        ProcessingStopped,
        dict.fromkeys(
            (*_ACTIVE, S.SUPPLEMENT_REQUESTED, S.FINANCIAL_OBLIGATION_REQUESTED), S.STOPPED
        ),
        "Dừng xử lý",
    ),
    EventKind(
        ProcessingResumed,
        {S.STOPPED: S.PROCESSING},
        "Tiếp tục xử lý",
        RejectReason.NOT_STOPPED,
        DeadlineRule.RESUMES,
    ),
    EventKind(
        DeadlineExtended,
        dict.fromkeys((*_ACTIVE, *_WAITING), SAME),
        "Gia hạn, hẹn lại ngày trả kết quả",
        deadline=DeadlineRule.EXTENDS,
        evolve=_apologised,
    ),
    EventKind(
        DossierResolved,
        dict.fromkeys(_ACTIVE, S.FINISHED),
        "Hoàn thành xử lý",
        evolve=_resolved,
    ),
    EventKind(
        ResultReturned,
        {S.FINISHED: S.RESULT_RETURNED},
        "Trả kết quả",
        RejectReason.RESULT_BEFORE_RESOLUTION,
        evolve=_returned,
    ),
    EventKind(
        DossierWithdrawn,
        dict.fromkeys((S.REGISTERED, *_ACTIVE, *_WAITING), S.WITHDRAWN),
        "Công dân rút hồ sơ",
    ),
    EventKind(
        ComplaintReceived,
        # While the dossier is open; a closed one accepts no event (complaints about it go
        # to the complaints process, not to its lifecycle).
        dict.fromkeys((S.REGISTERED, *_ACTIVE, *_WAITING, S.FINISHED), SAME),
        "Tiếp nhận phản ánh, kiến nghị",
    ),
)

#: Every event type, by name, in the contract's order.
REGISTRY: Final[Mapping[str, EventKind]] = {kind.name: kind for kind in _KINDS}
#: The event types that may open a dossier.
OPENING: Final = frozenset(name for name, kind in REGISTRY.items() if kind.opens)
