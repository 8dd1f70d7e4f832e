"""``dvchub portal-sim`` and ``dvchub connector run|status|parked|retry|reconcile``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import typer
from rich.console import Console
from rich.table import Table

from connectors.dvcqg import outbox
from connectors.dvcqg.answers import AnswerCodes
from connectors.dvcqg.client import PortalClient
from connectors.dvcqg.intake import Intake
from connectors.dvcqg.reconcile import reconcile
from connectors.dvcqg.sender import Breaker, Sender
from connectors.dvcqg.status import by_unit_and_day
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import Hub
from hub.bus.sources import Source, bus_source
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings

console = Console(width=max(Console().width, 150))


class NotConfigured(Exception):
    """The connector needs DVCHUB_DVCQG_URL."""


def portal_client(settings: HubSettings) -> PortalClient:
    if not settings.dvcqg_url:
        raise NotConfigured("set DVCHUB_DVCQG_URL to the portal's (or the simulator's) address")
    return PortalClient(
        settings.dvcqg_url,
        settings.dvcqg_username,
        settings.dvcqg_password.get_secret_value(),
        settings.dvcqg_dstcode,
        settings.dvcqg_madonvi,
        settings.dvcqg_timeout_seconds,
        settings.dvcqg_login_path,
        settings.dvcqg_service_path,
        AnswerCodes(
            exists=settings.dvcqg_exists_codes,
            expired=settings.dvcqg_expired_codes,
            not_found=settings.dvcqg_not_found_codes,
        ),
    )


def connector_source(hub: Hub) -> Source:
    """Where the connector's intake reads the bus."""
    settings = hub.settings
    return bus_source(
        hub.store,
        settings.kafka_bootstrap,
        settings.kafka_events_topic,
        settings.kafka_connector_group,
        f"dvchub-dvcqg-{settings.instance_id}",
        settings.kafka_poll_records,
    )


def connector_tasks(hub: Hub) -> list[tuple[str, Callable[[threading.Event], None]]]:
    """The connector's two loops: intake (bus to outbox) and sender (outbox to portal)."""
    settings = hub.settings
    client = portal_client(settings)
    catalogue = CatalogueStore(settings)
    intake = Intake(ReadModelDatabase(settings), connector_source(hub), catalogue)
    sender = Sender(
        ReadModelDatabase(settings),
        client,
        batch_size=settings.dvcqg_batch_size,
        refusals_before_parking=settings.dvcqg_refusals_before_parking,
        breaker=Breaker(settings.dvcqg_breaker_failures, settings.dvcqg_breaker_seconds),
        settle_seconds=settings.dvcqg_settle_seconds,
        sole_sync_since=settings.dvcqg_sole_sync_since,
    )
    return [("dvcqg-intake", intake.run), ("dvcqg-sender", sender.run)]


def show_status(settings: HubSettings, start: date, end: date, unit: str | None) -> None:
    db = ReadModelDatabase(settings)
    try:
        outbox.create(db)
        table = Table("unit", "day", "synced", "pending", "parked", "oldest pending (s)")
        for row in by_unit_and_day(db, start, end, unit):
            oldest = (
                "" if row.oldest_pending_seconds is None else f"{row.oldest_pending_seconds:.0f}"
            )
            table.add_row(
                row.unit_code,
                str(row.day),
                str(row.synced),
                str(row.pending),
                str(row.parked),
                oldest,
            )
        console.print(table)
    finally:
        db.close()


def show_parked(settings: HubSettings) -> int:
    db = ReadModelDatabase(settings)
    try:
        outbox.create(db)
        rows = outbox.parked(db)
        table = Table(
            "dossier",
            "position",
            "event",
            "unit",
            "refusals",
            "portal's answer",
            "waiting behind",
            title="Parked updates",
        )
        for code, position, event_type, unit, attempts, error, _, _, waiting in rows:
            table.add_row(
                code, str(position), event_type, unit, str(attempts), str(error), str(waiting)
            )
        console.print(table)
        return len(rows)
    finally:
        db.close()


def retry(settings: HubSettings, dossier: str | None) -> int:
    db = ReadModelDatabase(settings)
    try:
        outbox.create(db)
        return outbox.retry_parked(db, dossier)
    finally:
        db.close()


def run_reconcile(settings: HubSettings, start: date, end: date, fresh: bool = False) -> None:
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
