"""``POST /v1/reuse/lookups`` and ``GET /v1/reuse/dossiers/{code}/history``."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.api.schemas import ReuseHistoryDoc
from hub.auth.credentials import Principal, Role
from hub.reuse.models import LookupAnswer, LookupRequest, Refusal
from projections.read_models import ReadModels
from projections.reuse import tables
from projections.reuse.service import IdentityKeyMissingError, ReuseService


def reuse_router(models: ReadModels, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/reuse", tags=["reuse"])

    def service() -> ReuseService:
        return ReuseService(models.settings, models.db(), models.catalogue, models.ledger)

    @router.post(
        "/lookups",
        response_model=LookupAnswer,
        responses={
            403: {"model": LookupAnswer, "description": "The credential may not look up"},
            422: {"description": "The request is not a look-up, or no identity key is set"},
        },
        summary="What of an earlier dossier may be reused for a procedure",
    )
    async def lookup(request: LookupRequest, who: Annotated[Principal, Depends(principal)]) -> Any:
        try:
            # Built in the worker thread: read-model connections belong to their thread.
            answer = await run_in_threadpool(lambda: service().lookup(who, request))
        except IdentityKeyMissingError as error:
            raise HTTPException(
                422, {"error": "identity_key_missing", "message": str(error)}
            ) from None
        if answer.reason is Refusal.AGENCY_NOT_PERMITTED:
            return JSONResponse(answer.model_dump(mode="json"), status_code=403)
        return answer

    @router.get(
        "/dossiers/{code}/history",
        response_model=ReuseHistoryDoc,
        summary="A dossier's look-ups and reuses (auditors)",
    )
    def history(
        code: Annotated[str, Path(max_length=64)],
        who: Annotated[Principal, Depends(principal)],
    ) -> dict[str, Any]:
        if who.role is not Role.AUDITOR:
            raise HTTPException(
                403, {"error": "forbidden", "message": "reuse history needs an auditor credential"}
            )
        lookups = models.ledger.history(code)
        return {
            "dossier_code": code,
            "lookups": [item.to_json() for item in lookups],
            "reused_by": tables.reused_by(models.db(), code),
        }

    return router
