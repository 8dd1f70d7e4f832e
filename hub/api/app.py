"""The FastAPI application: thin, in front of the same ingest path as every other source.

No ``from __future__ import annotations`` here: FastAPI reads the dependencies of the
endpoints (closures inside :func:`create_app`) from their evaluated annotations.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any

import orjson
import structlog
from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.dvcqg import outbox
from connectors.dvcqg import status as sync_status
from events.codes import CodeFormatError, parse_dossier_code
from events.errors import EventRejected
from events.models import DossierEvent
from events.reasons import RejectReason
from hub import metrics
from hub.api.audit import audit_router
from hub.api.docs import docs_router
from hub.api.probes import Dependencies, add_probes
from hub.api.progress import progress_router
from hub.api.reuse import reuse_router
from hub.api.schemas import DossierView, IngestResponse, Problem
from hub.api.security_headers import SecurityHeaders
from hub.auth.bearer import MalformedAuthorizationError, bearer_token
from hub.auth.credentials import Principal, Role
from hub.auth.store import AuthenticationError, CredentialStore
from hub.board.pages import BoardError, board_router, error_page
from hub.bootstrap import Hub
from hub.bus.rejects import Reject, RejectSink
from hub.domain.ownership import Transport
from hub.group_commit import GroupCommitter, Items
from hub.ingest import Outcome, admit, publisher_of
from hub.supervisor import Readiness
from projections.periods import Period, PeriodError
from projections.read_models import ReadModels

logger = structlog.get_logger("hub.api")

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer dvc_...`")


def _problem(status: int, error: str, message: str, **headers: str) -> HTTPException:
    return HTTPException(
        status, detail={"error": error, "message": message}, headers=headers or None
    )


def _request_body_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON Schema (one event or a list) and the schemas it refers to."""
    adapter: TypeAdapter[Any] = TypeAdapter(DossierEvent | list[DossierEvent])
    schema = adapter.json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return schema, definitions


#: Requests of at most this many events are parsed and checked on the event loop: a thread
#: hop costs more than checking one event (about a tenth of a millisecond).
INLINE_EVENTS = 4


def create_app(
    hub: Hub,
    credentials: CredentialStore,
    rejects: RejectSink,
    readiness: Callable[[], None] | None = None,
    read_models: ReadModels | None = None,
    services: Callable[[], Readiness] | None = None,
) -> FastAPI:
    """The API over ``hub``; ``readiness`` raises when a dependency besides the store is down;
    ``services`` tells how the process's supervised services are."""
    settings = hub.settings
    committer = (
        GroupCommitter(hub.ingestor, settings.api_group_commit_events)
        if settings.api_group_commit
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if committer is not None:  # what is queued is written before the process ends
            await run_in_threadpool(committer.stop)

    app = FastAPI(
        lifespan=lifespan,
        # The hub exports its own Prometheus metrics; FastAPI's OpenTelemetry hooks would ask
        # for a tracer provider on every request (a tenth of a one-event request's time).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # served by the hub itself (hub.api.docs), not from a CDN
        redoc_url=None,
        title="DVC Hub",
        version="1",
        description=(
            "Dossier events of the province's one-stop system. Publish events with a "
            "publisher credential; read dossiers with a reader or auditor credential. The "
            "published figures (/v1/units, /v1/reports, /v1/rankings) are public."
        ),
    )
    app.add_middleware(SecurityHeaders)
    app.include_router(docs_router(app.title))
    body_schema, definitions = _request_body_schema()
    if read_models is not None:
        app.include_router(progress_router(read_models))
        app.include_router(board_router(read_models, hub.store, settings.board_lookup_rate))

    @app.exception_handler(BoardError)
    async def _board_error(request: Request, error: BoardError) -> Response:
        return error_page(request, error.status, error.words_key, error.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if _is_board(request):  # a citizen's browser: a page in its language, not JSON
            names = ", ".join(
                dict.fromkeys(".".join(str(p) for p in e["loc"][1:]) for e in error.errors())
            )
            return error_page(request, 422, "bad_value", names)
        return await request_validation_exception_handler(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _problem_handler(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404 and _is_board(request) and error.detail == "Not Found":
            return error_page(request, 404, "page_not_found", request.url.path[:80])
        detail = (
            error.detail
            if isinstance(error.detail, dict)
            else {
                "error": "http_error",
                "message": str(error.detail),
            }
        )
        return JSONResponse(detail, status_code=error.status_code, headers=error.headers)

    def principal(
        request: Request,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        # HTTPBearer documents the scheme; the header is read as on every channel.
        try:
            key = bearer_token(request.headers.getlist("authorization"))
            return credentials.authenticate(key)
        except (AuthenticationError, MalformedAuthorizationError) as error:
            raise _problem(
                401, "unauthenticated", str(error), **{"WWW-Authenticate": "Bearer"}
            ) from None

    if read_models is not None:
        app.include_router(reuse_router(read_models, principal))
    app.include_router(audit_router(hub, principal))

    def reader(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.may_read():
            raise _problem(403, "forbidden", "reading needs a reader or auditor credential")
        return who

    def publisher(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role is not Role.PUBLISHER:
            raise _problem(403, "forbidden", "publishing needs a publisher credential")
        return who

    @app.post(
        "/v1/events",
        response_model=IngestResponse,
        responses={
            400: {"model": Problem, "description": "The body is not JSON, or not events"},
            401: {"model": Problem},
            403: {"model": Problem, "description": "Not a publisher, or no event of its units"},
            413: {"model": Problem, "description": "Request or batch too large"},
            422: {"model": IngestResponse, "description": "The single event sent was rejected"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": body_schema}},
            }
        },
        summary="Publish one event or a batch",
    )
    async def post_events(
        request: Request, who: Annotated[Principal, Depends(publisher)]
    ) -> Response:
        request_id = uuid.uuid4().hex
        body = await _read_limited(request, settings.api_max_request_bytes)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            await run_in_threadpool(
                rejects.publish, [_whole_body_reject(body, request_id, f"not valid JSON: {error}")]
            )
            raise _problem(
                400, RejectReason.MALFORMED_JSON.value, f"not valid JSON: {error}"
            ) from None
        single = isinstance(document, dict)
        items = [document] if single else document
        if not isinstance(items, list) or not items:
            raise _problem(
                400, "not_events", "the body must be one event (an object) or a non-empty array"
            )
        if len(items) > settings.api_max_batch_events:
            raise _problem(
                413,
                "batch_too_large",
                f"{len(items)} events; at most {settings.api_max_batch_events} per request",
            )
        raws = [orjson.dumps(item) for item in items]
        if committer is None:
            outcomes = await run_in_threadpool(hub.ingestor.submit_bytes, raws, who, Transport.HTTP)
        else:
            by = publisher_of(who, Transport.HTTP)
            if len(raws) <= INLINE_EVENTS:  # a few events: checked at once, no thread hop
                admitted: Items | Callable[[], Items] = [admit(raw, who) for raw in raws]
            else:  # checked by the writer, which then writes them
                admitted = partial(_admit_all, raws, who)
            outcomes = await asyncio.wrap_future(committer.submit(admitted, [by] * len(raws)))
        metrics.count("http", outcomes)
        refused = [
            Reject(raw, outcome, f"http:{request_id}/{index}")
            for index, (raw, outcome) in enumerate(zip(raws, outcomes, strict=True))
            if outcome.status == "rejected"
        ]
        if refused:
            await run_in_threadpool(rejects.publish, refused)
        answer = IngestResponse.of(outcomes)
        status = 200
        if all(o.reason is RejectReason.UNIT_NOT_AUTHORISED for o in outcomes):
            status = 403
        elif single and answer.rejected:
            status = 422
        return Response(answer.model_dump_json(), status_code=status, media_type="application/json")

    @app.get(
        "/v1/dossiers/{code}",
        response_model=DossierView,
        responses={404: {"model": Problem}, 401: {"model": Problem}, 403: {"model": Problem}},
        summary="A dossier's current state",
    )
    def get_dossier(
        code: Annotated[str, Path(description="Dossier code", max_length=64)],
        _: Annotated[Principal, Depends(reader)],
    ) -> DossierView:
        try:
            parse_dossier_code(code)
        except CodeFormatError as error:
            raise _problem(422, RejectReason.INVALID_DOSSIER_CODE.value, str(error)) from None
        dossier = hub.store.dossier(code)
        if dossier is None:
            raise _problem(404, "not_found", f"dossier {code} is not in the store")
        return DossierView.of(dossier)

    if read_models is not None:
        models = read_models
        models.require(outbox.create)  # the sync routes read the connector's outbox

        @app.get(
            "/v1/sync/units",
            response_model=sync_status.SyncUnitsDoc,
            tags=["figures"],
            summary="National portal sync per unit and day: synced, pending, parked, oldest age",
        )
        def sync_units(period: str, unit: str | None = None) -> sync_status.SyncUnitsDoc:
            try:
                span = Period.parse(period)
            except PeriodError as error:
                raise _problem(422, "invalid_period", str(error)) from None
            rows = sync_status.by_unit_and_day(models.db(), span.start, span.end, unit)
            return sync_status.SyncUnitsDoc(
                period=span.label, rows=[sync_status.SyncUnitDayDoc.of(r) for r in rows]
            )

        @app.get(
            "/v1/sync/dossiers/{code}",
            response_model=sync_status.SyncDossierDoc,
            responses={404: {"model": Problem}, 401: {"model": Problem}},
            summary="A dossier's sync with the national portal: each update and its status",
        )
        def sync_dossier(
            code: Annotated[str, Path(max_length=64)],
            _: Annotated[Principal, Depends(reader)],
        ) -> dict[str, Any]:
            found = sync_status.dossier(models.db(), code)
            if found is None:
                raise _problem(404, "not_found", f"the connector has not seen dossier {code}")
            return found

    add_probes(
        app,
        Dependencies(
            hub.store,
            bus=readiness,
            services=services,
            read_models=read_models,
            writer_alive=None if committer is None else (lambda: committer.alive),
        ),
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _is_board(request: Request) -> bool:
    """A request for the board's pages (not the API, its description or its probes)."""
    path = request.url.path
    return not path.startswith(("/v1/", "/docs", "/redoc", "/openapi", "/metrics")) and (
        path not in ("/healthz", "/readyz")
    )


def _admit_all(raws: list[bytes], who: Principal) -> list[DossierEvent | Outcome]:
    return [admit(raw, who) for raw in raws]


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _problem(413, "request_too_large", f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _problem(413, "request_too_large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _whole_body_reject(body: bytes, request_id: str, message: str) -> Reject:
    outcome = Outcome.rejected(EventRejected(RejectReason.MALFORMED_JSON, message))
    return Reject(body, outcome, f"http:{request_id}")
