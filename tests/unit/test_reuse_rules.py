"""The once-only rules of a reuse look-up, on dossiers folded from contract events."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from events.catalogue import ProcedureEntry, RequiredComponent, UnitLevel
from events.enums import OnlineServiceLevel, TimeUnit
from events.identity import applicant_id_hash
from events.models import ProcessingTime
from hub.reuse.decide import MESSAGES, Question, decide
from hub.reuse.models import Match, Refusal
from projections.reuse.fold import IndexedDossier, fold
from tests.factories import KEY, digest, event, received, resolution

COMMUNE = "000.01.60.H12"
DEPARTMENT = "000.00.01.H12"
EARLIER = f"{COMMUNE}-210315-0001"
OWNER = applicant_id_hash(KEY, "001099012345")
STRANGER = applicant_id_hash(KEY, "001099099999")
TODAY = date(2021, 6, 1)

BIRTH_CERTIFICATE = {
    "document_type": "GKS",
    "name": "Giấy khai sinh",
    "reference_number": "15/2021/GKS",
    "issued_on": "2021-03-16",
    "sha256": digest("giấy khai sinh"),
}
PROCEDURE = ProcedureEntry(
    code="1.000893",
    name="Cấp hộ chiếu phổ thông",
    field_code="XNC",
    level=UnitLevel.PROVINCE,
    service_level=OnlineServiceLevel.FULL,
    processing_time=ProcessingTime(value=8, unit=TimeUnit.WORKING_DAYS),
    components=(
        RequiredComponent(code="TK", name="Tờ khai"),
        RequiredComponent(code="KS", name="Bản sao giấy khai sinh", accepts_results=("GKS",)),
        RequiredComponent(code="CCCD", name="Bản sao CCCD", accepts_components=("TP1",)),
    ),
)


def dossier(*events: dict[str, Any]) -> IndexedDossier:
    folded = None
    for position, item in enumerate(events, start=1):
        folded = fold(folded, position, item)
    assert folded is not None
    return folded


def commune_dossier(*ending: dict[str, Any], code: str = EARLIER) -> IndexedDossier:
    return dossier(event("dossier.received", received(), code=code, unit=COMMUNE), *ending)


def approved(result: dict[str, Any] = BIRTH_CERTIFICATE, when: str = "2021-03-16 10:00") -> Any:
    payload = {**resolution(), "result_documents": [result]}
    return event("dossier.resolved", payload, code=EARLIER, unit=COMMUNE, when=when)


def question(**changes: Any) -> Question:
    base = {
        "lookup_id": "l-1",
        "permitted": True,
        "owner_hash": OWNER,
        "earlier_dossier": EARLIER,
        "procedure_code": PROCEDURE.code,
        "consent_reference": "DONG-Y-2021-0001",
        "match": None,
        "today": TODAY,
    }
    return Question(**{**base, **changes})


def test_a_commune_result_is_offered_to_a_provincial_department() -> None:
    earlier = commune_dossier(approved())
    answer = decide(question(), earlier, [earlier], PROCEDURE)
    assert answer.outcome == "granted"
    assert answer.reason is None
    [result] = answer.results
    assert (result.satisfies, result.document_type, result.reference_number) == (
        "KS",
        "GKS",
        "15/2021/GKS",
    )
    assert result.issuing_unit == COMMUNE
    assert result.sha256 == BIRTH_CERTIFICATE["sha256"]
    [component] = answer.components  # the identity copy submitted then, as TP1
    assert (component.satisfies, component.code) == ("CCCD", "TP1")


@pytest.mark.parametrize(
    ("earlier", "changes", "reason"),
    [
        (lambda: commune_dossier(approved()), {"permitted": False}, Refusal.AGENCY_NOT_PERMITTED),
        (lambda: commune_dossier(approved()), {"consent_reference": None}, Refusal.CONSENT_MISSING),
        (lambda: commune_dossier(approved()), {"owner_hash": STRANGER}, Refusal.NOT_FOUND),
        (lambda: None, {}, Refusal.NOT_FOUND),
        (
            lambda: commune_dossier(
                event(
                    "dossier.resolved",
                    {"decision": "denied", "note": "Không đủ điều kiện"},
                    code=EARLIER,
                    unit=COMMUNE,
                    when="2021-03-16 10:00",
                )
            ),
            {},
            Refusal.DENIED,
        ),
        (
            lambda: commune_dossier(
                event("dossier.withdrawn", code=EARLIER, unit=COMMUNE, when="2021-03-16 10:00")
            ),
            {},
            Refusal.WITHDRAWN,
        ),
        (
            lambda: dossier(  # registered online, then refused at the desk
                event("dossier.registered", code=EARLIER, unit=COMMUNE, when="2021-03-14 20:00"),
                event("dossier.refused", {"reason": "Sai thẩm quyền"}, code=EARLIER, unit=COMMUNE),
            ),
            {},
            Refusal.REFUSED,
        ),
        (lambda: commune_dossier(), {}, Refusal.NOT_RESOLVED),
    ],
    ids=[
        "agency-without-the-right",
        "missing-consent",
        "wrong-applicant",
        "unknown-code",
        "denied",
        "withdrawn",
        "refused-at-the-desk",
        "not-yet-resolved",
    ],
)
def test_each_refusal_has_its_reason_and_discloses_nothing(
    earlier: Any, changes: dict[str, Any], reason: Refusal
) -> None:
    found = earlier()
    answer = decide(question(**changes), found, [] if found is None else [found], PROCEDURE)
    assert (answer.outcome, answer.reason, answer.message) == ("refused", reason, MESSAGES[reason])
    assert answer.results == []
    assert answer.components == []


def test_a_wrong_applicant_and_an_unknown_code_get_the_same_answer() -> None:
    stranger = decide(question(owner_hash=STRANGER), commune_dossier(approved()), [], PROCEDURE)
    unknown = decide(question(), None, [], PROCEDURE)
    assert stranger.model_dump(exclude={"lookup_id"}) == unknown.model_dump(exclude={"lookup_id"})


def test_a_procedure_outside_the_catalogue_is_refused() -> None:
    answer = decide(question(), commune_dossier(approved()), [], None)
    assert answer.reason is Refusal.PROCEDURE_UNKNOWN


def test_a_result_nothing_asks_for_is_not_offered() -> None:
    other = {**BIRTH_CERTIFICATE, "document_type": "GCN"}
    earlier = commune_dossier(approved(other))
    only_results = PROCEDURE.model_copy(update={"components": PROCEDURE.components[:2]})
    answer = decide(question(), earlier, [earlier], only_results)
    assert answer.reason is Refusal.NOTHING_REUSABLE


def test_a_result_superseded_by_a_later_one_of_the_same_owner_is_not_offered() -> None:
    earlier = commune_dossier(approved())
    newer_result = {
        **BIRTH_CERTIFICATE,
        "reference_number": "40/2021/GKS",
        "issued_on": "2021-05-02",
    }
    later_code = f"{COMMUNE}-210430-0001"
    later = dossier(
        event(
            "dossier.received", received(), code=later_code, unit=COMMUNE, when="2021-04-30 08:00"
        ),
        event(
            "dossier.resolved",
            {**resolution(), "result_documents": [newer_result]},
            code=later_code,
            unit=COMMUNE,
            when="2021-05-02 08:00",
        ),
    )
    only_results = PROCEDURE.model_copy(update={"components": PROCEDURE.components[:2]})
    answer = decide(question(), earlier, [earlier, later], only_results)
    assert answer.reason is Refusal.SUPERSEDED
    # The later one itself is offered.
    newer = decide(question(earlier_dossier=later_code), later, [earlier, later], only_results)
    assert [r.reference_number for r in newer.results] == ["40/2021/GKS"]


def test_an_expired_result_is_not_offered() -> None:
    expiring = {**BIRTH_CERTIFICATE, "valid_until": "2021-05-31"}
    earlier = commune_dossier(approved(expiring))
    only_results = PROCEDURE.model_copy(update={"components": PROCEDURE.components[:2]})
    assert decide(question(), earlier, [earlier], only_results).reason is Refusal.EXPIRED
    still = decide(question(today=date(2021, 5, 31)), earlier, [earlier], only_results)
    assert still.outcome == "granted"


def test_match_only_confirms_without_handing_anything_over() -> None:
    earlier = commune_dossier(approved())
    yes = decide(
        question(match=Match(document_type="GKS", reference_number="15/2021/GKS")),
        earlier,
        [earlier],
        PROCEDURE,
    )
    no = decide(
        question(match=Match(document_type="GKS", reference_number="16/2021/GKS")),
        earlier,
        [earlier],
        PROCEDURE,
    )
    assert (yes.outcome, no.outcome) == ("matched", "not_matched")
    assert yes.results == []
    assert yes.components == []


def test_the_index_ignores_an_event_it_has_already_folded() -> None:
    first = commune_dossier(approved())
    again = fold(first, 1, event("dossier.withdrawn", code=EARLIER, unit=COMMUNE))
    assert again.status == "approved"
    assert again.position == 2


def test_documents_received_as_a_supplement_are_indexed() -> None:
    extra = {"components": [{"code": "BS", "name": "Bổ sung", "sha256": digest("bs")}]}
    folded = commune_dossier(
        event(
            "dossier.supplement_received",
            extra,
            code=EARLIER,
            unit=COMMUNE,
            when="2021-03-16 08:00",
        )
    )
    assert [c["code"] for c in folded.components] == ["TP1", "BS"]


def test_a_dossier_refused_at_the_desk_without_a_submission_belongs_to_no_one() -> None:
    refused = dossier(
        event("dossier.refused", {"reason": "Sai thẩm quyền"}, code=EARLIER, unit=COMMUNE)
    )
    assert refused.owner_hash is None
    assert decide(question(), refused, [], PROCEDURE).reason is Refusal.NOT_FOUND
