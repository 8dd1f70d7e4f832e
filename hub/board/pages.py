"""The board's pages: server-rendered HTML over the progress read model.

Every page is cacheable: its ETag is derived from the read model's position, the catalogue
version and the request, so a browser or a proxy revalidates it with a conditional request
and gets ``304 Not Modified`` until new events are applied.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from connectors.dvcqg import status as sync_status
from hub.board import charts
from hub.board.i18n import words
from hub.domain.vietnam import VIETNAM
from projections.choices import RankBy
from projections.periods import MOST_BUCKETS, Granularity, Period, PeriodError, bucket_of
from projections.progress import queries
from projections.read_models import ReadModels
from projections.reports import LEVELS, province_report, ranking

HERE = Path(__file__).parent
STATIC = HERE / "static"
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _pct(rate: Any) -> str:
    shown = rate.percent(2)
    return "–" if shown is None else f"{shown}"


def _width(rate: Any) -> str:
    """A bar's width in percent, for CSS."""
    shown = rate.percent(1)
    return "0" if shown is None else f"{shown}"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")  # Vietnamese digit grouping


_templates.filters["pct"] = _pct
_templates.filters["width"] = _width
_templates.filters["num"] = _number


def default_period(today: datetime | None = None) -> Period:
    """The half-year under way, in Vietnam."""
    now = today or datetime.now(VIETNAM)
    return bucket_of(now.date(), Granularity.HALF)


def board_router(models: ReadModels) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def context(request: Request, lang: str, title: str, **extra: Any) -> dict[str, Any]:
        catalogue = models.catalogue.current()
        other = "en" if lang == "vi" else "vi"
        params = dict(request.query_params)
        params["lang"] = other
        return {
            "lang": lang if lang in ("vi", "en") else "vi",
            "t": words(lang),
            "title": title,
            "switch_url": f"{request.url.path}?{urlencode(params)}",
            "catalogue": catalogue,
            "position": queries.position(models.db()),
            "levels": [level.value for level in LEVELS],
            "query": lambda **changes: _query(request, lang, **changes),
            **extra,
        }

    def render(
        request: Request, template: str, page: dict[str, Any], status: int = 200
    ) -> Response:
        body = _templates.get_template(template).render(page)
        tag = _etag(request, page)
        if status == 200 and request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers={"ETag": tag})
        return HTMLResponse(
            body,
            status_code=status,
            headers={"ETag": tag, "Cache-Control": "public, max-age=30, must-revalidate"},
        )

    def period_or_error(text: str | None) -> tuple[Period, str | None]:
        if not text:
            return default_period(), None
        try:
            return Period.parse(text), None
        except PeriodError as error:
            return default_period(), str(error)

    @router.get("/", response_class=HTMLResponse)
    async def index(
        request: Request,
        period: str | None = None,
        level: Annotated[str | None, Query(pattern="^(province|district|commune)?$")] = None,
        lang: str = "vi",
    ) -> Response:
        span, problem = period_or_error(period)

        def build() -> dict[str, Any]:
            page = context(request, lang, words(lang)["title"], period=span, problem=problem)
            report = province_report(models.db(), page["catalogue"], span)
            page["level"] = level or ""
            page["rows"] = [r for r in report.units if not level or r.level == level]
            page["report"] = report
            page["presets"] = _presets()
            page["sync"] = _sync(models, span, {r.code for r in page["rows"]})
            return page

        page = await run_in_threadpool(build)
        return render(request, "index.html", page, 422 if problem else 200)

    @router.get("/units/{code}", response_class=HTMLResponse)
    async def unit(
        request: Request,
        code: str,
        period: str | None = None,
        by: Granularity | None = None,
        lang: str = "vi",
    ) -> Response:
        span, problem = period_or_error(period)
        step = by or (Granularity.DAY if span.days <= 92 else Granularity.MONTH)
        if span.bucket_count(step) > MOST_BUCKETS:  # a page of bars, not of thousands
            step = Granularity.MONTH

        def build() -> tuple[dict[str, Any], int]:
            t = words(lang)
            page = context(request, lang, t["title"], period=span, problem=problem, by=step)
            catalogue = page["catalogue"]
            entry = None if catalogue is None else catalogue.units.get(code)
            if entry is None:
                page["missing"] = code
                return page, 404
            db = models.db()
            points = queries.series(db, [code], span, step)
            page.update(
                unit=entry,
                points=points,
                totals=queries.unit_totals(db, span).get(code),
                procedures=sorted(
                    queries.procedure_totals(db, [code], span).items(),
                    key=lambda item: -item[1].received,
                ),
                names={p: catalogue.procedures[p].name for p in catalogue.procedures},
                received_svg=charts.received_chart(points, t["chart_received"], t),
                resolved_svg=charts.resolved_chart(points, t["chart_resolved"], t),
                pending_svg=charts.pending_chart(points, t["chart_pending"], t),
                below=[catalogue.units[c] for c in catalogue.children.get(code, ())],
            )
            return page, 422 if problem else 200

        page, status = await run_in_threadpool(build)
        template = "unit.html" if status != 404 else "missing.html"
        return render(request, template, page, status)

    @router.get("/province", response_class=HTMLResponse)
    async def province(request: Request, period: str | None = None, lang: str = "vi") -> Response:
        span, problem = period_or_error(period)

        def build() -> dict[str, Any]:
            page = context(request, lang, words(lang)["province_table"], period=span)
            page["problem"] = problem
            page["report"] = province_report(models.db(), page["catalogue"], span)
            page["presets"] = _presets()
            return page

        page = await run_in_threadpool(build)
        return render(request, "province.html", page, 422 if problem else 200)

    @router.get("/rankings", response_class=HTMLResponse)
    async def rankings(
        request: Request,
        period: str | None = None,
        level: Annotated[str | None, Query(pattern="^(province|district|commune)?$")] = None,
        minimum: Annotated[int, Query(ge=1)] = 30,
        lang: str = "vi",
    ) -> Response:
        span, problem = period_or_error(period)

        def build() -> dict[str, Any]:
            page = context(request, lang, words(lang)["rankings"], period=span, problem=problem)
            report = province_report(models.db(), page["catalogue"], span)
            page.update(
                level=level or "",
                minimum=minimum,
                presets=_presets(),
                on_time=ranking(report, RankBy.ON_TIME, level or None, minimum),
                online=ranking(report, RankBy.ONLINE, level or None, minimum),
            )
            return page

        page = await run_in_threadpool(build)
        return render(request, "rankings.html", page, 422 if problem else 200)

    @router.get("/static/board.css")
    def stylesheet() -> Response:
        return Response(
            (STATIC / "board.css").read_bytes(),
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


@dataclass
class SyncFigures:
    synced: int = 0
    pending: int = 0
    parked: int = 0
    oldest_pending_seconds: float | None = None


def _sync(models: ReadModels, span: Period, units: set[str]) -> dict[str, SyncFigures]:
    """Per unit, the national portal sync of the period's updates."""
    figures: dict[str, SyncFigures] = {}
    for row in sync_status.by_unit_and_day(models.db(), span.start, span.end):
        if row.unit_code not in units:
            continue
        unit = figures.setdefault(row.unit_code, SyncFigures())
        unit.synced += row.synced
        unit.pending += row.pending
        unit.parked += row.parked
        if row.oldest_pending_seconds is not None:
            unit.oldest_pending_seconds = max(
                unit.oldest_pending_seconds or 0.0, row.oldest_pending_seconds
            )
    return figures


def _query(request: Request, lang: str, **changes: Any) -> str:
    """This page's query with ``changes`` (None removes a parameter), keeping the language."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    params = {k: v for k, v in params.items() if v != ""}
    if lang != "vi":
        params["lang"] = lang
    return urlencode(params)


def _presets() -> list[Period]:
    today = datetime.now(VIETNAM).date()
    last_month = today.replace(day=1) - timedelta(days=1)
    return [
        bucket_of(today, Granularity.MONTH),
        bucket_of(last_month, Granularity.MONTH),
        bucket_of(today, Granularity.QUARTER),
        bucket_of(today, Granularity.HALF),
        bucket_of(today, Granularity.YEAR),
    ]


def _etag(request: Request, page: dict[str, Any]) -> str:
    catalogue = page.get("catalogue")
    version = -1 if catalogue is None else catalogue.version
    key = f"{request.url.path}?{request.url.query}|{page.get('position')}|{version}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
