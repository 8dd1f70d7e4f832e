"""``dvchub catalogue|projections|report|ranking|simulate``: reference data, read models,
the published reports and scenarios."""

from __future__ import annotations

import enum
import secrets
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import typer
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hub.adapters.calendar_files import build_calendar
from hub.adapters.catalogue_files import CatalogueFileError, read_catalogue
from hub.adapters.sql import ReadModelDatabase
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.lag import Backlog, backlogs
from hub.bus.sources import LogSource
from hub.catalogue.store import CatalogueStore
from hub.log_reader import last_position
from hub.paced_collection import PacedCollection
from hub.reuse.ledger import ReuseLedger
from hub.serve import projection_services
from hub.settings import HubSettings
from hub.simulation.generator import events as scenario_events
from hub.simulation.generator import plan as plan_scenario
from hub.simulation.publish import (
    HttpSink,
    KafkaSink,
    NotAcknowledged,
    PublishReport,
    Sink,
    StoreSink,
    batches,
)
from hub.simulation.scenario import ScenarioError, load_scenario
from hub.supervisor import run_supervised
from projections import checkpoints, parked
from projections.periods import Period, PeriodError
from projections.rebuild import RebuildError, rebuild
from projections.reports import (
    LEVELS,
    ProvinceReport,
    RankBy,
    UnknownUnitError,
    province_report,
    ranking,
    report_csv,
    report_json,
)
from projections.reuse.lookups import project as project_lookups
from projections.reuse.worker import PROJECTION as REUSE_INDEX
from projections.reuse.worker import ReuseIndex
from projections.reuse.worker import catch_up as reuse_catch_up
from projections.reuse.worker import prepare as prepare_reuse
from projections.reuse.worker import rebuild as rebuild_reuse_index
from projections.runner import PROJECTION, UnitProgress, catch_up, prepare
from projections.worker import Projection, retry_parked

catalogue_app = typer.Typer(help="The unit and procedure catalogue, kept as events.")
projections_app = typer.Typer(help="Read models: run, rebuild, status.")
console = Console(width=max(Console().width, 150))
err_console = Console(stderr=True, soft_wrap=True)
#: The simulator collects garbage itself, once every this many events (hub.paced_collection).
COLLECT_EVERY = 100_000


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def period_of(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as error:
        raise _fail(str(error)) from None


# --- catalogue ----------------------------------------------------------------------------


def catalogue_load(hub: Hub, files: list[Path]) -> None:
    store = CatalogueStore(hub.settings)
    try:
        current = store.current()
        try:
            content = read_catalogue(files, None if current is None else current.content)
        except CatalogueFileError as error:
            raise _fail(str(error)) from None
        version, changed = store.load(content, ", ".join(f.name for f in files))
        state = "loaded as" if changed else "unchanged: still"
        console.print(f"catalogue {state} version {version.version}: {version.describe()}")
    finally:
        store.close()


def catalogue_show(hub: Hub) -> None:
    store = CatalogueStore(hub.settings)
    try:
        table = Table("version", "loaded at (UTC)", "sha256", "source", title="Catalogue versions")
        for number, at, digest, source in store.versions():
            table.add_row(str(number), f"{at:%Y-%m-%d %H:%M:%S}", digest[:16], source)
        console.print(table)
    finally:
        store.close()


# --- projections --------------------------------------------------------------------------


def projections_run(hub: Hub, stop: threading.Event) -> None:
    """Run the progress and reuse-index workers and the audit sealer until ``stop``, each
    restarted with backoff if it crashes (:mod:`hub.supervisor`)."""
    run_supervised(projection_services(hub), stop, hub.settings.service_stuck_seconds)


def projections_rebuild(hub: Hub, shards: int | None) -> None:
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        task = bar.add_task("rebuilding unit_progress", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        try:
            report = rebuild(hub.settings, hub.store, shards=shards, progress=progress)
        except RebuildError as error:
            raise _fail(str(error)) from None
    console.print(
        f"rebuilt unit_progress: {report.events:,} events in {report.seconds:.1f} s "
        f"({report.events_per_second:,.0f} events/s, {report.shards} shard(s)); "
        f"{report.rows:,} rows, {report.open_dossiers:,} dossiers in progress; "
        f"generation {report.generation}, up to position {report.position:,}"
    )
    if report.parked:
        err_console.print(
            f"{report.parked:,} event(s) could not be folded and are parked: "
            "see `dvchub projections parked`"
        )
    db = ReadModelDatabase(hub.settings)
    try:
        if not db.try_lock(f"dvchub-rebuild-{REUSE_INDEX}"):
            raise _fail("another rebuild of the reuse index is running")
        started = time.perf_counter()
        with err_console.status("rebuilding reuse_index"):
            events, position = rebuild_reuse_index(db, hub.store)
        console.print(
            f"rebuilt reuse_index: {events:,} events in {time.perf_counter() - started:.1f} s, "
            f"up to position {position:,}"
        )
    finally:
        db.close()


def projections_status(hub: Hub) -> None:
    db = ReadModelDatabase(hub.settings)
    try:
        prepare(db)
        head = last_position(hub.store)
        generation = checkpoints.generation(db, PROJECTION)
        rows = checkpoints.status_rows(db)
        console.print(
            f"store: last position {head:,}; {PROJECTION}: generation {generation.number}, "
            f"rebuilt to {generation.rebuilt_to:,} at {generation.rebuilt_at or 'never'}"
        )
        kafka = _kafka_backlogs(hub.settings, rows)
        table = Table("projection", "source", "part", "position", "offset", "lag", "updated")
        newest = generation.rebuilt_to
        for projection, source, part, position, offset, updated in rows:
            newest = max(newest, position)
            if source == "log":
                lag = f"{head - position:,} events"
            else:
                on_topic = source == hub.settings.kafka_events_topic
                backlog = kafka.get((part, offset)) if on_topic and offset is not None else None
                lag = "?" if backlog is None else str(backlog)
            table.add_row(projection, source, str(part), f"{position:,}", str(offset), lag, updated)
        console.print(table)
        console.print(f"behind the store by at most {max(0, head - newest):,} events")
        for name, count in sorted(parked.counts(db).items()):
            console.print(
                f"{name}: {count:,} event(s) parked (could not be folded): "
                "`dvchub projections parked`"
            )
    finally:
        db.close()


_PROJECTIONS: dict[str, Callable[[], Projection]] = {
    PROJECTION: UnitProgress,
    REUSE_INDEX: ReuseIndex,
}


def _chosen(projection: str | None) -> list[str]:
    if projection is None:
        return list(_PROJECTIONS)
    if projection not in _PROJECTIONS:
        raise _fail(f"no projection {projection!r}; there are: {', '.join(_PROJECTIONS)}")
    return [projection]


def projections_parked(hub: Hub, projection: str | None) -> None:
    db = ReadModelDatabase(hub.settings)
    try:
        found = parked.parked(db, projection)  # the projections', and the connector's
        table = Table("projection", "position", "dossier", "event type", "error", "parked at")
        for item in found:
            table.add_row(
                item.projection,
                f"{item.position:,}",
                item.dossier_code or "?",
                item.event_type or "?",
                item.error,
                item.parked_at,
            )
        console.print(table)
        console.print(f"{len(found):,} parked event(s)")
    finally:
        db.close()


def projections_retry(hub: Hub, projection: str | None) -> None:
    db = ReadModelDatabase(hub.settings)
    still = 0
    try:
        for name in _chosen(projection):
            result = retry_parked(_PROJECTIONS[name](), db, hub.store)
            console.print(f"{name}: {result.folded:,} folded, {result.still_parked:,} still parked")
            still += result.still_parked
    finally:
        db.close()
    if still:
        raise typer.Exit(1)


def _kafka_backlogs(
    settings: HubSettings, rows: list[tuple[str, str, int, int, int | None, str]]
) -> dict[tuple[int, int], Backlog]:
    """Each Kafka checkpoint's backlog on the events topic; none if Kafka is away."""
    topic = settings.kafka_events_topic
    starts = [
        (part, offset)
        for _, source, part, _, offset, _ in rows
        if source == topic and offset is not None
    ]
    if not settings.kafka_bootstrap or not starts:
        return {}
    try:
        return backlogs(settings.kafka_bootstrap, topic, starts)
    except KafkaError as error:
        err_console.print(
            f"Kafka at {settings.kafka_bootstrap} does not answer ({error}): lag is unknown"
        )
        return {}


# --- reports ------------------------------------------------------------------------------


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


def catch_up_embedded(hub: Hub, db: ReadModelDatabase | None = None) -> None:
    """Embedded (no Kafka): bring the read models up to the log's newest events."""
    if hub.settings.kafka_bootstrap:
        return
    own = db is None
    db = db or ReadModelDatabase(hub.settings)
    try:
        prepare(db)
        prepare_reuse(db)
        catch_up(db, LogSource(hub.store))
        reuse_catch_up(db, LogSource(hub.store))
    finally:
        if own:
            db.close()


def build_report(hub: Hub, period: Period, cards: list[str], catch: bool) -> ProvinceReport:
    db = ReadModelDatabase(hub.settings)
    catalogue_store = CatalogueStore(hub.settings)
    try:
        prepare(db)
        prepare_reuse(db)
        if catch:
            catch_up_embedded(hub, db)
        ledger = ReuseLedger(hub.settings)
        try:
            project_lookups(db, ledger)
        finally:
            ledger.close()
        catalogue = catalogue_store.current()
        try:
            return province_report(db, catalogue, period, cards)
        except UnknownUnitError as error:
            raise _fail(str(error.args[0])) from None
    finally:
        catalogue_store.close()
        db.close()


def print_report(report: ProvinceReport, fmt: Format, out: Path | None) -> None:
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
    period = report.period
    console.print(
        f"[bold]Report {period.label}[/] ({period.start} – {period.end}), "
        f"read model at position {report.position:,}"
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
            row.name,
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


def print_ranking(report: ProvinceReport, by: RankBy, level: str | None, minimum: int) -> None:
    table = Table("rank", "unit", "name", "level", "rate %", "of", title=f"Ranking by {by.value}")
    for entry in ranking(report, by, level, minimum):
        table.add_row(
            "–" if entry.rank is None else str(entry.rank),
            entry.code,
            entry.name,
            entry.level,
            entry.rate.shown(),
            f"{entry.rate.whole:,}",
        )
    console.print(table)


# --- scenarios ----------------------------------------------------------------------------


class Via(enum.StrEnum):
    AUTO = "auto"
    STORE = "store"
    KAFKA = "kafka"
    HTTP = "http"


def simulate(
    hub: Hub,
    scenario_file: Path,
    via: Via,
    url: str | None,
    api_key: str | None,
    batch_size: int,
    load_catalogue: bool,
) -> None:
    try:
        scenario = load_scenario(scenario_file)
        plan = plan_scenario(scenario)
    except (ScenarioError, ValueError) as error:
        raise _fail(str(error)) from None
    settings = hub.settings
    if via is Via.AUTO:
        via = Via.KAFKA if settings.kafka_bootstrap else Via.STORE
    if load_catalogue:
        store = CatalogueStore(settings)
        try:
            version, changed = store.load(plan.catalogue, f"scenario {scenario_file.name}")
        finally:
            store.close()
        state = "loaded" if changed else "already loaded"
        console.print(f"catalogue {state}: {version.describe()}")
    sink: Sink
    if via is Via.STORE:
        sink = StoreSink(hub.ingestor)
    else:
        key = api_key or _simulator_key(settings)
        if via is Via.KAFKA:
            if not settings.kafka_bootstrap:
                raise _fail("--via kafka needs DVCHUB_KAFKA_BOOTSTRAP")
            try:
                sink = KafkaSink(settings.kafka_bootstrap, settings.kafka_actions_topic, key)
            except KafkaError as error:
                message = f"Kafka at {settings.kafka_bootstrap} does not answer: {error}"
                raise _fail(message, 1) from None
        else:
            sink = HttpSink(url or f"http://{settings.api_host}:{settings.api_port}", key)
    calendar = build_calendar(settings.calendar_dir, settings.office_hours)
    report = PublishReport()
    started = time.perf_counter()
    console.print(
        f"scenario {scenario.name!r}: {len(plan.units)} units, "
        f"{len(plan.catalogue.procedures):,} procedures, {plan.dossiers:,} dossiers, "
        f"via {via.value}"
    )
    try:
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                console=err_console,
            ) as bar:
                task = bar.add_task("publishing events", total=None)
                with PacedCollection(COLLECT_EVERY) as collection:
                    for batch in batches(scenario_events(plan, calendar), batch_size):
                        sink.send(batch, report)
                        report.published += len(batch)
                        bar.update(task, completed=report.published)
                        collection.done(len(batch))
        finally:
            sink.close()
    except (KafkaError, NotAcknowledged) as error:
        raise _fail(
            f"publishing to Kafka failed after {report.published:,} events: {error}. "
            "Run the scenario again once Kafka answers: its events keep their ids, so those "
            "the hub already took are answered as duplicates.",
            1,
        ) from None
    seconds = time.perf_counter() - started
    outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(report.outcomes.items()))
    console.print(
        f"published {report.published:,} events in {seconds:.1f} s "
        f"({report.published / max(seconds, 1e-9):,.0f}/s): {outcomes}"
    )
    if report.reasons:
        console.print("rejections: " + ", ".join(f"{k} {v}" for k, v in report.reasons.items()))
        raise typer.Exit(3)


def _simulator_key(settings: HubSettings) -> str:
    """A publisher key for the simulator, issued for this run (all units)."""
    store = CredentialStore(settings)
    try:
        _, key = store.issue(f"scenario-simulator-{secrets.token_hex(3)}", Role.PUBLISHER, ["*"])
        return key
    finally:
        store.close()
