"""The once-only rules of a reuse look-up. No I/O: the index rows, the catalogue entry and
the caller's right come in, the answer goes out.

In order: the agency must have the right to look up for the unit it names; the applicant's
consent reference is required; procedure P must be in the catalogue; the earlier dossier
must exist *and* belong to the applicant (both failures give one answer, ``not_found``, so a
stranger learns nothing, not even that the code exists); it must have been approved (denied,
withdrawn, refused and unresolved dossiers are never offered). Then each document P asks
for is matched, through the catalogue's mapping, with the earlier dossier's results and
submitted documents. A result is offered only while valid: not past ``valid_until``, and not
superseded by a result of the same type issued later to the same owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from events.catalogue import ProcedureEntry
from hub.reuse.models import (
    APPROVED,
    DENIED,
    OPEN,
    REFUSED,
    WITHDRAWN,
    IndexedDossier,
    LookupAnswer,
    Match,
    Refusal,
    ReusableComponent,
    ReusableResult,
)

_ENDED: dict[str, Refusal] = {
    DENIED: Refusal.DENIED,
    WITHDRAWN: Refusal.WITHDRAWN,
    REFUSED: Refusal.REFUSED,
    OPEN: Refusal.NOT_RESOLVED,
}
MESSAGES: dict[Refusal, str] = {
    Refusal.AGENCY_NOT_PERMITTED: "this credential may not look up earlier dossiers for that unit",
    Refusal.CONSENT_MISSING: "the applicant's consent reference is required",
    Refusal.NOT_FOUND: "no dossier of that code belongs to this applicant",
    Refusal.DENIED: "the earlier dossier was denied: nothing of it can be reused",
    Refusal.WITHDRAWN: "the earlier dossier was withdrawn: nothing of it can be reused",
    Refusal.REFUSED: "the earlier dossier was refused at the desk: nothing of it can be reused",
    Refusal.NOT_RESOLVED: "the earlier dossier is still being processed",
    Refusal.PROCEDURE_UNKNOWN: "the procedure is not in the catalogue",
    Refusal.NOTHING_REUSABLE: "nothing of the earlier dossier stands in for what the "
    "procedure asks for",
    Refusal.SUPERSEDED: "the earlier result was superseded by a later one",
    Refusal.EXPIRED: "the earlier result is no longer valid",
}


@dataclass(frozen=True)
class Question:
    """A look-up as the rules see it: the applicant already reduced to a keyed hash."""

    lookup_id: str
    permitted: bool
    owner_hash: str
    earlier_dossier: str
    procedure_code: str
    consent_reference: str | None
    match: Match | None
    today: date


def decide(
    question: Question,
    earlier: IndexedDossier | None,
    owners_dossiers: list[IndexedDossier],
    procedure: ProcedureEntry | None,
) -> LookupAnswer:
    """The answer to ``question``. ``owners_dossiers``: the applicant's indexed dossiers (to
    see which results later ones superseded)."""

    def refuse(reason: Refusal) -> LookupAnswer:
        return LookupAnswer(
            lookup_id=question.lookup_id,
            outcome="refused",
            reason=reason,
            message=MESSAGES[reason],
            earlier_dossier=question.earlier_dossier,
            procedure_code=question.procedure_code,
        )

    if not question.permitted:
        return refuse(Refusal.AGENCY_NOT_PERMITTED)
    if not question.consent_reference:
        return refuse(Refusal.CONSENT_MISSING)
    if procedure is None:
        return refuse(Refusal.PROCEDURE_UNKNOWN)
    if earlier is None or earlier.owner_hash != question.owner_hash:
        return refuse(Refusal.NOT_FOUND)
    if earlier.status != APPROVED:
        return refuse(_ENDED.get(earlier.status, Refusal.NOT_RESOLVED))
    later = [d for d in owners_dossiers if d.dossier_code != earlier.dossier_code]
    if question.match is not None:
        return _match(question, earlier, later)
    components: list[ReusableComponent] = []
    results: list[ReusableResult] = []
    dropped: list[Refusal] = []
    for wanted in procedure.components:
        for result in earlier.results:
            if result["document_type"] not in wanted.accepts_results:
                continue
            problem = _invalid(result, earlier, later, question.today)
            if problem is not None:
                dropped.append(problem)
                continue
            results.append(_reusable_result(wanted.code, result, earlier.unit_code))
        components += [
            ReusableComponent(
                satisfies=wanted.code, code=c["code"], name=c["name"], sha256=c["sha256"]
            )
            for c in earlier.components
            if c["code"] in wanted.accepts_components
        ]
    if not components and not results:
        if dropped and all(r is Refusal.SUPERSEDED for r in dropped):
            return refuse(Refusal.SUPERSEDED)
        if dropped and all(r is Refusal.EXPIRED for r in dropped):
            return refuse(Refusal.EXPIRED)
        return refuse(Refusal.NOTHING_REUSABLE)
    return LookupAnswer(
        lookup_id=question.lookup_id,
        outcome="granted",
        message=f"{len(results)} result(s) and {len(components)} document(s) may be reused",
        earlier_dossier=question.earlier_dossier,
        procedure_code=question.procedure_code,
        components=components,
        results=results,
    )


def _match(
    question: Question, earlier: IndexedDossier, later: list[IndexedDossier]
) -> LookupAnswer:
    assert question.match is not None
    wanted = question.match
    found = [
        r
        for r in earlier.results
        if r["document_type"] == wanted.document_type
        and r["reference_number"] == wanted.reference_number
    ]
    valid = any(_invalid(r, earlier, later, question.today) is None for r in found)
    return LookupAnswer(
        lookup_id=question.lookup_id,
        outcome="matched" if valid else "not_matched",
        message="a valid document of that type and number exists"
        if valid
        else "no valid document of that type and number",
        earlier_dossier=question.earlier_dossier,
        procedure_code=question.procedure_code,
    )


def _invalid(
    result: dict[str, Any], earlier: IndexedDossier, later: list[IndexedDossier], today: date
) -> Refusal | None:
    """Why a result may not be offered any more, or None while it is valid."""
    until = result.get("valid_until")
    if until is not None and date.fromisoformat(until) < today:
        return Refusal.EXPIRED
    mine = (result["issued_on"], earlier.position)
    for other in later:
        if other.status != APPROVED:
            continue
        for newer in other.results:
            if (
                newer["document_type"] == result["document_type"]
                and (
                    newer["issued_on"],
                    other.position,
                )
                > mine
            ):
                return Refusal.SUPERSEDED
    return None


def _reusable_result(satisfies: str, result: dict[str, Any], unit: str) -> ReusableResult:
    return ReusableResult(
        satisfies=satisfies,
        document_type=result["document_type"],
        name=result["name"],
        reference_number=result["reference_number"],
        issued_on=date.fromisoformat(result["issued_on"]),
        valid_until=None
        if result["valid_until"] is None
        else date.fromisoformat(result["valid_until"]),
        issuing_unit=unit,
        sha256=result["sha256"],
    )


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)
