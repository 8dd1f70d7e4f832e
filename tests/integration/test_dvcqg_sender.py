"""The connector's sender in-process against the portal simulator (SQLite read model): what
it sends when the portal already holds what an earlier, unanswered call carried."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.dvcqg import outbox
from connectors.dvcqg.client import PortalClient
from connectors.dvcqg.intake import Intake
from connectors.dvcqg.sender import Sender
from connectors.dvcqg.simulator import create_simulator
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import Hub, bootstrap
from hub.bus.sources import LogSource
from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings
from hub.simulation.generator import events, plan
from hub.simulation.publish import PublishReport, StoreSink, batches
from hub.simulation.scenario import load_scenario
from tests.conftest import ROOT

PASSWORD = "mat-khau"


@pytest.fixture
def queued(tmp_path: Any) -> Iterator[tuple[Hub, ReadModelDatabase]]:
    """The small scenario stored, and its integrated dossiers' updates in the outbox."""
    settings = HubSettings(data_dir=tmp_path / "var", log_level="WARNING")
    hub = bootstrap(settings, configure_logs=False)
    built = plan(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"))
    catalogue = CatalogueStore(settings)
    catalogue.load(built.catalogue, "small.yaml")
    report = PublishReport()
    for batch in batches(list(events(built, hub.rules.calendar)), 1_000):
        StoreSink(hub.ingestor).send(batch, report)
    db = ReadModelDatabase(settings)
    intake = Intake(db, LogSource(hub.store), catalogue)
    intake.start()
    never = threading.Event()
    while polled := intake.source.poll(never):
        intake.handle(polled)
    assert intake.enqueued > 100
    yield hub, db
    catalogue.close()
    db.close()
    hub.close()


def _sender(db: ReadModelDatabase) -> tuple[Sender, Any]:
    app = create_simulator("dvchub", PASSWORD)
    client = PortalClient("http://portal", "dvchub", PASSWORD, "000.00.00.H99", "000.00.00.H99")
    client.http = TestClient(app, base_url="http://portal")
    return Sender(db, client, batch_size=50, settle_seconds=0.0), app.state.store


def test_a_dossier_an_unanswered_insert_put_on_the_portal_gets_its_steps_once(
    queued: tuple[Hub, ReadModelDatabase],
) -> None:
    _, db = queued
    sender, portal = _sender(db)
    # An earlier insert of some dossiers reached the portal, but its answer never came:
    # the connector still believes they are not there.
    first = outbox.runs(db, 20)
    already = [run[-1].dossier for run in first[:7]]
    sender.client.call("DongBoHoSoMC", isUpdating="False", data=already)
    outbox.set_on_portal(db, {run[0].dossier_code: -1 for run in first})
    while sender.round():
        pass
    rows = dict(db.query(f"SELECT status, COUNT(*) FROM {outbox.OUTBOX} GROUP BY status"))
    assert rows == {"sent": sum(rows.values())}
    assert portal.duplicates == 0, "a step was sent twice"
    assert sum(len(steps) for steps in portal.steps.values()) == rows["sent"]
