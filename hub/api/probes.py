"""What operators and orchestrators ask every hub process: is it alive (``/healthz``), is it
ready (``/readyz``), and its Prometheus metrics (``/metrics``).

The API serves these beside its own routes. A process running other roles alone (inbound,
relay, projections, sealer, connector) serves them on its probe port
(``dvchub serve --probe-port``), so that a container's health check and a scrape reach
every role the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.adapters import parked
from hub.application import DossierStore
from hub.log_reader import last_position
from hub.supervisor import Readiness
from projections.read_models import ReadModels

logger = structlog.get_logger("hub.api.probes")


@dataclass(frozen=True)
class Dependencies:
    """What a process's readiness depends on; ``None`` where the process has no such part."""

    store: DossierStore
    bus: Callable[[], None] | None = None  # raises when the bus is down
    services: Callable[[], Readiness] | None = None
    read_models: ReadModels | None = None
    writer_alive: Callable[[], bool] | None = None  # the API's group commit writer


def readiness(deps: Dependencies) -> tuple[bool, dict[str, Any]]:
    """Whether the process is ready, and the body ``/readyz`` answers. The reason a
    dependency is down is logged, never shown."""
    body: dict[str, Any] = {}
    problems: list[str] = []
    try:
        body["store_position"] = last_position(deps.store)
    except Exception as error:
        logger.warning("probe.not_ready", dependency="store", error_type=type(error).__name__)
        problems.append("the store does not answer")
    if deps.bus is not None:
        try:
            deps.bus()
        except Exception as error:
            logger.warning("probe.not_ready", dependency="bus", error_type=type(error).__name__)
            problems.append("the bus does not answer")
    if deps.writer_alive is not None and not deps.writer_alive():
        problems.append("the group commit writer has stopped")
    if deps.services is not None:
        state = deps.services()
        body["services"] = state.services
        if not state.ready and state.reason is not None:
            problems.append(state.reason)
    if deps.read_models is not None:
        try:
            body["parked_events"] = parked.counts(deps.read_models.db())
        except Exception as error:
            logger.warning(
                "probe.not_ready", dependency="read models", error_type=type(error).__name__
            )
            problems.append("the read models do not answer")
    if problems:
        return False, {"status": "unavailable", "problems": problems, **body}
    return True, {"status": "ready", **body}


def add_probes(app: FastAPI, deps: Dependencies) -> None:
    """Add ``/healthz``, ``/readyz`` and ``/metrics`` to ``app``."""

    @app.get("/healthz", summary="Liveness: the process answers")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: the store and the bus answer, every service runs and none is stuck",
    )
    def readyz() -> JSONResponse:
        ready, body = readiness(deps)
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_probe_app(deps: Dependencies) -> FastAPI:
    """The probes alone, for a process that does not serve the API."""
    app = FastAPI(
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        title="DVC Hub probes",
    )
    add_probes(app, deps)
    return app
