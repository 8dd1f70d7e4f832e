"""``dvchub``: the hub's command line."""

from __future__ import annotations

import signal
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import orjson
import typer
from eventsourcing.persistence import InterfaceError, OperationalError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from events.asyncapi import asyncapi_document
from events.schema_export import event_schemas
from hub import cli_reports as reports
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.catalogue.store import CatalogueStore
from hub.cli_audit import audit_app
from hub.cli_settings import hub_or_exit, settings_or_exit
from hub.contract_docs import render
from hub.domain.calendar import VIETNAM
from hub.file_ingest import IngestReport, NotAFileError, ingest_file
from hub.log_reader import dossier_history
from hub.settings_docs import with_table
from hub.supervisor import Service, run_supervised
from hub.workload import Workload, demo_catalogue
from projections.periods import Period
from projections.reports import RankBy

app = typer.Typer(help="DVC Hub: dossier events of the province's one-stop system.")
schema_app = typer.Typer(help="The published event contract.")
workload_app = typer.Typer(help="Synthetic workloads.")
app.add_typer(schema_app, name="schema")
app.add_typer(workload_app, name="workload")
credentials_app = typer.Typer(help="Agency systems' API keys.")
app.add_typer(credentials_app, name="credentials")
app.add_typer(reports.catalogue_app, name="catalogue")
app.add_typer(reports.projections_app, name="projections")
console = Console(width=max(Console().width, 150))
err_console = Console(stderr=True, soft_wrap=True)


def _hub() -> Hub:
    """The hub from the environment's settings, or a clear message and exit status 2."""
    return hub_or_exit()


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write the JSON Schema of every event type, and the AsyncAPI document of the topics
    (asyncapi.json), into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    for event_type, schema in event_schemas().items():
        path = directory / f"{event_type}.schema.json"
        path.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
        console.print(f"wrote {path}")
    settings = settings_or_exit()
    document = asyncapi_document(
        settings.kafka_actions_topic, settings.kafka_events_topic, settings.kafka_rejects_topic
    )
    path = directory / "asyncapi.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    console.print(f"wrote {path}")


@schema_app.command("docs")
def schema_docs(
    out: Annotated[Path, typer.Option(help="Where to write")] = Path("docs/events.md"),
    readme: Annotated[
        Path, typer.Option(help="The README whose table of settings to rewrite")
    ] = Path("README.md"),
) -> None:
    """Write the table of event types, fields and lifecycle transitions, and the README's
    table of settings."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    console.print(f"wrote {out}")
    try:
        readme.write_text(with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    except (OSError, ValueError) as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    console.print(f"wrote the table of settings in {readme}")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file (default: FILE.rejects.jsonl)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Events per transaction")] = None,
    strict: Annotated[
        bool, typer.Option(help="Exit with status 3 if any line is rejected")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """Append a file of JSON events, one per line, to the store."""
    if not file.is_file():
        err_console.print(f"[bold red]error:[/] {file} is not a regular file")
        raise typer.Exit(2)
    hub = _hub()
    rejects_path = rejects or file.with_name(file.name + ".rejects.jsonl")
    try:
        with Progress(
            *Progress.get_default_columns()[:-1],
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("ingesting", total=file.stat().st_size)
            report = ingest_file(
                file,
                hub.ingestor,
                rejects_path,
                batch_size or hub.settings.ingest_batch_size,
                on_progress=lambda n: progress.advance(task, n),
                max_line_bytes=hub.settings.ingest_max_line_bytes,
            )
    except NotAFileError as error:
        err_console.print(f"[bold red]error:[/] {error}: give a file of JSON lines")
        raise typer.Exit(2) from None
    finally:
        hub.close()
    if as_json:
        typer.echo(orjson.dumps({**report.as_dict(), "rejects_file": str(rejects_path)}).decode())
    else:
        _print_report(report, rejects_path)
    if strict and report.rejected:
        raise typer.Exit(3)


def _print_report(report: IngestReport, rejects: Path) -> None:
    table = Table(title="ingest", show_header=False)
    for name in ("lines", "accepted", "duplicate", "rejected", "blank"):
        table.add_row(name, str(getattr(report, name)))
    for reason, count in sorted(report.reasons.items()):
        table.add_row(f"  rejected: {reason}", str(count))
    console.print(table)
    if report.rejected:
        console.print(f"rejected lines written to {rejects}")


@app.command()
def dossier(code: str) -> None:
    """Print a dossier's current state and its events, as JSON."""
    hub = _hub()
    try:
        history = dossier_history(hub.store, code)
        found = hub.store.dossier(code)
    finally:
        hub.close()
    if found is None or found.state is None:
        console.print(f"dossier {code} is not in the store")
        raise typer.Exit(1)
    state = found.state
    document = {
        "dossier_code": state.code,
        "status": int(state.status),
        "status_name": state.status.name.lower(),
        "due_at": state.due_at,
        "counted_due_at": state.counted_due_at,
        "version": found.version,
        "events": [
            {"record": e.record, "transition": e.transition, "provenance": e.provenance}
            for e in history
        ],
    }
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@workload_app.command("generate")
def workload_generate(
    out: Path,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD")] = "2021-01-01",
    days: Annotated[int, typer.Option(min=1)] = 30,
    per_day: Annotated[int, typer.Option(min=1, help="Dossiers per working day")] = 40,
    seed: int = 2021,
) -> None:
    """Write a synthetic workload of realistic dossiers as JSON lines."""
    workload = Workload(date.fromisoformat(start), days, per_day, seed=seed)
    events = workload.events()
    with out.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event) + b"\n")
    console.print(f"wrote {len(events)} events to {out}")


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, help="Days of history")] = 45,
    per_day: Annotated[int, typer.Option(min=1, help="Dossiers per working day")] = 30,
    serve_board: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Then serve the board and the API")
    ] = True,
    port: Annotated[int | None, typer.Option(help="Board and API port (default: settings)")] = None,
) -> None:
    """Run the hub embedded on a demo workload ending now, print the figures, then serve the
    board while the rest of today's dossiers arrive as their time comes."""
    hub = _hub()
    now = datetime.now(VIETNAM)
    try:
        workload = Workload(now.date() - timedelta(days=days), days + 2, per_day, now.toordinal())
        events = workload.events()
        past = [e for e in events if datetime.fromisoformat(e["occurred_at"]) <= now]
        coming = events[len(past) :]
        where = hub.settings.database_url or hub.settings.data_dir
        console.print(f"DVC Hub, embedded: {len(past)} demo events of {days} days into {where}")
        report = IngestReport(lines=len(past))
        size = hub.settings.ingest_batch_size
        for offset in range(0, len(past), size):
            for outcome in hub.ingestor.submit_json(past[offset : offset + size]):
                report.add(outcome)
        _print_report(report, Path("-"))
        catalogue = CatalogueStore(hub.settings)
        try:
            catalogue.load(demo_catalogue(), "demo")
        finally:
            catalogue.close()
        period = Period(now.date() - timedelta(days=days), now.date(), f"the last {days} days")
        reports.render_text(reports.build_report(hub, period, [], catch=True))
        _print_demo_examples(past)
    except BaseException:
        hub.close()
        raise
    if not serve_board:
        hub.close()
        return
    from hub.serve import Parts
    from hub.serve import serve as run_services

    host, chosen = hub.settings.api_host, hub.settings.api_port if port is None else port
    console.print(f"[bold]Board: http://{host}:{chosen}/[/]  (API: http://{host}:{chosen}/docs)")
    console.print(f"{len(coming)} more demo events arrive as their time comes; Ctrl-C stops.")

    def feed(stop: threading.Event) -> None:
        pending = list(coming)
        while pending and not stop.wait(5.0):
            moment = datetime.now(VIETNAM)
            due = [e for e in pending if datetime.fromisoformat(e["occurred_at"]) <= moment]
            if due:
                hub.ingestor.submit_json(due)
                pending = pending[len(due) :]

    run_services(
        hub, Parts(inbound=False, relay=False), host, chosen, [Service("demo-feed", feed, True)]
    )


def _print_demo_examples(events: list[dict[str, object]]) -> None:
    """Commands to try on the demo's own data, with codes and a period that exist in it."""
    if not events:
        return
    chosen = events[len(events) // 2]
    dossier = str(chosen["dossier_code"])
    unit = dossier.split("-", 1)[0]
    month = str(chosen["occurred_at"])[:7]
    console.print("Try, from the repository in another terminal:")
    for line in (
        f".venv/bin/dvchub dossier {dossier}",
        f".venv/bin/dvchub audit dossier {dossier}",
        f".venv/bin/dvchub report --period {month} --unit {unit}",
        f".venv/bin/dvchub ranking --period {month} --by on_time",
        ".venv/bin/dvchub projections status",
    ):
        console.print(f"  {line}", highlight=False, soft_wrap=True)


@app.command()
def serve(
    api: Annotated[bool, typer.Option(help="Run the HTTP API")] = True,
    inbound: Annotated[bool, typer.Option(help="Consume the actions topic (Kafka)")] = True,
    relay: Annotated[bool, typer.Option(help="Publish accepted events (Kafka)")] = True,
    projections: Annotated[bool, typer.Option(help="Keep the read models up to date")] = True,
    connector: Annotated[
        bool, typer.Option(help="Sync to the national portal (DVCHUB_DVCQG_URL)")
    ] = True,
    host: Annotated[str | None, typer.Option(help="API address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="API port (default: settings)")] = None,
) -> None:
    """Run the hub: the API and the projections, and with Kafka configured, the inbound
    consumer and the relay."""
    hub = _hub()
    settings = hub.settings
    if not settings.kafka_bootstrap and not api and not projections:
        hub.close()
        err_console.print(
            "[bold red]error:[/] without DVCHUB_KAFKA_BOOTSTRAP only the API and the "
            "projections run"
        )
        raise typer.Exit(2)
    from hub.serve import Parts
    from hub.serve import serve as run_services

    run_services(
        hub,
        Parts(api=api, inbound=inbound, relay=relay, projections=projections, connector=connector),
        host or settings.api_host,
        settings.api_port if port is None else port,
    )


def _credentials() -> CredentialStore:
    try:
        return CredentialStore(settings_or_exit())
    except (OperationalError, InterfaceError) as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None


@credentials_app.command("create")
def credentials_create(
    name: Annotated[str, typer.Option(help="The agency system, e.g. 'mot-cua-so-tu-phap'")],
    role: Annotated[
        Role, typer.Option(help="publisher, reader, auditor or reuser")
    ] = Role.PUBLISHER,
    unit: Annotated[
        list[str] | None, typer.Option(help="Unit code it may publish for; '*' for all; repeat")
    ] = None,
) -> None:
    """Issue an API key. It is printed once and stored only as a hash."""
    store = _credentials()
    try:
        credential, api_key = store.issue(name, role, unit or [])
    except ValueError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    finally:
        store.close()
    console.print(f"key id: {credential.key_id}  role: {credential.role.value}")
    typer.echo(api_key)


@credentials_app.command("list")
def credentials_list() -> None:
    """List credentials (never their keys)."""
    store = _credentials()
    try:
        found = store.all()
    finally:
        store.close()
    table = Table(title="credentials")
    for column in ("key id", "name", "role", "units", "state"):
        table.add_column(column)
    for c in sorted(found, key=lambda c: c.name):
        state = f"revoked: {c.revoked_reason}" if c.revoked else "active"
        table.add_row(c.key_id, c.name, c.role.value, ", ".join(sorted(c.units)), state)
    console.print(table)


@credentials_app.command("revoke")
def credentials_revoke(
    key_id: str, reason: Annotated[str, typer.Option()] = "revoked by an operator"
) -> None:
    """Revoke a credential; it stops working at once here, within seconds elsewhere."""
    store = _credentials()
    try:
        store.revoke(key_id, reason)
    except KeyError:
        err_console.print(f"[bold red]error:[/] no credential with key id {key_id}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(f"revoked {key_id}")


@reports.catalogue_app.command("load")
def catalogue_load(
    files: Annotated[list[Path], typer.Argument(help="YAML or CSV files of units and procedures")],
) -> None:
    """Load the catalogue; a new version is recorded only if it changed."""
    hub = _hub()
    try:
        reports.catalogue_load(hub, files)
    finally:
        hub.close()


@reports.catalogue_app.command("show")
def catalogue_show() -> None:
    """List the catalogue's versions."""
    hub = _hub()
    try:
        reports.catalogue_show(hub)
    finally:
        hub.close()


@reports.projections_app.command("run")
def projections_run() -> None:
    """Keep the read models up to date from the bus (Kafka, or the store's log embedded)."""
    hub = _hub()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        reports.projections_run(hub, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        hub.close()


@reports.projections_app.command("rebuild")
def projections_rebuild(
    shards: Annotated[
        int | None, typer.Option(min=1, help="Parallel folds (PostgreSQL; default: CPUs)")
    ] = None,
) -> None:
    """Recompute every read model from the first event into fresh tables, then swap them in."""
    hub = _hub()
    try:
        reports.projections_rebuild(hub, shards)
    finally:
        hub.close()


@reports.projections_app.command("status")
def projections_status() -> None:
    """Each projection's position and lag."""
    hub = _hub()
    try:
        reports.projections_status(hub)
    finally:
        hub.close()


@reports.projections_app.command("parked")
def projections_parked(
    projection: Annotated[
        str | None,
        typer.Option(help="Only this one (unit_progress, reuse_index, dvcqg_intake)"),
    ] = None,
) -> None:
    """Events a projection (or the portal connector) could not take: position, dossier,
    event type, error."""
    hub = _hub()
    try:
        reports.projections_parked(hub, projection)
    finally:
        hub.close()


@reports.projections_app.command("retry")
def projections_retry(
    projection: Annotated[
        str | None, typer.Option(help="Only this projection (unit_progress, reuse_index)")
    ] = None,
) -> None:
    """Fold the parked events again (once their cause is fixed); exit 1 if some still fail."""
    hub = _hub()
    try:
        reports.projections_retry(hub, projection)
    finally:
        hub.close()


@app.command()
def report(
    period: Annotated[str, typer.Option(help="2021H1, 2021Q2, 2021-03, 2021, A..B")],
    unit: Annotated[
        list[str] | None, typer.Option(help="Also print this unit's card; repeat")
    ] = None,
    fmt: Annotated[reports.Format, typer.Option("--format")] = reports.Format.TEXT,
    out: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
    catch_up: Annotated[
        bool, typer.Option(help="Embedded: apply the log's newest events first")
    ] = True,
) -> None:
    """The published report of a period: online dossiers by level, per-unit tables."""
    hub = _hub()
    try:
        built = reports.build_report(hub, reports.period_of(period), unit or [], catch_up)
        reports.print_report(built, fmt, out)
    finally:
        hub.close()


@app.command()
def ranking(
    period: Annotated[str, typer.Option(help="2021H1, 2021Q2, 2021-03, 2021, A..B")],
    by: Annotated[RankBy, typer.Option()] = RankBy.ON_TIME,
    level: Annotated[str | None, typer.Option(help="province, district or commune")] = None,
    minimum: Annotated[
        int, typer.Option(min=1, help="Fewer dossiers than this: listed, not ranked")
    ] = 30,
) -> None:
    """Units ranked by on-time rate or online rate; ties share a rank."""
    hub = _hub()
    try:
        built = reports.build_report(hub, reports.period_of(period), [], True)
        reports.print_ranking(built, by, level, minimum)
    finally:
        hub.close()


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Option(help="A scenario file (see scenarios/)")],
    via: Annotated[reports.Via, typer.Option(help="Ingest path")] = reports.Via.AUTO,
    url: Annotated[str | None, typer.Option(help="The hub's API, for --via http")] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Publisher key (default: one issued for this run)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5_000)] = 1_000,
    catalogue: Annotated[bool, typer.Option(help="Load the scenario's catalogue first")] = True,
) -> None:
    """Turn a scenario into dossier events and publish them through the normal ingest path."""
    hub = _hub()
    try:
        reports.simulate(hub, scenario, via, url, api_key, batch_size, catalogue)
    finally:
        hub.close()


app.add_typer(audit_app, name="audit")

reuse_app = typer.Typer(help="Reuse of earlier dossiers' results and documents.")
app.add_typer(reuse_app, name="reuse")


@reuse_app.command("lookup")
def reuse_lookup(
    unit: Annotated[str, typer.Option("--unit", help="The requesting unit's code")],
    dossier: Annotated[str, typer.Option("--dossier", help="The earlier dossier's code")],
    procedure: Annotated[str, typer.Option("--procedure", help="The new dossier's procedure")],
    identity: Annotated[
        str | None, typer.Option("--identity", help="The applicant's identity number")
    ] = None,
    identity_hash: Annotated[
        str | None, typer.Option("--identity-hash", help="...or its keyed hash")
    ] = None,
    consent: Annotated[
        str | None, typer.Option("--consent", help="The applicant's consent reference")
    ] = None,
    match: Annotated[
        str | None,
        typer.Option("--match", help="TYPE:NUMBER: only confirm that this document is valid"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """What of an earlier dossier may be reused for a procedure; the look-up is recorded.
    Exit status 0 when granted or matched, 1 when refused or not matched."""
    from hub import cli_reuse

    hub = _hub()
    try:
        status = cli_reuse.lookup(
            hub, unit, dossier, procedure, identity, identity_hash, consent, match, as_json
        )
    finally:
        hub.close()
    raise typer.Exit(status)


@reuse_app.command("history")
def reuse_history(
    dossier: Annotated[str, typer.Argument(help="The dossier's code")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every look-up of a dossier, and the dossiers that reused it."""
    from hub import cli_reuse

    hub = _hub()
    try:
        cli_reuse.history(hub, dossier, as_json)
    finally:
        hub.close()


connector_app = typer.Typer(help="The national portal (DVCQG) sync.")
app.add_typer(connector_app, name="connector")


@app.command("portal-sim")
def portal_sim(
    password: Annotated[
        str, typer.Option(envvar="DVCHUB_DVCQG_PASSWORD", help="The password it accepts")
    ],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8900,
    username: Annotated[str, typer.Option(envvar="DVCHUB_DVCQG_USERNAME")] = "dvchub",
    session_seconds: Annotated[float, typer.Option(help="Sessions expire after this")] = 300.0,
    error_5xx: Annotated[float, typer.Option(help="Chance of a 503 per call")] = 0.0,
    timeout: Annotated[float, typer.Option(help="Chance of an answer too late")] = 0.0,
    timeout_seconds: Annotated[float, typer.Option(help="How late that answer is")] = 12.0,
    slow: Annotated[float, typer.Option(help="Chance of a slow answer")] = 0.0,
    drop_session: Annotated[float, typer.Option(help="Chance of dropping the session")] = 0.0,
    rate_limit: Annotated[float, typer.Option(help="Chance of a 429")] = 0.0,
    wrong_body: Annotated[float, typer.Option(help="Chance of a body that is not JSON")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the faults")] = None,
    dialect: Annotated[
        str, typer.Option(help="How it words its answers: simulator, message or http")
    ] = "simulator",
    strict: Annotated[
        bool, typer.Option(help="Refuse any payload that breaks the documented interface")
    ] = False,
) -> None:
    """Run a simulator of the national portal's sync interface, with faults to inject."""
    import uvicorn

    from connectors.dvcqg.simulator import DIALECTS, Faults, create_simulator

    if dialect not in DIALECTS:
        err_console.print(
            f"[bold red]error:[/] no dialect {dialect!r}: one of {', '.join(DIALECTS)}"
        )
        raise typer.Exit(2)

    faults = Faults(
        error_5xx=error_5xx,
        timeout=timeout,
        timeout_seconds=timeout_seconds,
        slow=slow,
        drop_session=drop_session,
        rate_limit=rate_limit,
        wrong_body=wrong_body,
    )
    sim = create_simulator(
        username, password, session_seconds, faults, seed, DIALECTS[dialect], strict
    )
    console.print(
        f"portal simulator on http://{host}:{port} ({dialect} dialect"
        f"{', strict' if strict else ''}; faults: {faults.model_dump()})"
    )
    uvicorn.run(sim, host=host, port=port, log_level="warning", access_log=False)


@connector_app.command("run")
def connector_run(
    intake: Annotated[bool, typer.Option(help="Read the bus into the outbox")] = True,
    sender: Annotated[bool, typer.Option(help="Deliver the outbox to the portal")] = True,
) -> None:
    """Sync dossiers of integrated procedures to the portal: intake and sender, together or
    each in its own process."""
    from hub.cli_connector import NotConfigured, connector_tasks

    hub = _hub()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wanted = {"dvcqg-intake": intake, "dvcqg-sender": sender}
    try:
        tasks = [(name, task) for name, task in connector_tasks(hub) if wanted[name]]
    except NotConfigured as error:
        hub.close()
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    try:
        run_supervised([Service(name, task) for name, task in tasks], stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        hub.close()


@connector_app.command("status")
def connector_status(
    period: Annotated[str, typer.Option(help="Days of the events, e.g. 2021H1")],
    unit: Annotated[str | None, typer.Option(help="One receiving unit")] = None,
) -> None:
    """Synced, pending and parked updates per unit and day, and the oldest pending age."""
    from hub.cli_connector import show_status

    span = reports.period_of(period)
    show_status(settings_or_exit(), span.start, span.end, unit)


@connector_app.command("parked")
def connector_parked() -> None:
    """Updates the portal refused for good, with its answer and what waits behind them."""
    from hub.cli_connector import show_parked

    show_parked(settings_or_exit())


@connector_app.command("retry")
def connector_retry(
    dossier: Annotated[str | None, typer.Option(help="Only this dossier's parked updates")] = None,
) -> None:
    """Put parked updates back in the queue (after the cause was fixed)."""
    from hub.cli_connector import retry

    count = retry(settings_or_exit(), dossier)
    console.print(f"{count} parked update(s) queued again")


@connector_app.command("reconcile")
def connector_reconcile(
    period: Annotated[str, typer.Option(help="Dossiers received in this period")],
    fresh: Annotated[
        bool, typer.Option(help="Start over, not resuming the period's unfinished reconcile")
    ] = False,
) -> None:
    """Compare the portal's view of each integrated dossier with the hub's; queue again what
    differs. An unfinished reconcile of the same period is resumed."""
    from hub.cli_connector import NotConfigured, run_reconcile

    span = reports.period_of(period)
    try:
        run_reconcile(settings_or_exit(), span.start, span.end, fresh)
    except NotConfigured as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
