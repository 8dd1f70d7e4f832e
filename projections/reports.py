"""The reports provinces publish, computed from the progress read model and the catalogue.

- The half-year table: online dossiers in total and per level, with the online rate of
  each level (online received / all received at that level).
- Per-unit tables: received, resolved, early or on time (%), late (%), pending within the
  deadline (%), overdue (%).
- Unit cards: a unit's online procedures, its online dossiers before and during the period,
  how many procedures had online dossiers, and which units below it had any.
- Rankings by on-time rate and by online rate, ties sharing a rank, units with too few
  dossiers listed apart.

Every report names the catalogue version it used and the log position it reflects, and,
when it is asked as of a moment (:mod:`projections.as_of`), the days it counts: a period
that reaches today is counted to the end of yesterday.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from events.catalogue import UnitLevel
from events.enums import OnlineServiceLevel
from hub.adapters.csv_cells import SafeWriter
from hub.adapters.sql import ReadModelDatabase
from hub.catalogue.versions import CatalogueVersion
from hub.domain.vietnam import VIETNAM
from projections import views
from projections.as_of import AsOf, as_of
from projections.choices import RankBy, View
from projections.labels import headings
from projections.periods import Period
from projections.progress import queries
from projections.progress.queries import Totals
from projections.rates import Rate
from projections.reuse import tables as reuse_tables
from projections.reuse.lookups import LOOKUPS, lookups_by_unit

LEVELS = (UnitLevel.PROVINCE, UnitLevel.DISTRICT, UnitLevel.COMMUNE)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    level: str
    totals: Totals
    #: The unit's last day, if it ended (merged, split, dissolved) by the report's day.
    until: date | None = None


@dataclass(frozen=True)
class CatalogueFigures:
    procedures: int
    by_service_level: dict[int, int]
    integrated: int

    @property
    def online(self) -> int:
        return sum(n for level, n in self.by_service_level.items() if level >= 3)

    def share(self, level: int) -> Rate:
        return Rate(self.by_service_level.get(level, 0), self.procedures)

    @property
    def integrated_share(self) -> Rate:
        return Rate(self.integrated, self.online)


@dataclass(frozen=True)
class UnitCard:
    code: str
    name: str
    level: str
    online_procedures: dict[int, int]  # online service level -> procedures offered
    online_procedures_below: int  # online procedures offered by the units below it
    online_before: int
    online_procedures_used: int
    totals: Totals
    below_with_online: list[tuple[str, str, int]]  # (code, name, online dossiers)
    below_count: int


@dataclass(frozen=True)
class UnitReuse:
    """A unit's reuse figures for a period: dossiers it received that reused an earlier
    dossier's results or documents, and the look-ups it made (answered or refused)."""

    code: str
    received: int
    reusing: int
    lookups_granted: int
    lookups_refused: int

    @property
    def rate(self) -> Rate:
        return Rate(self.reusing, self.received)


def summed(code: str, units: list[UnitReuse]) -> UnitReuse:
    """The reuse figures of several units together, under ``code``."""
    return UnitReuse(
        code,
        sum(u.received for u in units),
        sum(u.reusing for u in units),
        sum(u.lookups_granted for u in units),
        sum(u.lookups_refused for u in units),
    )


@dataclass(frozen=True)
class ReuseFigures:
    units: list[UnitReuse]

    @property
    def total(self) -> UnitReuse:
        return summed("total", self.units)


def reuse_figures(db: ReadModelDatabase, period: Period) -> ReuseFigures:
    """Per unit, from the reuse index and the look-ups table (none before they exist)."""
    counts, lookups = {}, {}
    if db.table_exists(reuse_tables.DOSSIERS):
        found = reuse_tables.received_reusing(db, period.start, period.end)
        counts = {c.unit_code: c for c in found}
    if db.table_exists(LOOKUPS):
        lookups = {c.unit_code: c for c in lookups_by_unit(db, period.start, period.end)}
    units = []
    for code in sorted(counts.keys() | lookups.keys()):
        count, asked = counts.get(code), lookups.get(code)
        units.append(
            UnitReuse(
                code,
                count.received if count else 0,
                count.reusing if count else 0,
                asked.granted if asked else 0,
                asked.refused if asked else 0,
            )
        )
    return ReuseFigures(units)


@dataclass
class ProvinceReport:
    period: Period
    position: int
    catalogue: CatalogueVersion | None
    generated_at: datetime
    levels: dict[str, Totals]
    units: list[UnitRow]
    figures: CatalogueFigures | None
    cards: list[UnitCard] = field(default_factory=list)
    reuse: ReuseFigures = field(default_factory=lambda: ReuseFigures([]))
    #: The days counted as of the moment asked (None: the whole period, as it stands).
    as_of: AsOf | None = None
    #: As organised then, or restated onto the units of ``onto`` (projections.views).
    view: View = View.THEN
    onto: date | None = None

    @property
    def online_total(self) -> int:
        return sum(t.received_online for t in self.levels.values())


def province_report(
    db: ReadModelDatabase,
    catalogue: CatalogueVersion | None,
    period: Period,
    cards: list[str] = (),  # type: ignore[assignment]
    *,
    now: datetime | None = None,
    view: View = View.THEN,
    onto: date | None = None,
) -> ProvinceReport:
    """The period's report; with ``now``, counted only up to the last day ended at ``now``
    (a period not begun has no figures yet); in ``view``, as organised then or restated
    onto the units of ``onto`` (default: ``now``'s day; :mod:`projections.views`)."""
    cut = None if now is None else as_of(period, now)
    if cut is not None:
        period = cut.counted
    today = onto or (now or datetime.now(UTC)).astimezone(VIETNAM).date()
    tree = None if catalogue is None else catalogue.tree
    begun = cut is None or cut.begun
    totals = views.unit_totals(db, period, tree, view, today) if begun else {}
    # A unit as it stood on the report's day (its last day if it ended before): levels
    # follow the structure of the date.
    day = today if view is View.RESTATED else period.end
    units, levels = [], {level.value: Totals() for level in LEVELS}
    for code, unit_totals in totals.items():
        state = None if tree is None else tree.as_it_stood(code, day)
        level = state.level.value if state is not None else "unknown"
        levels.setdefault(level, Totals()).add(unit_totals)
        ended = None if tree is None else tree.ended(code)
        until = ended if ended is not None and ended < day else None
        units.append(UnitRow(code, state.name if state else code, level, unit_totals, until))
    order = {level.value: index for index, level in enumerate(LEVELS)}
    units.sort(key=lambda row: (order.get(row.level, 9), row.code))
    report = ProvinceReport(
        period=period,
        position=queries.position(db),
        catalogue=catalogue,
        generated_at=datetime.now(UTC),
        levels=levels,
        units=units,
        figures=None if catalogue is None else catalogue_figures(catalogue),
        reuse=reuse_figures(db, period),
        as_of=cut,
        view=view,
        onto=today if view is View.RESTATED else None,
    )
    for code in cards:
        report.cards.append(unit_card(db, catalogue, period, code, totals))
    return report


def catalogue_figures(catalogue: CatalogueVersion) -> CatalogueFigures:
    procedures = catalogue.content.procedures
    by_level: dict[int, int] = {int(level): 0 for level in OnlineServiceLevel}
    for procedure in procedures:
        by_level[int(procedure.service_level)] += 1
    integrated = sum(1 for p in procedures if p.online and p.integrated)
    return CatalogueFigures(len(procedures), by_level, integrated)


class UnknownUnitError(KeyError):
    """A unit code the catalogue does not have."""


def unit_card(
    db: ReadModelDatabase,
    catalogue: CatalogueVersion | None,
    period: Period,
    code: str,
    totals: dict[str, Totals] | None = None,
) -> UnitCard:
    if catalogue is None or code not in catalogue.units:
        raise UnknownUnitError(f"unit {code} is not in the catalogue")
    entry = catalogue.units[code]
    totals = queries.unit_totals(db, period) if totals is None else totals
    offered: dict[int, int] = {3: 0, 4: 0}
    for procedure in catalogue.offered_by(code):
        if procedure.online:
            offered[int(procedure.service_level)] += 1
    used = queries.procedure_totals(db, [code], period)
    below = [c for c in catalogue.subtree(code) if c != code]
    offered_below = [p for p in catalogue.offered_by_any(below) if p.online] if below else []
    with_online = [
        (c, catalogue.units[c].name, totals[c].received_online)
        for c in below
        if c in totals and totals[c].received_online
    ]
    return UnitCard(
        code=code,
        name=entry.name,
        level=entry.level.value,
        online_procedures=offered,
        online_procedures_below=len(offered_below),
        online_before=queries.online_before(db, [code], period.start),
        online_procedures_used=sum(1 for t in used.values() if t.received_online),
        totals=totals.get(code, Totals()),
        below_with_online=with_online,
        below_count=len(below),
    )


def field_totals(
    catalogue: CatalogueVersion | None, by_procedure: dict[str, Totals]
) -> dict[str, tuple[str, Totals]]:
    """Procedure figures rolled up by field (lĩnh vực): field code -> (field name, totals)."""
    fields: dict[str, tuple[str, Totals]] = {}
    for code, totals in by_procedure.items():
        entry = None if catalogue is None else catalogue.procedures.get(code)
        field_code = entry.field_code if entry is not None else "unknown"
        name = (entry.field_name or entry.field_code) if entry is not None else "unknown"
        fields.setdefault(field_code, (name, Totals()))[1].add(totals)
    return dict(sorted(fields.items()))


@dataclass(frozen=True)
class Ranked:
    rank: int | None  # None: too few dossiers to rank
    code: str
    name: str
    level: str
    rate: Rate


def ranking(
    report: ProvinceReport, by: RankBy, level: str | None = None, minimum: int = 30
) -> list[Ranked]:
    """Units ordered by rate, best first; rates equal as published (two decimals) share a
    rank (1, 2, 2, 4), the larger whole listed first among them; units whose
    denominator is under ``minimum`` come last, unranked, as a rate over few dossiers says
    little."""
    rows = [row for row in report.units if level is None or row.level == level]
    rated = [
        (row, row.totals.early_or_on_time_rate if by is RankBy.ON_TIME else row.totals.online_rate)
        for row in rows
    ]
    ranked = sorted(
        ((row, rate) for row, rate in rated if rate.whole >= max(minimum, 1)),
        key=lambda item: (-(item[1].percent() or 0), -item[1].whole, item[0].code),
    )
    result: list[Ranked] = []
    for index, (row, rate) in enumerate(ranked):
        # Ties are judged on the published figure (two decimals): rates shown alike rank alike.
        tied = result and result[-1].rate.percent() == rate.percent()
        rank = result[-1].rank if tied else index + 1
        result.append(Ranked(rank, row.code, row.name, row.level, rate))
    result.extend(
        Ranked(None, row.code, row.name, row.level, rate)
        for row, rate in sorted(rated, key=lambda item: item[0].code)
        if rate.whole < max(minimum, 1)
    )
    return result


# --- export -------------------------------------------------------------------------------


def totals_json(totals: Totals) -> dict[str, Any]:
    return {
        **totals.counts(),
        "received": totals.received,
        "resolved": totals.resolved,
        "pending": totals.pending,
        "online_rate": totals.online_rate.to_json(),
        "early_or_on_time_rate": totals.early_or_on_time_rate.to_json(),
        "late_rate": totals.late_rate.to_json(),
        "within_deadline_rate": totals.within_deadline_rate.to_json(),
        "overdue_rate": totals.overdue_rate.to_json(),
    }


def report_json(report: ProvinceReport) -> dict[str, Any]:
    catalogue = report.catalogue
    figures = report.figures
    return {
        "period": {
            "label": report.period.label,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "as_of": None if report.as_of is None else as_of_json(report.as_of),
        "view": report.view.value,
        "restated_onto": None if report.onto is None else report.onto.isoformat(),
        "position": report.position,
        "generated_at": report.generated_at.isoformat(),
        "catalogue": None
        if catalogue is None
        else {
            "version": catalogue.version,
            "loaded_at": catalogue.loaded_at.isoformat(),
            "sha256": catalogue.digest,
            "source": catalogue.source,
        },
        "procedures": None
        if figures is None
        else {
            "total": figures.procedures,
            "by_service_level": {str(k): v for k, v in figures.by_service_level.items()},
            "level_3_share": figures.share(3).to_json(),
            "level_4_share": figures.share(4).to_json(),
            "integrated": figures.integrated,
            "integrated_share_of_online": figures.integrated_share.to_json(),
        },
        "online_total": report.online_total,
        "levels": {level: totals_json(t) for level, t in report.levels.items()},
        "units": [
            {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "until": None if r.until is None else r.until.isoformat(),
                **totals_json(r.totals),
            }
            for r in report.units
        ],
        "cards": [card_json(card) for card in report.cards],
        "reuse": reuse_json(report.reuse),
    }


def as_of_json(cut: AsOf) -> dict[str, Any]:
    return {
        "moment": cut.moment.isoformat(),
        "through": cut.through.isoformat() if cut.begun else None,
        "complete": cut.complete,
        "requested": {
            "label": cut.requested.label,
            "start": cut.requested.start.isoformat(),
            "end": cut.requested.end.isoformat(),
        },
    }


def reuse_json(figures: ReuseFigures) -> dict[str, Any]:
    total = figures.total
    return {
        "received": total.received,
        "reusing": total.reusing,
        "rate": total.rate.to_json(),
        "lookups_granted": total.lookups_granted,
        "lookups_refused": total.lookups_refused,
        "units": [
            {
                "code": u.code,
                "received": u.received,
                "reusing": u.reusing,
                "rate": u.rate.to_json(),
                "lookups_granted": u.lookups_granted,
                "lookups_refused": u.lookups_refused,
            }
            for u in figures.units
        ],
    }


def card_json(card: UnitCard) -> dict[str, Any]:
    return {
        "code": card.code,
        "name": card.name,
        "level": card.level,
        "online_procedures": {
            "level_3": card.online_procedures[3],
            "level_4": card.online_procedures[4],
            "total": sum(card.online_procedures.values()),
            "offered_below": card.online_procedures_below,
        },
        "online_dossiers_before_period": card.online_before,
        "procedures_with_online_dossiers": card.online_procedures_used,
        "online_dossiers": card.totals.received_online,
        "online_rate": card.totals.online_rate.to_json(),
        "units_below": card.below_count,
        "units_below_with_online_dossiers": [
            {"code": c, "name": n, "online_dossiers": k} for c, n, k in card.below_with_online
        ],
    }


CSV_COLUMNS = (
    "code",
    "name",
    "level",
    "received",
    "received_walk_in",
    "received_online",
    "received_post",
    "online_rate_pct",
    "carried_over",
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "early_or_on_time_pct",
    "late_pct",
    "withdrawn",
    "refused",
    "supplements_requested",
    "returned_direct",
    "returned_post",
    "returned_online",
    "pending_within_deadline",
    "within_deadline_pct",
    "overdue",
    "overdue_pct",
    "reusing",
    "reuse_pct",
    "lookups_granted",
    "lookups_refused",
)


def report_csv(report: ProvinceReport, lang: str | None = None) -> str:
    """The per-unit table, one row per unit, then one per level (code ``level:<name>``);
    headings in ``lang`` (vi, en) if given, else the columns' names."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(headings(CSV_COLUMNS, lang))
    rows = [(r.code, r.name, r.level, r.totals) for r in report.units]
    rows += [(f"level:{level}", level, level, t) for level, t in report.levels.items()]
    reuse = {u.code: u for u in report.reuse.units}
    level_of = {r.code: r.level for r in report.units}
    for level in report.levels:  # a level's row sums its units' reuse figures
        mine = [u for u in report.reuse.units if level_of.get(u.code) == level]
        reuse[f"level:{level}"] = summed(f"level:{level}", mine)
    for code, name, level, t in rows:
        unit = reuse.get(code)
        writer.writerow(
            (
                code,
                name,
                level,
                t.received,
                t.received_walk_in,
                t.received_online,
                t.received_post,
                t.online_rate.shown(),
                t.carried_over,
                t.resolved,
                t.resolved_early,
                t.resolved_on_time,
                t.resolved_late,
                t.early_or_on_time_rate.shown(),
                t.late_rate.shown(),
                t.withdrawn,
                t.refused,
                t.supplements_requested,
                t.returned_direct,
                t.returned_post,
                t.returned_online,
                t.pending_within_deadline,
                t.within_deadline_rate.shown(),
                t.overdue,
                t.overdue_rate.shown(),
                "" if unit is None else unit.reusing,
                "" if unit is None else unit.rate.shown(),
                "" if unit is None else unit.lookups_granted,
                "" if unit is None else unit.lookups_refused,
            )
        )
    return out.getvalue()
