"""``dvchub simulate``: a scenario of a province, through the store, Kafka or HTTP."""

from __future__ import annotations

import enum
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import console, err_console, fail, hub_or_exit
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.settings import HubSettings

#: The simulator collects garbage itself, once every this many events (hub.paced_collection).
COLLECT_EVERY = 100_000


class Via(enum.StrEnum):
    AUTO = "auto"
    STORE = "store"
    KAFKA = "kafka"
    HTTP = "http"


def simulate_scenario(
    hub: Hub,
    scenario_file: Path,
    via: Via,
    url: str | None,
    api_key: str | None,
    batch_size: int,
    load_catalogue: bool,
    log_every: float = 10.0,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    from hub.adapters.calendar_files import build_calendar
    from hub.catalogue.store import CatalogueStore
    from hub.paced_collection import PacedCollection
    from hub.simulation.generator import events as scenario_events
    from hub.simulation.generator import plan as plan_scenario
    from hub.simulation.progress_log import ProgressLog
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

    try:
        scenario = load_scenario(scenario_file)
        plan = plan_scenario(scenario)
    except (ScenarioError, ValueError) as error:
        raise fail(str(error)) from None
    settings = hub.settings
    if via is Via.AUTO:
        via = Via.STORE if hub.bus.embedded else Via.KAFKA
    if load_catalogue:
        store = CatalogueStore(settings)
        try:
            version, changed = store.load(plan.catalogue, f"scenario {scenario_file.name}")
        finally:
            store.close()
        state = "loaded" if changed else "already loaded"
        console.print(f"catalogue {state}: {version.describe()}")
    sink: Sink
    failures: tuple[type[Exception], ...] = (NotAcknowledged,)
    if via is Via.STORE:
        sink = StoreSink(hub.ingestor)
    else:
        key = api_key or _simulator_key(settings)
        if via is Via.KAFKA:
            from kafka.errors import KafkaError  # the Kafka client only for this path

            failures = (KafkaError, NotAcknowledged)
            if not settings.kafka_bootstrap:
                raise fail("--via kafka needs DVCHUB_KAFKA_BOOTSTRAP")
            try:
                sink = KafkaSink(settings.kafka_bootstrap, settings.kafka_actions_topic, key)
            except KafkaError as error:
                message = f"Kafka at {settings.kafka_bootstrap} does not answer: {error}"
                raise fail(message, 1) from None
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
                logged = ProgressLog(plan.dossiers, log_every)
                with PacedCollection(COLLECT_EVERY) as collection:
                    for batch in batches(scenario_events(plan, calendar), batch_size):
                        sink.send(batch, report)
                        report.published += len(batch)
                        bar.update(task, completed=report.published)
                        logged.update(report)
                        collection.done(len(batch))
                logged.done(report)
        finally:
            sink.close()
    except failures as error:
        raise fail(
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
    from hub.auth.credentials import Role
    from hub.auth.store import CredentialStore

    store = CredentialStore(settings)
    try:
        _, key = store.issue(f"scenario-simulator-{secrets.token_hex(3)}", Role.PUBLISHER, ["*"])
        return key
    finally:
        store.close()


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Option(help="A scenario file (see scenarios/)")],
    via: Annotated[Via, typer.Option(help="Ingest path")] = Via.AUTO,
    url: Annotated[str | None, typer.Option(help="The hub's API, for --via http")] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Publisher key (default: one issued for this run)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5_000)] = 1_000,
    catalogue: Annotated[bool, typer.Option(help="Load the scenario's catalogue first")] = True,
    log_every: Annotated[
        float, typer.Option(min=0, help="Seconds between progress lines in the log")
    ] = 10.0,
) -> None:
    """Turn a scenario into dossier events and publish them through the normal ingest path."""
    with hub_or_exit() as hub:
        simulate_scenario(hub, scenario, via, url, api_key, batch_size, catalogue, log_every)
