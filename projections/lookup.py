"""A citizen's look-up of a dossier by its code: what provincial portals show and nothing
personal. The procedure, the receiving unit, the status, each step with its date and the
unit that took it, the counted due date, and where it stands (:mod:`hub.domain.standing`,
the rule the figures count by): early, on time, late (with the apology slip's new date),
pending within the deadline or overdue. No applicant, official, document or note is shown.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from events.codes import DossierCodeError, parse_dossier_code
from hub.application import DossierStore
from hub.audit.history import StoredEvent, history
from hub.catalogue.versions import CatalogueVersion
from hub.domain.standing import Standing
from hub.log_reader import dossier_history


class PublicStep(BaseModel):
    event_type: str
    occurred_at: datetime
    unit_code: str
    unit_name: str | None
    status_after: str


class Apology(BaseModel):
    """An apology slip: the dossier will be late; it still counts as late."""

    slip_number: str
    new_due_at: datetime
    reason: str
    issued_at: datetime


class PublicDossier(BaseModel):
    dossier_code: str
    procedure_code: str | None
    procedure_name: str | None
    receiving_unit_code: str | None
    receiving_unit_name: str | None
    status: str | None = Field(description="The dossier's status (domain.md's names)")
    received_at: datetime | None
    due_at: datetime | None = Field(description="The counted due date")
    resolved_at: datetime | None
    standing: Standing | None
    apologies: list[Apology]
    supplements_requested: int
    processing_stops: int
    steps: list[PublicStep]
    as_of: datetime


class BadCode(ValueError):
    """Not a dossier code."""


def look_up(
    store: DossierStore, catalogue: CatalogueVersion | None, code: str, now: datetime
) -> PublicDossier | None:
    """The dossier ``code`` as the public may see it at ``now``; None if the hub has none.
    :class:`BadCode` for text that is not a dossier code."""
    try:
        parse_dossier_code(code)
    except DossierCodeError as error:
        raise BadCode(str(error)) from None
    events = dossier_history(store, code)
    if not events:
        return None
    stored: list[StoredEvent] = [(e.position, e.record, e.transition, None) for e in events]
    found = history(code, stored, now=now)
    state = found.state

    def unit_name(unit: str | None) -> str | None:
        entry = None if catalogue is None or unit is None else catalogue.units.get(unit)
        return None if entry is None else entry.name

    procedure = (
        None
        if catalogue is None or state.procedure_code is None
        else (catalogue.procedures.get(state.procedure_code))
    )
    kinds = [e.record["event_type"] for e in events]
    return PublicDossier(
        dossier_code=code,
        procedure_code=state.procedure_code,
        procedure_name=None if procedure is None else procedure.name,
        receiving_unit_code=state.receiving_unit,
        receiving_unit_name=unit_name(state.receiving_unit),
        status=state.status,
        received_at=state.received_at,
        due_at=state.counted_due_at,
        resolved_at=state.resolved_at,
        standing=state.outcome,
        apologies=[
            Apology(
                slip_number=e.record["payload"]["apology_slip_number"],
                new_due_at=datetime.fromisoformat(e.record["payload"]["new_due_at"]),
                reason=e.record["payload"]["reason"],
                issued_at=datetime.fromisoformat(e.record["occurred_at"]),
            )
            for e in events
            if e.record["event_type"] == "dossier.deadline_extended"
        ],
        supplements_requested=kinds.count("dossier.supplement_requested"),
        processing_stops=kinds.count("dossier.processing_stopped"),
        steps=[
            PublicStep(
                event_type=e.record["event_type"],
                occurred_at=datetime.fromisoformat(e.record["occurred_at"]),
                unit_code=e.record["unit_code"],
                unit_name=unit_name(e.record["unit_code"]),
                status_after=entry.status_after,
            )
            for e, entry in zip(events, found.timeline, strict=True)
        ],
        as_of=now,
    )
