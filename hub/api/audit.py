"""The audit endpoints: dossier histories, the latest checkpoint, applicants' personal data
(auditors only, every read recorded) and its erasure."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from events.models import ApplicantDetails
from hub.api.schemas import ErasureDoc, PersonalDataReadDoc
from hub.audit import service
from hub.audit.checkpoints import read_published
from hub.audit.export import to_csv, to_html
from hub.audit.history import DossierHistory
from hub.auth.credentials import Principal, Role
from hub.bootstrap import Hub
from hub.personal.erasure import erase_applicant
from hub.personal.keys import ApplicantKeys
from hub.personal.reads import PersonalDataReads
from hub.personal.reveal import NotAnAuditorError, UnknownDossierError, reveal


def audit_router(hub: Hub, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    def auditor(who: Principal) -> None:
        if who.role is not Role.AUDITOR:
            raise HTTPException(
                403, {"error": "forbidden", "message": "this needs an auditor credential"}
            )

    @router.get(
        "/dossiers/{code}",
        response_model=DossierHistory,
        responses={
            200: {"content": {"text/csv": {}, "text/html": {}}},
            403: {"description": "Not an auditor credential"},
            404: {"description": "No such dossier"},
        },
        summary="A dossier's timeline and its state as of an instant (auditors)",
    )
    def dossier(
        code: Annotated[str, Path(max_length=64)],
        who: Annotated[Principal, Depends(principal)],
        as_of: Annotated[
            datetime | None, Query(description="The dossier as it was then (ISO 8601, zoned)")
        ] = None,
        known_at: Annotated[
            datetime | None, Query(description="Only events recorded by then (ISO 8601, zoned)")
        ] = None,
        format: Annotated[Literal["json", "csv", "html"], Query()] = "json",
    ) -> object:
        auditor(who)
        for name, value in (("as_of", as_of), ("known_at", known_at)):
            if value is not None and value.tzinfo is None:
                raise HTTPException(
                    422, {"error": "instant_without_zone", "message": f"{name} needs a time zone"}
                )
        try:
            found = service.dossier_history(hub.store, code, as_of, known_at)
        except service.NotFoundError as error:
            raise HTTPException(404, {"error": "not_found", "message": str(error)}) from None
        if format == "csv":
            return Response(
                to_csv(found),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="dossier-{code}.csv"'},
            )
        if format == "html":
            return Response(
                to_html(found, datetime.now(UTC)), media_type="text/html; charset=utf-8"
            )
        return found

    @router.get(
        "/checkpoints/latest",
        response_class=PlainTextResponse,
        responses={404: {"description": "No checkpoint signed yet"}},
        summary="The latest signed checkpoint of the log (public)",
    )
    def latest_checkpoint() -> str:
        published = read_published(hub.settings.audit_dir)
        if not published:
            raise HTTPException(404, {"error": "not_found", "message": "no checkpoint yet"})
        return max(published.items(), key=lambda item: int(item[0].stem))[1]

    reads = PersonalDataReads(hub.settings)

    @router.get(
        "/dossiers/{code}/applicant",
        response_model=RevealedView,
        responses={403: {"description": "Not an auditor (the attempt is recorded)"}},
        summary="The applicant's name and contact details (auditors; every read recorded)",
    )
    def applicant(
        code: Annotated[str, Path(max_length=64)],
        purpose: Annotated[str, Query(min_length=3, max_length=500, description="Why")],
        who: Annotated[Principal, Depends(principal)],
    ) -> RevealedView:
        keys = ApplicantKeys(hub.settings)
        try:
            found = reveal(hub.store, keys, reads, who, code, purpose)
        except NotAnAuditorError as error:
            raise HTTPException(403, {"error": "forbidden", "message": str(error)}) from None
        except UnknownDossierError as error:
            raise HTTPException(404, {"error": "not_found", "message": str(error)}) from None
        finally:
            keys.close()
        return RevealedView(
            dossier_code=found.dossier_code,
            applicant_hash=found.applicant_hash,
            outcome=found.outcome,
            details=found.details,
            read_id=found.read_id,
        )

    @router.get(
        "/dossiers/{code}/applicant/reads",
        response_model=list[PersonalDataReadDoc],
        summary="Every attempt to read the dossier's personal data (auditors)",
    )
    def applicant_reads(
        code: Annotated[str, Path(max_length=64)],
        who: Annotated[Principal, Depends(principal)],
    ) -> list[dict[str, object]]:
        auditor(who)
        return [read.to_json() for read in reads.history(code)]

    @router.post(
        "/applicants/{applicant_hash}/erasure",
        response_model=ErasureDoc,
        summary="Erase an applicant's data key: their personal data becomes unreadable",
    )
    def erase(
        applicant_hash: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
        request: ErasureRequest,
        who: Annotated[Principal, Depends(principal)],
    ) -> dict[str, object]:
        auditor(who)
        had = erase_applicant(
            hub.settings, applicant_hash, f"{who.key_id} ({who.name})", request.reason
        )
        return {"applicant_hash": applicant_hash, "erased": had}

    return router


class RevealedView(BaseModel):
    dossier_code: str
    applicant_hash: str | None
    outcome: str
    details: ApplicantDetails | None
    read_id: str


class ErasureRequest(BaseModel):
    reason: str = Field(min_length=3, max_length=500)
