"""``dvchub portal-sim`` and ``dvchub connector run|status|parked|retry|reconcile``."""

from __future__ import annotations

import signal
import threading
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import (
    JsonOption,
    console,
    err_console,
    fail,
    hub_or_exit,
    period_of,
    print_rows,
    settings_or_exit,
)
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.settings import HubSettings

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
    from connectors.dvcqg.runtime import NotConfigured, connector_tasks
    from hub.supervisor import Service, run_supervised

    hub = hub_or_exit()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    wanted = {"dvcqg-intake": intake, "dvcqg-sender": sender}
    try:
        tasks = [(name, task) for name, task in connector_tasks(hub) if wanted[name]]
    except NotConfigured as error:
        hub.close()
        raise fail(str(error)) from None
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
    as_json: JsonOption = False,
) -> None:
    """Synced, pending and parked updates per unit and day, and the oldest pending age."""
    span = period_of(period)
    _show_status(settings_or_exit(), span.start, span.end, unit, as_json)


@connector_app.command("parked")
def connector_parked(as_json: JsonOption = False) -> None:
    """Updates the portal refused for good, with its answer and what waits behind them."""
    _show_parked(settings_or_exit(), as_json)


@connector_app.command("retry")
def connector_retry(
    dossier: Annotated[str | None, typer.Option(help="Only this dossier's parked updates")] = None,
) -> None:
    """Put parked updates back in the queue (after the cause was fixed)."""
    count = _retry(settings_or_exit(), dossier)
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
    from connectors.dvcqg.runtime import NotConfigured

    span = period_of(period)
    try:
        _reconcile(settings_or_exit(), span.start, span.end, fresh)
    except NotConfigured as error:
        raise fail(str(error)) from None


def _show_status(
    settings: HubSettings, start: date, end: date, unit: str | None, as_json: bool
) -> None:
    from connectors.dvcqg import outbox
    from connectors.dvcqg.status import SyncUnitDayDoc, by_unit_and_day
    from hub.adapters.sql import ReadModelDatabase

    with ReadModelDatabase(settings) as db:
        outbox.create(db)
        found = by_unit_and_day(db, start, end, unit)
    rows: list[dict[str, object]] = [SyncUnitDayDoc.of(row).model_dump() for row in found]
    if not as_json:
        for row in rows:
            oldest = row["oldest_pending_seconds"]
            row["oldest_pending_seconds"] = None if oldest is None else f"{oldest:.0f}"
    columns = [("unit_code", "unit"), ("day", "day"), ("synced", "synced")]
    columns += [("pending", "pending"), ("parked", "parked")]
    columns += [("oldest_pending_seconds", "oldest pending (s)")]
    print_rows(rows, columns, "Sync to the national portal", as_json)


def _show_parked(settings: HubSettings, as_json: bool) -> int:
    from connectors.dvcqg import outbox
    from hub.adapters.sql import ReadModelDatabase

    with ReadModelDatabase(settings) as db:
        outbox.create(db)
        found = outbox.parked(db)
    rows = [
        {
            "dossier_code": code,
            "position": position,
            "event_type": event_type,
            "unit_code": unit,
            "refusals": attempts,
            "answer": error,
            "waiting_behind": waiting,
        }
        for code, position, event_type, unit, attempts, error, _, _, waiting in found
    ]
    columns = [("dossier_code", "dossier"), ("position", "position"), ("event_type", "event")]
    columns += [("unit_code", "unit"), ("refusals", "refusals"), ("answer", "portal's answer")]
    print_rows(rows, [*columns, ("waiting_behind", "waiting behind")], "Parked updates", as_json)
    return len(rows)


def _retry(settings: HubSettings, dossier: str | None) -> int:
    from connectors.dvcqg import outbox
    from hub.adapters.sql import ReadModelDatabase

    db = ReadModelDatabase(settings)
    try:
        outbox.create(db)
        return outbox.retry_parked(db, dossier)
    finally:
        db.close()


def _reconcile(settings: HubSettings, start: date, end: date, fresh: bool = False) -> None:
    from connectors.dvcqg import outbox
    from connectors.dvcqg.reconcile import reconcile
    from connectors.dvcqg.runtime import portal_client
    from hub.adapters.sql import ReadModelDatabase

    db = ReadModelDatabase(settings)
    client = portal_client(settings)
    try:
        outbox.create(db)
        report = reconcile(db, client, start, end, fresh=fresh)
    finally:
        client.close()
        db.close()
    differences = ", ".join(f"{k} {v}" for k, v in sorted(report.differences.items())) or "none"
    if report.resumed:
        console.print(
            f"resumed an unfinished reconcile of the period: {report.resumed} dossiers "
            "checked before are not asked about again"
        )
    console.print(
        f"checked {report.checked} integrated dossiers: {report.matching} match the portal; "
        f"differences: {differences}; queued again: {report.requeued}"
    )
    if report.errors:
        console.print(
            f"{len(report.errors)} dossiers could not be checked (run reconcile again to "
            "check them, and only them): "
            + "; ".join(f"{code}: {why}" for code, why in list(report.errors.items())[:5])
        )
        raise typer.Exit(1)
