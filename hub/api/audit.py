"""``GET /v1/audit/dossiers/{code}`` (auditors) and ``GET /v1/audit/checkpoints/latest``."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse, Response

from hub.audit import service
from hub.audit.checkpoints import read_published
from hub.audit.export import to_csv, to_html
from hub.audit.history import DossierHistory
from hub.auth.credentials import Principal, Role
from hub.bootstrap import Hub


def audit_router(hub: Hub, principal: Callable[..., Principal]) -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

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
        if who.role is not Role.AUDITOR:
            raise HTTPException(
                403,
                {"error": "forbidden", "message": "dossier histories need an auditor credential"},
            )
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
            return Response(to_csv(found), media_type="text/csv; charset=utf-8")
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

    return router
