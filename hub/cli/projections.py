"""``dvchub projections run|rebuild|status|parked|retry``: the read models."""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import JsonOption, console, err_console, fail, hub_or_exit, print_rows
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.bus.lag import Backlog
    from hub.settings import HubSettings

projections_app = typer.Typer(help="Read models: run, rebuild, status.")
app.add_typer(projections_app, name="projections")


def _projections_run(hub: Hub, stop: threading.Event) -> None:
    """Run the progress and reuse-index workers and the audit sealer until ``stop``, each
    restarted with backoff if it crashes (:mod:`hub.supervisor`)."""
    from hub.serve import projection_services
    from hub.supervisor import run_supervised

    run_supervised(projection_services(hub), stop, hub.settings.service_stuck_seconds)


def _projections_rebuild(hub: Hub, shards: int | None) -> None:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TimeRemainingColumn,
    )

    from hub.adapters.sql import ReadModelDatabase
    from projections.rebuild import RebuildError, rebuild
    from projections.reuse.worker import PROJECTION as REUSE_INDEX
    from projections.reuse.worker import rebuild as rebuild_reuse_index

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
            raise fail(str(error)) from None
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
            raise fail("another rebuild of the reuse index is running")
        started = time.perf_counter()
        with err_console.status("rebuilding reuse_index"):
            events, position = rebuild_reuse_index(db, hub.store)
        console.print(
            f"rebuilt reuse_index: {events:,} events in {time.perf_counter() - started:.1f} s, "
            f"up to position {position:,}"
        )
    finally:
        db.close()


def _projections_status(hub: Hub, as_json: bool) -> None:
    from hub.adapters import parked
    from hub.adapters.sql import ReadModelDatabase
    from hub.log_reader import last_position
    from projections import checkpoints, registry
    from projections.runner import PROJECTION

    with ReadModelDatabase(hub.settings) as db:
        registry.prepare_all(db)
        head = last_position(hub.store)
        generation = checkpoints.generation(db, PROJECTION)
        found = checkpoints.status_rows(db)
        parked_counts = parked.counts(db)
    kafka = _kafka_backlogs(hub.settings, found)
    rows = []
    newest = generation.rebuilt_to
    for projection, source, part, position, offset, updated in found:
        newest = max(newest, position)
        lag: dict[str, object] | None
        if source == "log":
            lag = {"count": head - position, "of": "events", "complete": True}
        else:
            on_topic = source == hub.settings.kafka_events_topic
            backlog = kafka.get((part, offset)) if on_topic and offset is not None else None
            lag = None
            if backlog is not None:
                lag = {"count": backlog.records, "of": "records", "complete": backlog.complete}
        shown = "?" if lag is None else f"{lag['count']:,} {lag['of']}"
        if lag is not None and not lag["complete"]:
            shown = f"≥ {shown}"
        rows.append(
            {
                "projection": projection,
                "source": source,
                "part": part,
                "position": position,
                "offset": offset,
                "lag": lag if as_json else shown,
                "updated": updated,
            }
        )
    if as_json:
        import orjson

        document = {
            "store_position": head,
            "generation": {
                "projection": PROJECTION,
                "number": generation.number,
                "rebuilt_to": generation.rebuilt_to,
                "rebuilt_at": generation.rebuilt_at,
            },
            "checkpoints": rows,
            "behind_by_at_most": max(0, head - newest),
            "parked": parked_counts,
        }
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str).decode())
        return
    console.print(
        f"store: last position {head:,}; {PROJECTION}: generation {generation.number}, "
        f"rebuilt to {generation.rebuilt_to:,} at {generation.rebuilt_at or 'never'}"
    )
    columns = [("projection", "projection"), ("source", "source"), ("part", "part")]
    columns += [("position", "position"), ("offset", "offset"), ("lag", "lag")]
    print_rows(rows, [*columns, ("updated", "updated")], "Projections", as_json)
    console.print(f"behind the store by at most {max(0, head - newest):,} events")
    for name, count in sorted(parked_counts.items()):
        console.print(
            f"{name}: {count:,} event(s) parked (could not be folded): `dvchub projections parked`"
        )


def _chosen(projection: str | None) -> list[str]:
    from projections import registry

    if projection is None:
        return registry.names()
    try:
        return [registry.named(projection).name]
    except registry.UnknownProjectionError as error:
        raise fail(str(error.args[0])) from None


def _projections_parked(hub: Hub, projection: str | None, as_json: bool) -> None:
    from hub.adapters import parked
    from hub.adapters.sql import ReadModelDatabase

    with ReadModelDatabase(hub.settings) as db:
        found = parked.parked(db, projection)  # the projections', and the connector's
    rows = [
        {
            "projection": item.projection,
            "position": item.position,
            "dossier_code": item.dossier_code,
            "event_type": item.event_type,
            "error": item.error,
            "parked_at": item.parked_at,
        }
        for item in found
    ]
    columns = [("projection", "projection"), ("position", "position")]
    columns += [("dossier_code", "dossier"), ("event_type", "event type"), ("error", "error")]
    print_rows(rows, [*columns, ("parked_at", "parked at")], "Parked events", as_json)
    if not as_json:
        console.print(f"{len(found):,} parked event(s)")


def _projections_retry(hub: Hub, projection: str | None) -> None:
    from hub.adapters.sql import ReadModelDatabase
    from projections import registry
    from projections.worker import retry_parked

    db = ReadModelDatabase(hub.settings)
    still = 0
    try:
        for name in _chosen(projection):
            result = retry_parked(registry.named(name).make(), db, hub.store)
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
    from kafka.errors import KafkaError

    from hub.bus.lag import backlogs

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


@projections_app.command("run")
def projections_run() -> None:
    """Keep the read models up to date from the bus (Kafka, or the store's log embedded)."""
    hub = hub_or_exit()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _projections_run(hub, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        hub.close()


@projections_app.command("rebuild")
def projections_rebuild(
    shards: Annotated[
        int | None, typer.Option(min=1, help="Parallel folds (PostgreSQL; default: CPUs)")
    ] = None,
) -> None:
    """Recompute every read model from the first event into fresh tables, then swap them in."""
    with hub_or_exit() as hub:
        _projections_rebuild(hub, shards)


@projections_app.command("status")
def projections_status(as_json: JsonOption = False) -> None:
    """Each projection's position and lag (events behind the store, or the backlog on
    the topic; unknown when Kafka does not answer)."""
    with hub_or_exit() as hub:
        _projections_status(hub, as_json)


@projections_app.command("parked")
def projections_parked(
    projection: Annotated[
        str | None,
        typer.Option(help="Only this one (unit_progress, reuse_index, dvcqg_intake)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Events a projection (or the portal connector) could not take: position, dossier,
    event type, error."""
    with hub_or_exit() as hub:
        _projections_parked(hub, projection, as_json)


@projections_app.command("retry")
def projections_retry(
    projection: Annotated[
        str | None, typer.Option(help="Only this projection (unit_progress, reuse_index)")
    ] = None,
) -> None:
    """Fold the parked events again (once their cause is fixed); exit 1 if some still fail."""
    with hub_or_exit() as hub:
        _projections_retry(hub, projection)
