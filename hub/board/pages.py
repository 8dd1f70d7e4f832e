"""The board's pages: server-rendered HTML over the read models, in Vietnamese (the default)
or English, working without script.

Every figure is counted as of a stated moment (:mod:`projections.as_of`): a period that
reaches today is counted to the end of yesterday, and the page says so. Tables sort and
filter through links and forms (the query string), so they work with no script at all.

Every page is cacheable: its ETag is derived from the read model's position, the catalogue
version, the day the figures are counted to and the request, so a browser or a proxy
revalidates it with a conditional request and gets ``304 Not Modified`` until new events
are applied.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import limits
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from connectors.dvcqg import status as sync_status
from hub.application import DossierStore
from hub.board import charts
from hub.board.i18n import INDICATORS_VI, STANDINGS, STATUSES, STEPS_EN, words
from hub.board.locale import Formats
from hub.domain.event_types import REGISTRY
from hub.log_reader import dossier_history
from projections import dossier_lists, figures, scores, views
from projections.as_of import AsOf, as_of, last_whole_day
from projections.choices import RankBy, View
from projections.lookup import BadCode, PublicDossier, look_up
from projections.paging import Paged
from projections.periods import MOST_BUCKETS, Granularity, Period, PeriodError, bucket_of
from projections.progress import queries
from projections.progress.queries import Totals
from projections.read_models import ReadModels
from projections.report_cache import KEPT_SECONDS, Kept
from projections.reports import LEVELS, ProvinceReport, UnitRow, ranking

HERE = Path(__file__).parent
STATIC = HERE / "static"
LANGUAGES = ("vi", "en")
PAGE_SIZE = 25
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _width(rate: Any) -> str:
    """A bar's width in percent, for CSS."""
    shown = rate.percent(1)
    return "0" if shown is None else f"{shown}"


_templates.filters["width"] = _width

#: The columns of the units' table a reader can sort by, and the value each sorts on.
SORTS: dict[str, Callable[[UnitRow], Any]] = {
    "name": lambda row: _folded(row.name),
    "received": lambda row: row.totals.received,
    "resolved": lambda row: row.totals.resolved,
    "on_time_rate": lambda row: row.totals.early_or_on_time_rate.percent() or -1,
    "late": lambda row: row.totals.resolved_late,
    "overdue": lambda row: row.totals.overdue,
    "pending_within": lambda row: row.totals.pending_within_deadline,
    "online_rate": lambda row: row.totals.online_rate.percent() or -1,
    "online": lambda row: row.totals.received_online,
}


def _folded(text: str) -> str:
    """``text`` for matching as Vietnamese readers type: no case, no tone marks, đ as d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matches(query: str, *texts: str) -> bool:
    wanted = _folded(query.strip())
    return not wanted or any(wanted in _folded(text) for text in texts)


class BoardError(Exception):
    """A request the board answers with its HTML error page: what went wrong as the key of
    its words (:mod:`hub.board.i18n`), and the value concerned."""

    def __init__(self, status: int, words_key: str, detail: str = "") -> None:
        super().__init__(f"{words_key}: {detail}")
        self.status, self.words_key, self.detail = status, words_key, detail


def board_router(
    models: ReadModels, store: DossierStore, lookup_rate: str = "30/minute"
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    limiter = MovingWindowRateLimiter(MemoryStorage())
    lookup_limit = limits.parse(lookup_rate)

    def context(request: Request, lang: str, title: str, **extra: Any) -> dict[str, Any]:
        lang = lang if lang in LANGUAGES else "vi"
        catalogue = models.catalogue.current()
        params = dict(request.query_params)
        params["lang"] = "en" if lang == "vi" else "vi"
        return {
            "lang": lang,
            "t": words(lang),
            "f": Formats(lang),
            "title": title,
            "switch_url": f"{request.url.path}?{urlencode(params)}",
            "catalogue": catalogue,
            "position": queries.position(models.db()),
            "levels": [level.value for level in LEVELS],
            "query": lambda **changes: _query(request, lang, **changes),
            "request_value": lambda name: request.query_params.get(name, ""),
            "now": models.now(),
            # The view switch, on the pages that take ``view`` (they set it).
            "views_shown": False,
            "view": "then",
            **extra,
        }

    def render(
        request: Request, template: str, page: dict[str, Any], status: int = 200
    ) -> Response:
        body = _templates.get_template(template).render(page)
        return _answer(request, body, _etag(request, page), status)

    kept: Kept[tuple[str, str]] = Kept(size=512)

    async def figures_page(
        request: Request, template: str, build: Callable[[], dict[str, Any]]
    ) -> Response:
        """A page of figures, kept a short while once made: its figures are counted to the
        end of yesterday, so the events of today do not change it (see Kept)."""

        def make() -> tuple[str, str]:
            page = build()
            return _templates.get_template(template).render(page), _etag(request, page)

        key = (request.url.path, request.url.query, last_whole_day(models.now()))
        return _answer(request, *await run_in_threadpool(kept.get, key, make))

    def chosen_period(text: str | None) -> Period:
        if not text:
            return figures.latest_period(models.db(), models.now())
        try:
            return Period.parse(text)
        except PeriodError:
            raise BoardError(422, "bad_period", text[:40]) from None

    def report_of(span: Period, view: str = "then") -> ProvinceReport:
        catalogue = models.catalogue.current()
        now = models.now()
        return figures.kept_report(
            models.db(), models.reports, catalogue, span, now, (), View(view)
        )

    @router.get("/", response_class=HTMLResponse)
    async def index(
        request: Request,
        period: str | None = None,
        level: str = "",
        q: Annotated[str, Query(max_length=80)] = "",
        sort: str = "",
        dir: str = "desc",
        view: str = "then",
        lang: str = "vi",
    ) -> Response:
        _choice(view, VIEWS, "view")
        _choice(level, ("", *(lv.value for lv in LEVELS)), "level")
        _choice(sort, ("", *SORTS), "sort")
        _choice(dir, ("asc", "desc"), "dir")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            page = context(request, lang, words(lang)["title"])
            report = report_of(span, view)
            _with_view(page, view, report.onto)
            rows = [r for r in report.units if not level or r.level == level]
            rows = [r for r in rows if matches(q, r.name, r.code)]
            if sort:
                rows.sort(key=SORTS[sort], reverse=dir == "desc")
            page.update(
                period=span,
                cut=report.as_of,
                report=report,
                level=level,
                q=q,
                sort=sort,
                dir=dir,
                rows=rows,
                shown_total=Totals.summed(row.totals for row in rows),
                province_total=Totals.summed(row.totals for row in report.units),
                parents=_parents(page["catalogue"]),
                presets=_presets(models, span),
            )
            return page

        return await figures_page(request, "index.html", build)

    @router.get("/dong-bo", response_class=HTMLResponse)
    @router.get("/sync", response_class=HTMLResponse)
    async def sync(
        request: Request, period: str | None = None, level: str = "", lang: str = "vi"
    ) -> Response:
        """The national portal sync per unit: live (not kept), as the connector sends."""
        _choice(level, ("", *(lv.value for lv in LEVELS)), "level")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            page = context(request, lang, words(lang)["sync"])
            report = report_of(span)
            rows = [r for r in report.units if not level or r.level == level]
            page.update(
                period=span,
                cut=report.as_of,
                level=level,
                rows=rows,
                presets=_presets(models, span),
                sync=_sync(models, report.as_of, {r.code for r in rows}),
            )
            return page

        page = await run_in_threadpool(build)
        body = _templates.get_template("sync.html").render(page)
        # Live: the sync moves without new events, so no ETag (it would say "not modified").
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    @router.get("/units/{code}", response_class=HTMLResponse)
    async def unit(
        request: Request,
        code: str,
        period: str | None = None,
        by: str = "",
        scope: str = "",
        pq: Annotated[str, Query(max_length=80)] = "",
        pp: Annotated[int, Query(ge=1, le=10_000)] = 1,
        view: str = "then",
        lang: str = "vi",
    ) -> Response:
        _choice(view, VIEWS, "view")
        _choice(by, ("", "day", "month", "quarter"), "by")
        _choice(scope, ("", "alone", "below"), "scope")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            t = words(lang)
            page = context(request, lang, t["title"])
            catalogue = page["catalogue"]
            entry = None if catalogue is None else catalogue.units.get(code)
            if entry is None or catalogue is None:
                raise BoardError(404, "not_found", code[:64])
            report = report_of(span, view)
            _with_view(page, view, report.onto)
            cut = report.as_of
            assert cut is not None
            below = list(catalogue.children.get(code, ()))
            whole = scope != "alone" and bool(below)
            units = catalogue.subtree(code) if whole else [code]
            step = Granularity(by) if by else _bucket_for(cut.counted)
            if cut.counted.bucket_count(step) > MOST_BUCKETS:
                step = Granularity.QUARTER
            db = models.db()
            today = models.today()  # restated onto today's units
            tree, shown = catalogue.tree, View(view)
            counted = cut.counted
            points = views.series(db, tree, units, counted, step, shown, today) if cut.begun else []
            carried = views.weights(tree, units, shown, counted.end, today) or {}
            rows_by_code = {row.code: row for row in report.units}
            totals = Totals.summed(rows_by_code[u].totals for u in units if u in rows_by_code)
            procedures = (
                views.procedure_totals(db, tree, units, counted, shown, today) if cut.begun else {}
            )
            names = {
                p: catalogue.procedures[p].name for p in procedures if p in catalogue.procedures
            }
            listed = sorted(
                ((p, x) for p, x in procedures.items() if matches(pq, names.get(p, ""), p)),
                key=lambda item: (-item[1].received, item[0]),
            )
            paged = Paged.of(len(listed), pp, PAGE_SIZE)
            f: Formats = page["f"]
            labels = [f.bucket(point.period, step) for point in points]
            below_rows = [
                rows_by_code.get(c)
                or UnitRow(c, catalogue.units[c].name, catalogue.units[c].level.value, Totals())
                for c in below
            ]
            page.update(
                period=span,
                cut=cut,
                unit=entry,
                parent=None if entry.parent is None else catalogue.units.get(entry.parent),
                by=step,
                scope="below" if whole else "alone",
                has_below=bool(below),
                points=points,
                labels=labels,
                totals=totals,
                procedures=listed[paged.offset : paged.offset + PAGE_SIZE],
                procedures_paged=paged,
                pq=pq,
                names=names,
                below_rows=below_rows,
                below_total=Totals.summed(row.totals for row in below_rows),
                carried=[
                    (catalogue.units[c].name if c in catalogue.units else c, c, share)
                    for c, share in sorted(carried.items())
                    if c not in units
                ],
                received_svg=charts.received_chart(points, labels, t["chart_received"], t),
                resolved_svg=charts.resolved_chart(points, labels, t["chart_resolved"], t),
                pending_svg=charts.pending_chart(points, labels, t["chart_pending"], t),
                presets=_presets(models, span),
            )
            return page

        return await figures_page(request, "unit.html", build)

    @router.get("/units/{code}/late", response_class=HTMLResponse)
    async def late(
        request: Request,
        code: str,
        period: str | None = None,
        lp: Annotated[int, Query(ge=1, le=10_000)] = 1,
        op: Annotated[int, Query(ge=1, le=10_000)] = 1,
        view: str = "then",
        lang: str = "vi",
    ) -> Response:
        _choice(view, VIEWS, "view")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            t = words(lang)
            page = context(request, lang, t["late_lists"])
            catalogue = page["catalogue"]
            entry = None if catalogue is None else catalogue.units.get(code)
            if entry is None or catalogue is None:
                raise BoardError(404, "not_found", code[:64])
            cut = as_of(span, models.now())
            units = catalogue.subtree(code)
            db = models.db()
            today = models.today()
            former = views.carried(catalogue.tree, units, View(view), today)
            resolved = dossier_lists.resolved_late(db, units, cut.counted, lp, PAGE_SIZE, former)
            through = last_whole_day(models.now())  # overdue now, whatever the period
            now_theirs = [*units, *former]  # dossiers in progress are the successor's now
            overdue = dossier_lists.overdue(db, now_theirs, through, op, PAGE_SIZE)
            _with_view(page, view)
            page.update(
                period=span,
                cut=cut,
                unit=entry,
                resolved=resolved.dossiers,
                resolved_paged=resolved.paged,
                overdue=overdue.dossiers,
                overdue_paged=overdue.paged,
                reasons=_reasons(store, [*resolved.dossiers, *overdue.dossiers]),
                procedure_names={p.code: p.name for p in catalogue.content.procedures},
                unit_names={c: u.name for c, u in catalogue.units.items()},
                today=models.now().date(),
                presets=_presets(models, span),
            )
            return page

        return await figures_page(request, "late.html", build)

    @router.get("/province", response_class=HTMLResponse)
    async def province(
        request: Request, period: str | None = None, view: str = "then", lang: str = "vi"
    ) -> Response:
        _choice(view, VIEWS, "view")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            page = context(request, lang, words(lang)["province_table"])
            report = report_of(span, view)
            _with_view(page, view, report.onto)
            page.update(
                period=span, cut=report.as_of, report=report, presets=_presets(models, span)
            )
            return page

        return await figures_page(request, "province.html", build)

    @router.get("/rankings", response_class=HTMLResponse)
    async def rankings(
        request: Request,
        period: str | None = None,
        level: str = "",
        by: str = "on_time",
        minimum: Annotated[int, Query(ge=1, le=1_000_000)] = 30,
        view: str = "then",
        lang: str = "vi",
    ) -> Response:
        _choice(view, VIEWS, "view")
        _choice(level, ("", *(lv.value for lv in LEVELS)), "level")
        _choice(by, tuple(choice.value for choice in RankBy), "by")

        def build() -> dict[str, Any]:
            span = chosen_period(period)
            page = context(request, lang, words(lang)["rankings"])
            report = report_of(span, view)
            _with_view(page, view, report.onto)
            shown_levels = [level] if level else page["levels"]
            page.update(
                period=span,
                cut=report.as_of,
                level=level,
                by=by,
                minimum=minimum,
                presets=_presets(models, span),
                parents=_parents(page["catalogue"]),
                tables=[
                    (name, ranking(report, RankBy(by), name, minimum)) for name in shown_levels
                ],
            )
            return page

        return await figures_page(request, "rankings.html", build)

    @router.get("/chi-so", response_class=HTMLResponse)
    @router.get("/scores", response_class=HTMLResponse)
    async def scores_page(
        request: Request, period: str | None = None, unit: str = "", lang: str = "vi"
    ) -> Response:
        def build() -> dict[str, Any]:
            span = chosen_period(period)
            t = words(lang)
            page = context(request, lang, t["scores"])
            catalogue = page["catalogue"]
            units = None
            if unit:
                if catalogue is None or unit not in catalogue.units:
                    raise BoardError(404, "not_found", unit[:64])
                units = catalogue.subtree(unit)
            report = report_of(span)
            found = scores.indicators(report, units)
            page.update(
                period=span,
                cut=report.as_of,
                unit=None if not unit or catalogue is None else catalogue.units[unit],
                groups=[(g, [i for i in found if i.group == g]) for g in scores.GROUPS],
                vi=INDICATORS_VI,
                presets=_presets(models, span),
            )
            return page

        return await figures_page(request, "scores.html", build)

    @router.get("/lookup", response_class=HTMLResponse)
    @router.get("/tra-cuu", response_class=HTMLResponse)
    async def lookup(
        request: Request,
        code: Annotated[str, Query(max_length=64)] = "",
        lang: str = "vi",
    ) -> Response:
        t = words(lang)
        client = request.client.host if request.client is not None else "unknown"
        code = code.strip()
        if code and not limiter.hit(lookup_limit, "lookup", client):
            raise BoardError(429, "too_many")

        def build() -> tuple[dict[str, Any], int]:
            page = context(request, lang, t["lookup"], code=code, found=None, problem=None)
            if not code:
                return page, 200
            try:
                found = look_up(store, page["catalogue"], code, models.now())
            except BadCode:
                page["problem"] = f"{t['bad_code']}: {code[:64]}. {t['lookup_help']}"
                return page, 422
            if found is None:
                page["problem"] = t["no_dossier"].format(code=code)
                return page, 404
            page.update(found=found, steps=_step_names(found, lang))
            return page, 200

        page, status = await run_in_threadpool(build)
        page.update(standings=STANDINGS, statuses=STATUSES)
        response = render(request, "lookup.html", page, status)
        response.headers["Cache-Control"] = "no-store"  # a citizen's own dossier
        return response

    @router.get("/units")
    def units_index(request: Request) -> Response:
        return RedirectResponse(f"/?{request.url.query}", status_code=307)

    @router.get("/static/board.css")
    def stylesheet() -> Response:
        return Response(
            (STATIC / "board.css").read_bytes(),
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


def _answer(request: Request, body: str, tag: str, status: int = 200) -> Response:
    if status == 200 and request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "ETag": tag,
            "Cache-Control": f"public, max-age={KEPT_SECONDS}, must-revalidate",
        },
    )


def error_page(request: Request, status: int, words_key: str, detail: str = "") -> HTMLResponse:
    """The board's error page, in the language the request asked for: the words of
    ``words_key``, then ``detail`` (the value concerned, as it was given)."""
    lang = request.query_params.get("lang", "vi")
    lang = lang if lang in LANGUAGES else "vi"
    t = words(lang)
    heading = {404: t["page_not_found"], 429: t["too_many"]}.get(status, t["error"])
    message = t[words_key] + (f": {detail}" if detail else "")
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "vi" else "vi"
    body = _templates.get_template("error.html").render(
        lang=lang,
        t=t,
        f=Formats(lang),
        title=heading,
        heading=heading,
        message=message,
        switch_url=f"{request.url.path}?{urlencode(params)}",
        query=lambda **_: "" if lang == "vi" else "lang=en",
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


VIEWS = tuple(view.value for view in View)


def _with_view(page: dict[str, Any], view: str, onto: date | None = None) -> None:
    """The view shown (restated: onto the units of which day, when the page's figures say),
    and its switch when the units ever merged or split."""
    catalogue = page["catalogue"]
    page.update(
        view=view,
        onto=onto,
        views_shown=catalogue is not None and catalogue.tree.changed,
    )


def _choice(value: str, allowed: Sequence[str], name: str) -> None:
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed if a)
        raise BoardError(422, "bad_value", f"{name}={value[:40]!r} ({shown})")


def _bucket_for(period: Period) -> Granularity:
    """A chart's bucket that fits the period: days up to two months, then months, then
    quarters beyond three years."""
    if period.days <= 62:
        return Granularity.DAY
    if period.days <= 3 * 366:
        return Granularity.MONTH
    return Granularity.QUARTER


def _parents(catalogue: Any) -> dict[str, str]:
    """Each commune's parent's name, to tell communes of the same name apart."""
    if catalogue is None:
        return {}
    units = catalogue.units
    return {
        code: units[entry.parent].name
        for code, entry in units.items()
        if entry.level.value == "commune" and entry.parent is not None and entry.parent in units
    }


def _step_names(found: PublicDossier, lang: str) -> list[str]:
    if lang == "en":
        return [STEPS_EN.get(step.event_type, step.event_type) for step in found.steps]
    return [
        REGISTRY[step.event_type].action if step.event_type in REGISTRY else step.event_type
        for step in found.steps
    ]


@dataclass(frozen=True)
class Reasons:
    """What a listed dossier's events record about its delay."""

    apology: tuple[str, date, str, date] | None  # (slip number, new due day, reason, issued)
    supplements: int
    stops: int


def _reasons(
    store: DossierStore, listed: Sequence[dossier_lists.ListedDossier]
) -> dict[str, Reasons]:
    """A page of listed dossiers' reasons, from their events in the store."""
    found: dict[str, Reasons] = {}
    for item in listed:
        events = dossier_history(store, item.code)
        apology = None
        for event in events:
            record = event.record
            if record["event_type"] == "dossier.deadline_extended":
                payload = record["payload"]
                apology = (
                    payload["apology_slip_number"],
                    date.fromisoformat(payload["new_due_at"][:10]),
                    payload["reason"],
                    date.fromisoformat(record["occurred_at"][:10]),
                )
        kinds = [e.record["event_type"] for e in events]
        found[item.code] = Reasons(
            apology,
            kinds.count("dossier.supplement_requested"),
            kinds.count("dossier.processing_stopped"),
        )
    return found


@dataclass
class SyncFigures:
    synced: int = 0
    pending: int = 0
    parked: int = 0
    oldest_pending_seconds: float | None = None


def _sync(models: ReadModels, cut: AsOf | None, units: set[str]) -> dict[str, SyncFigures]:
    """Per unit, the national portal sync of the period's updates."""
    figures_of: dict[str, SyncFigures] = {}
    if cut is None or not cut.begun:
        return figures_of
    span = cut.counted
    for row in sync_status.by_unit_and_day(models.db(), span.start, span.end):
        if row.unit_code not in units:
            continue
        unit = figures_of.setdefault(row.unit_code, SyncFigures())
        unit.synced += row.synced
        unit.pending += row.pending
        unit.parked += row.parked
        if row.oldest_pending_seconds is not None:
            unit.oldest_pending_seconds = max(
                unit.oldest_pending_seconds or 0.0, row.oldest_pending_seconds
            )
    return figures_of


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


def _presets(models: ReadModels, shown: Period) -> list[Period]:
    """Quick links: the latest half-year with figures, its months' last two, its quarter and
    year, and the current half-year if it is another."""
    now = models.now()
    latest = figures.latest_period(models.db(), now)
    last_day = min(latest.end, last_whole_day(now))
    if last_day < latest.start:
        last_day = latest.start
    month = bucket_of(last_day, Granularity.MONTH)
    previous = bucket_of(month.start - timedelta(days=1), Granularity.MONTH)
    found = [
        month,
        previous,
        bucket_of(last_day, Granularity.QUARTER),
        latest,
        bucket_of(last_day, Granularity.YEAR),
        bucket_of(now.date(), Granularity.HALF),
    ]
    unique: list[Period] = []
    for period in found:
        if all((p.start, p.end) != (period.start, period.end) for p in unique):
            unique.append(period)
    return unique


def _etag(request: Request, page: dict[str, Any]) -> str:
    catalogue = page.get("catalogue")
    version = -1 if catalogue is None else catalogue.version
    cut = page.get("cut")
    through = "" if cut is None else cut.through.isoformat()
    key = f"{request.url.path}?{request.url.query}|{page.get('position')}|{version}|{through}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
