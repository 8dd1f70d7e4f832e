"""Public figures over HTTP: a unit's progress, a period's report, rankings.

These are the figures the province publishes, so they need no credential. Each request
reads the read model through this thread's own connection.
"""

import io
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hub.adapters.csv_cells import SafeWriter
from hub.api.schemas import Problem
from projections import figures, views
from projections.as_of import AsOf, as_of
from projections.choices import RankBy, View
from projections.documents import ProgressDoc, RankingDoc, ReportDoc
from projections.labels import headings
from projections.periods import Granularity, Period, PeriodError
from projections.progress import queries
from projections.progress.queries import Totals
from projections.read_models import ReadModels
from projections.reports import (
    UnknownUnitError,
    as_of_json,
    field_totals,
    ranking,
    report_csv,
    report_json,
    totals_json,
)
from projections.reuse.lookups import project as project_lookups


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as error:
        raise HTTPException(422, {"error": "invalid_period", "message": str(error)}) from None


def _answers(kind: str, of_unit: bool = True) -> dict[int | str, dict[str, Any]]:
    """The figure routes' documented answers besides the JSON document: the CSV file and the
    errors, with the bodies they really have."""
    answers: dict[int | str, dict[str, Any]] = {
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": f"The {kind} (JSON), or as CSV with ?format=csv (UTF-8 with a byte "
            "order mark; the moment its figures are true at in the Figures-As-Of header)",
            "headers": {
                "Figures-As-Of": {
                    "description": "CSV only: the end of the last day counted (ISO 8601)",
                    "schema": {"type": "string"},
                }
            },
        },
        404: {"model": Problem, "description": "No such unit (error: unknown_unit)"},
        422: {
            "description": "A period that cannot be read (error: invalid_period, a Problem) "
            "or a query parameter out of range (FastAPI's validation error)",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/Problem"},
                            {"$ref": "#/components/schemas/HTTPValidationError"},
                        ]
                    }
                }
            },
        },
    }
    if not of_unit:
        del answers[404]
    return answers


PeriodText = Annotated[str, Path(description="2021, 2021H1, 2021Q2, 2021-03 or A..B")]
Shown = Annotated[
    View,
    Query(
        description="`then`: the units as organised in each day of the period (the default); "
        "`restated`: every figure summed onto today's units through their mergers and splits"
    ),
]
Language = Annotated[
    Literal["vi", "en"] | None,
    Query(description="CSV only: headings in Vietnamese or English (default: column names)"),
]


def progress_router(models: ReadModels) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["figures"])

    @router.get(
        "/units/{code}/progress",
        response_model=ProgressDoc,
        summary="A unit's progress over a period, by bucket (JSON or CSV)",
        responses=_answers("unit's progress"),
    )
    def unit_progress(
        code: Annotated[str, Path(max_length=32)],
        period: Annotated[str, Query(description="2021H1, 2021-03, ...")],
        by: Granularity = Granularity.DAY,
        subtree: Annotated[bool, Query(description="Include the units below it")] = False,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
        lang: Language = None,
        view: Shown = View.THEN,
    ) -> Any:
        span = _period(period)
        try:
            span.check_buckets(by)
        except PeriodError as error:
            raise HTTPException(422, {"error": "invalid_period", "message": str(error)}) from None
        catalogue = models.catalogue.current()
        entry = None if catalogue is None else catalogue.units.get(code)
        if entry is None or catalogue is None:
            raise HTTPException(404, {"error": "unknown_unit", "message": f"no unit {code}"})
        units = catalogue.subtree(code) if subtree else [code]
        db = models.db()
        cut = as_of(span, models.now())
        counted = cut.counted
        today = models.today()  # restated onto today's units
        tree = catalogue.tree
        points = views.series(db, tree, units, counted, by, view, today) if cut.begun else []
        carried = views.weights(tree, units, view, counted.end, today) or {}
        if format == "csv":
            return _csv(
                [{"label": p.period.label, **_flat(p.totals)} for p in points],
                f"progress-{code}-{span.label}.csv",
                cut,
                lang,
            )
        procedures = (
            views.procedure_totals(db, tree, units, counted, view, today) if cut.begun else {}
        )
        return {
            "unit": {"code": code, "name": entry.name, "level": entry.level.value},
            "units": units,
            "view": view.value,
            "carried": {unit: str(share) for unit, share in sorted(carried.items())},
            "period": {"label": span.label, "start": counted.start, "end": counted.end},
            "as_of": as_of_json(cut),
            "by": by.value,
            "position": queries.position(db),
            "catalogue_version": catalogue.version,
            "series": [
                {
                    "label": p.period.label,
                    "start": p.period.start,
                    "end": p.period.end,
                    **totals_json(p.totals),
                }
                for p in points
            ],
            "fields": [
                {"code": code, "name": name, **totals_json(totals)}
                for code, (name, totals) in field_totals(catalogue, procedures).items()
            ],
            "procedures": [
                {
                    "code": procedure,
                    "name": catalogue.procedures[procedure].name
                    if procedure in catalogue.procedures
                    else None,
                    **totals_json(totals),
                }
                for procedure, totals in sorted(procedures.items())
            ],
        }

    @router.get(
        "/reports/{period}",
        response_model=ReportDoc,
        summary="The period's report: online dossiers by level, per-unit table (JSON or CSV)",
        responses=_answers("report"),
    )
    async def report(
        period: PeriodText,
        unit: Annotated[list[str] | None, Query(description="Units to add a card for")] = None,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
        lang: Language = None,
        view: Shown = View.THEN,
    ) -> Response:
        span = _period(period)

        def build() -> Any:
            db, now = models.db(), models.now()
            project_lookups(db, models.ledger)
            try:
                return figures.kept_report(
                    db, models.reports, models.catalogue.current(), span, now, unit or [], view
                )
            except UnknownUnitError as error:
                raise HTTPException(
                    404, {"error": "unknown_unit", "message": str(error.args[0])}
                ) from None

        built = await run_in_threadpool(build)
        if format == "csv":
            return _csv_response(report_csv(built, lang), f"report-{span.label}.csv", built.as_of)
        return Response(orjson.dumps(report_json(built)), media_type="application/json")

    @router.get(
        "/rankings/{period}",
        response_model=RankingDoc,
        summary="Units ranked by on-time rate or online rate (JSON or CSV)",
        responses=_answers("ranking", of_unit=False),
    )
    def rankings(
        period: PeriodText,
        by: RankBy = RankBy.ON_TIME,
        level: Annotated[str | None, Query(pattern="^(province|district|commune)$")] = None,
        minimum: Annotated[int, Query(ge=1, description="Fewer dossiers: not ranked")] = 30,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
        lang: Language = None,
        view: Shown = View.THEN,
    ) -> Any:
        span = _period(period)
        built = figures.kept_report(
            models.db(), models.reports, models.catalogue.current(), span, models.now(), (), view
        )
        assert built.as_of is not None
        if format == "csv":
            rows = [
                {
                    "rank": "" if r.rank is None else r.rank,
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "part": r.rate.part,
                    "whole": r.rate.whole,
                    "percent": r.rate.shown(),
                }
                for r in ranking(built, by, level, minimum)
            ]
            return _csv(rows, f"ranking-{by.value}-{span.label}.csv", built.as_of, lang)
        return {
            "period": span.label,
            "as_of": as_of_json(built.as_of),
            "view": built.view.value,
            "by": by.value,
            "level": level,
            "minimum": minimum,
            "units": [
                {
                    "rank": r.rank,
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "rate": r.rate.to_json(),
                }
                for r in ranking(built, by, level, minimum)
            ],
        }

    return router


def _flat(totals: Totals) -> dict[str, Any]:
    data = totals_json(totals)
    for key, value in list(data.items()):
        if isinstance(value, dict):
            data[key] = value["percent"] or ""
    return data


def _csv(
    rows: list[dict[str, Any]], filename: str, cut: AsOf | None, lang: str | None = None
) -> Response:
    out = io.StringIO()
    if rows:
        writer = SafeWriter(out)
        writer.writerow(headings(list(rows[0]), lang))
        writer.writerows(row.values() for row in rows)
    return _csv_response(out.getvalue(), filename, cut)


def _csv_response(text: str, filename: str, cut: AsOf | None) -> Response:
    """A CSV file as spreadsheets open it (UTF-8 with a byte order mark); the moment its
    figures are true at in ``Figures-As-Of``."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if cut is not None:
        headers["Figures-As-Of"] = cut.moment.isoformat()
    return Response(
        ("\ufeff" + text).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )
