"""The connector as the hub runs it: a portal client from the settings, the intake's source
on the bus, and the two loops (intake and sender) that ``dvchub serve`` and ``dvchub
connector run`` supervise."""

from __future__ import annotations

import threading
from collections.abc import Callable

from connectors.dvcqg.answers import AnswerCodes
from connectors.dvcqg.client import PortalClient
from connectors.dvcqg.intake import Intake
from connectors.dvcqg.sender import Breaker, Sender
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import Hub
from hub.bus.sources import Source
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings


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
    return hub.bus.source(settings.kafka_connector_group, f"dvchub-dvcqg-{settings.instance_id}")


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
