"""What the reuse index keeps of a dossier, folded from its events. No I/O.

For each dossier: the receiving unit, the procedure, the owner (the keyed identity hash its
submission carried), the documents submitted (at submission and with supplements), the result
documents issued, the earlier dossiers it reused, and where it ended: ``open`` until it is
resolved, then ``approved`` or ``denied``; ``withdrawn`` or ``refused`` if it ended so. Only
an approved dossier's results are ever offered for reuse; whether a result was superseded
by a later one, or has expired, is decided at look-up time (see :mod:`hub.reuse.decide`),
since the later dossier may be folded by another worker.
"""

from __future__ import annotations

from typing import Any

from hub.reuse.models import (
    APPROVED,
    DENIED,
    OPEN,
    REFUSED,
    WITHDRAWN,
    IndexedDossier,
)
from projections.progress.facts import vietnam_day

__all__ = ["APPROVED", "DENIED", "OPEN", "REFUSED", "WITHDRAWN", "IndexedDossier", "fold"]
_SUBMISSIONS = frozenset({"dossier.registered", "dossier.received"})


def fold(dossier: IndexedDossier | None, position: int, record: dict[str, Any]) -> IndexedDossier:
    """``dossier`` with the event at ``position`` applied (a new one if None)."""
    if dossier is None:
        dossier = IndexedDossier(record["dossier_code"], record["unit_code"])
    if position <= dossier.position:
        return dossier
    dossier.position = position
    event_type, payload = record["event_type"], record["payload"]
    if event_type in _SUBMISSIONS:
        dossier.procedure_code = payload["procedure_code"]
        dossier.owner_hash = payload["applicant_id_hash"]
        dossier.components = [_component(c) for c in payload.get("components", ())]
        reused = list(payload.get("reused_dossiers", ()))
        reused += [c["reused_from"] for c in dossier.components if c.get("reused_from")]
        dossier.reuses = sorted(set(reused))
        if event_type == "dossier.received":
            dossier.received_on = vietnam_day(record["occurred_at"])
    elif event_type == "dossier.supplement_received":
        dossier.components += [_component(c) for c in payload.get("components", ())]
    elif event_type == "dossier.resolved":
        dossier.resolved_on = vietnam_day(record["occurred_at"])
        if payload["decision"] == "approved":
            dossier.status = APPROVED
            dossier.results = [_result(r) for r in payload.get("result_documents", ())]
        else:
            dossier.status = DENIED
    elif event_type == "dossier.withdrawn":
        dossier.status = WITHDRAWN
    elif event_type == "dossier.refused":
        dossier.status = REFUSED
        dossier.procedure_code = payload.get("procedure_code") or dossier.procedure_code
    return dossier


def _component(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": raw["code"],
        "name": raw["name"],
        "sha256": raw["sha256"],
        "reused_from": raw.get("reused_from"),
    }


def _result(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "document_type": raw["document_type"],
        "name": raw["name"],
        "reference_number": raw["reference_number"],
        "issued_on": str(raw["issued_on"]),
        "valid_until": None if raw.get("valid_until") is None else str(raw["valid_until"]),
        "sha256": raw["sha256"],
    }
