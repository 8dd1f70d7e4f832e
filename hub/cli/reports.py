"""``dvchub report`` and ``dvchub ranking``: the published figures of a period."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    period_of,
    print_rows,
    read_side_or_exit,
)
from hub.cli.root import app
from projections.choices import RankBy, View

ViewOption = Annotated[
    View,
    typer.Option(
        help="then: the units as organised on each day; restated: summed onto today's units "
        "through their mergers and splits"
    ),
]

if TYPE_CHECKING:
    from hub.adapters.sql import ReadModelDatabase
    from hub.read_side import ReadsLog
    from projections.periods import Period
    from projections.reports import ProvinceReport


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


def catch_up_embedded(hub: ReadsLog, db: ReadModelDatabase | None = None) -> None:
    """Embedded (no Kafka): bring the read models up to the log's newest events."""
    from hub.adapters.sql import ReadModelDatabase
    from projections.figures import catch_up_from_log

    if not hub.bus.embedded:
        return
    own = db is None
    db = db or ReadModelDatabase(hub.settings)
    try:
        catch_up_from_log(db, hub.store)
    finally:
        if own:
            db.close()


def build_report(
    hub: ReadsLog,
    period: Period | None,
    cards: list[str],
    catch: bool,
    view: View = View.THEN,
) -> ProvinceReport:
    """The period's report (:func:`projections.figures.report`) as of now, the read models
    caught up first when the hub is embedded and ``catch``; no period: the latest with
    figures (:func:`projections.figures.latest_period`, what the board opens on)."""
    from hub.adapters.sql import ReadModelDatabase
    from hub.catalogue.store import CatalogueStore
    from hub.reuse.ledger import ReuseLedger
    from projections import figures, registry
    from projections.read_models import vietnam_now
    from projections.reports import UnknownUnitError

    with (
        ReadModelDatabase(hub.settings) as db,
        CatalogueStore(hub.settings) as catalogue,
        ReuseLedger(hub.settings) as ledger,
    ):
        if catch and hub.bus.embedded:
            figures.catch_up_from_log(db, hub.store)  # each projection prepares its tables
        else:
            registry.prepare_all(db)
        now = vietnam_now()
        try:
            return figures.report(
                db,
                ledger,
                catalogue.current(),
                period or figures.latest_period(db, now),
                cards,
                now=now,
                view=view,
            )
        except UnknownUnitError as error:
            raise fail(str(error.args[0])) from None


def print_report(report: ProvinceReport, fmt: Format, out: Path | None) -> None:
    import orjson

    from projections.reports import report_csv, report_json

    if fmt is Format.JSON:
        _write(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2) + b"\n", out)
        return
    if fmt is Format.CSV:
        _write(report_csv(report).encode(), out)
        return
    render_text(report)


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
        err_console.print(f"wrote {out}")


def render_text(report: ProvinceReport) -> None:
    from rich.table import Table

    from projections.reports import LEVELS

    period = report.period
    console.print(
        f"[bold]Report {period.label}[/] ({period.start} – {period.end}), "
        f"read model at position {report.position:,}"
    )
    cut = report.as_of
    if cut is not None and not cut.complete:
        console.print(
            f"As of {cut.moment:%Y-%m-%d %H:%M} Vietnam time: "
            + (
                f"counted to the end of {cut.through} (the period ends {cut.requested.end})"
                if cut.begun
                else f"no day of the period has ended yet (it starts {cut.requested.start})"
            ),
            highlight=False,
        )
    if report.onto is not None:
        console.print(
            f"Restated onto the units as organised on {report.onto}: merged and split units' "
            "figures under their successors (shares by the largest remainder)",
            highlight=False,
        )
    console.print(report.catalogue.describe() if report.catalogue else "no catalogue loaded")
    figures = report.figures
    if figures is not None:
        console.print(
            f"Procedures: {figures.procedures:,}; online level 3: {figures.by_service_level[3]:,} "
            f"({figures.share(3).shown()} %); level 4: {figures.by_service_level[4]:,} "
            f"({figures.share(4).shown()} %); integrated with the national portal: "
            f"{figures.integrated:,} ({figures.integrated_share.shown()} % of levels 3 and 4)"
        )
    levels = Table("level", "received", "online", "online rate %", title="Online dossiers by level")
    for level in [lv.value for lv in LEVELS] + [k for k in report.levels if k not in LEVELS]:
        totals = report.levels.get(level)
        if totals is None:
            continue
        levels.add_row(
            level, f"{totals.received:,}", f"{totals.received_online:,}", totals.online_rate.shown()
        )
    levels.add_row("total", "", f"{report.online_total:,}", "", style="bold")
    console.print(levels)
    console.print(f"Online dossiers: {report.online_total:,}")
    units = Table(
        "unit",
        "name",
        "level",
        "received",
        "online %",
        "resolved",
        "early/on time %",
        "late %",
        "pending within %",
        "overdue %",
        title="Per unit",
    )
    for row in report.units:
        t = row.totals
        units.add_row(
            row.code,
            row.name if row.until is None else f"{row.name} (until {row.until})",
            row.level,
            f"{t.received:,}",
            t.online_rate.shown(),
            f"{t.resolved:,}",
            t.early_or_on_time_rate.shown(),
            t.late_rate.shown(),
            t.within_deadline_rate.shown(),
            t.overdue_rate.shown(),
        )
    console.print(units)
    render_reuse(report)
    for card in report.cards:
        offered = card.online_procedures
        console.print(f"[bold]{card.name}[/] ({card.code}, {card.level})")
        console.print(
            f"  online procedures: level 3 {offered[3]}, level 4 {offered[4]}, total "
            f"{offered[3] + offered[4]}; offered below it: {card.online_procedures_below}"
        )
        console.print(f"  online dossiers before {period.start}: {card.online_before:,}")
        console.print(
            f"  in {period.label}: online dossiers {card.totals.received_online:,} of "
            f"{card.totals.received:,} received, online rate {card.totals.online_rate.shown()} %; "
            f"procedures with online dossiers: {card.online_procedures_used}"
        )
        names = ", ".join(f"{name} ({count})" for _, name, count in card.below_with_online)
        console.print(
            f"  units below it with online dossiers: {len(card.below_with_online)} of "
            f"{card.below_count}" + (f": {names}" if names else "")
        )


def render_reuse(report: ProvinceReport) -> None:
    from rich.table import Table

    reuse = report.reuse
    names = {row.code: row.name for row in report.units}
    table = Table(
        "unit",
        "name",
        "received",
        "reusing",
        "reuse %",
        "look-ups answered",
        "look-ups refused",
        title="Reuse of earlier dossiers per unit (units with any)",
    )
    for unit in reuse.units:
        if unit.reusing or unit.lookups_granted or unit.lookups_refused:
            table.add_row(
                unit.code,
                names.get(unit.code, unit.code),
                f"{unit.received:,}",
                f"{unit.reusing:,}",
                unit.rate.shown(),
                f"{unit.lookups_granted:,}",
                f"{unit.lookups_refused:,}",
            )
    if table.row_count:
        console.print(table)
    total = reuse.total
    console.print(
        f"Reuse of earlier dossiers: {total.reusing:,} of {total.received:,} received dossiers "
        f"({total.rate.shown()} %); look-ups answered {total.lookups_granted:,}, "
        f"refused {total.lookups_refused:,}",
        highlight=False,
    )


def print_ranking(
    report: ProvinceReport, by: RankBy, level: str | None, minimum: int, as_json: bool = False
) -> None:
    from projections.reports import ranking

    rows = [
        {
            "rank": entry.rank,
            "code": entry.code,
            "name": entry.name,
            "level": entry.level,
            "rate": entry.rate.to_json() if as_json else entry.rate.shown(),
            "of": entry.rate.whole if as_json else f"{entry.rate.whole:,}",
        }
        for entry in ranking(report, by, level, minimum)
    ]
    if not as_json:
        for row in rows:
            row["rank"] = "–" if row["rank"] is None else row["rank"]
    columns = [("rank", "rank"), ("code", "unit"), ("name", "name"), ("level", "level")]
    print_rows(
        rows, [*columns, ("rate", "rate %"), ("of", "of")], f"Ranking by {by.value}", as_json
    )


@app.command()
def report(
    period: Annotated[
        str | None,
        typer.Option(help="2021H1, 2021Q2, 2021-03, 2021, A..B; default: the latest with figures"),
    ] = None,
    unit: Annotated[
        list[str] | None, typer.Option(help="Also print this unit's card; repeat")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.TEXT,
    out: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
    catch_up: Annotated[
        bool, typer.Option(help="Embedded: apply the log's newest events first")
    ] = True,
    view: ViewOption = View.THEN,
) -> None:
    """The published report of a period: online dossiers by level, per-unit tables."""
    with read_side_or_exit() as side:
        built = build_report(
            side, None if period is None else period_of(period), unit or [], catch_up, view
        )
        print_report(built, fmt, out)


@app.command()
def ranking(
    period: Annotated[str, typer.Option(help="2021H1, 2021Q2, 2021-03, 2021, A..B")],
    by: Annotated[RankBy, typer.Option()] = RankBy.ON_TIME,
    level: Annotated[str | None, typer.Option(help="province, district or commune")] = None,
    minimum: Annotated[
        int, typer.Option(min=1, help="Fewer dossiers than this: listed, not ranked")
    ] = 30,
    as_json: JsonOption = False,
    view: ViewOption = View.THEN,
) -> None:
    """Units ranked by on-time rate or online rate; ties share a rank."""
    with read_side_or_exit() as side:
        built = build_report(side, period_of(period), [], True, view)
        print_ranking(built, by, level, minimum, as_json)
