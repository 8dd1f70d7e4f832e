"""The auditor's toolkit end to end on SQLite and PostgreSQL: a dossier's history and its
state at any instant (CLI and HTTP, JSON, CSV and HTML), sealing and signed checkpoints,
proofs checked by the standalone verifier, and checkpoints published on Kafka."""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer

from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.audit import service
from hub.audit.checkpoints import load_signer
from hub.audit.publish import publisher, sealer
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub, bootstrap
from hub.bus.rejects import FileRejectSink
from hub.bus.topics import ensure_topics
from hub.cli.common import period_of
from hub.cli.reports import build_report, catch_up_embedded
from hub.log_reader import last_position
from hub.settings import HubSettings
from hub.simulation.workload import Workload
from projections.replay import replay
from projections.reports import report_json
from tests.conftest import ROOT
from tests.factories import CODE, UNIT, at, event, received
from tests.processes import cli_result

VERIFIER = ROOT / "verifier" / "dvchub_verify.py"


def _late_dossier() -> list[dict[str, Any]]:
    """Received Monday 09:00 with two working days (due Wednesday 09:00), resolved late on
    Thursday, returned that afternoon."""
    return [
        event("dossier.registered", when="2021-03-15 08:00"),
        event("dossier.received", received(2), when="2021-03-15 09:00"),
        event("dossier.resolved", when="2021-03-18 10:00"),
        event("dossier.result_returned", when="2021-03-18 14:00"),
    ]


def _store(hub: Hub, items: list[dict[str, Any]]) -> None:
    outcomes = hub.ingestor.submit_json(items)
    assert [o.status for o in outcomes] == ["accepted"] * len(items), outcomes


def _cli(settings: HubSettings, *args: str) -> subprocess.CompletedProcess[str]:
    return cli_result(settings, "audit", *args)


def test_history_timeline_state_as_of_and_outcome(hub: Hub) -> None:
    _store(hub, _late_dossier())
    found = service.dossier_history(hub.store, CODE)
    assert [e.event_type for e in found.timeline] == [
        "dossier.registered",
        "dossier.received",
        "dossier.resolved",
        "dossier.result_returned",
    ]
    received_entry = found.timeline[1]
    assert (received_entry.status_before, received_entry.status_after) == ("registered", "received")
    assert received_entry.due_before is None
    assert received_entry.due_after == at("2021-03-17 09:00")
    assert received_entry.unit_code == UNIT
    assert received_entry.actor_id == "canbo-01"
    assert received_entry.recorded_at > received_entry.occurred_at
    assert found.state.status == "result_returned"
    assert found.state.outcome == "late"
    assert found.state.resolved_at == at("2021-03-18 10:00")

    tuesday = service.dossier_history(hub.store, CODE, as_of=at("2021-03-16 12:00"))
    assert tuesday.state.events == 2
    assert tuesday.state.status == "received"
    assert tuesday.state.outcome == "pending"
    assert tuesday.state.counted_due_at == at("2021-03-17 09:00")
    thursday = service.dossier_history(hub.store, CODE, as_of=at("2021-03-18 08:00"))
    assert thursday.state.outcome == "overdue"
    before = service.dossier_history(hub.store, CODE, as_of=at("2021-03-15 07:00"))
    assert before.state.events == 0
    assert before.state.status is None
    # Known at an instant before the hub recorded anything: nothing yet.
    unknown = service.dossier_history(hub.store, CODE, known_at=at("2021-03-20 00:00"))
    assert unknown.timeline == []
    with pytest.raises(service.NotFoundError):
        service.dossier_history(hub.store, "000.00.01.H12-210315-9999")


def test_history_over_http_for_auditors_only(hub: Hub, tmp_path: Path) -> None:
    _store(hub, _late_dossier())
    credentials = CredentialStore(hub.settings)
    _, auditor = credentials.issue("kiem-toan", Role.AUDITOR, ["*"])
    _, reader = credentials.issue("doc", Role.READER, ["*"])
    app = create_app(hub, credentials, FileRejectSink(tmp_path / "rejects.jsonl"))
    with TestClient(app) as client:
        url = f"/v1/audit/dossiers/{CODE}"
        as_auditor = {"Authorization": f"Bearer {auditor}"}
        answer = client.get(url, headers=as_auditor)
        assert answer.status_code == 200
        assert answer.json()["state"]["outcome"] == "late"
        then = client.get(
            url, headers=as_auditor, params={"as_of": at("2021-03-16 12:00").isoformat()}
        )
        assert then.json()["state"]["status"] == "received"
        assert (
            client.get(url, headers=as_auditor, params={"as_of": "2021-03-16T12:00"}).status_code
            == 422
        )
        table = client.get(url, headers=as_auditor, params={"format": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert [r["event_type"] for r in rows][-1] == "dossier.result_returned"
        assert rows[1]["due_after"] == "2021-03-17T09:00:00+07:00"
        page = client.get(url, headers=as_auditor, params={"format": "html"})
        assert page.headers["content-type"].startswith("text/html")
        assert CODE in page.text
        assert "late" in page.text
        assert client.get(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        assert client.get(url).status_code == 401
        missing = client.get("/v1/audit/dossiers/000.00.01.H12-210315-9999", headers=as_auditor)
        assert missing.status_code == 404
        assert client.get("/v1/audit/checkpoints/latest").status_code == 404
        sealer(hub.settings, hub.store).run_once()
        latest = client.get("/v1/audit/checkpoints/latest")
        assert latest.status_code == 200
        assert latest.text.split("\n")[1] == "4"
    credentials.close()


def test_cli_seals_verifies_and_proves_for_the_standalone_verifier(
    settings: HubSettings, tmp_path: Path
) -> None:
    hub = bootstrap(settings, configure_logs=False)
    _store(hub, _late_dossier())
    other = "000.00.01.H12-210315-0002"
    _store(
        hub,
        [
            event("dossier.registered", code=other),
            event("dossier.received", received(2), code=other),
        ],
    )

    sealed = _cli(settings, "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 6 new events" in sealed.stdout
    _store(hub, [event("dossier.resolved", code=other, when="2021-03-16 10:00")])
    assert _cli(settings, "seal").returncode == 0
    hub.close()

    history = _cli(settings, "dossier", CODE, "--as-of", "2021-03-16T12:00+07:00")
    assert history.returncode == 0, history.stderr
    assert json.loads(history.stdout)["state"]["status"] == "received"
    assert _cli(settings, "dossier", CODE, "--as-of", "2021-03-16T12:00").returncode == 2
    report = tmp_path / "report.html"
    assert _cli(settings, "dossier", CODE, "--format", "html", "-o", str(report)).returncode == 0
    assert "result_returned" in report.read_text()

    verified = _cli(settings, "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["sealed"] == 7

    key = _cli(settings, "key").stdout.strip()
    key_file = tmp_path / "hub.vkey"
    key_file.write_text(key)
    bundle_file = tmp_path / "proof.json"
    proved = _cli(settings, "prove", other, "--since", "6", "-o", str(bundle_file))
    assert proved.returncode == 0, proved.stderr
    bundle = json.loads(bundle_file.read_text())
    assert [e["version"] for e in bundle["events"]] == [1, 2, 3]
    assert bundle["consistency"] is not None

    def check(path: Path, verifier_key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(VERIFIER), str(path), "--key", verifier_key],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )

    ok = check(bundle_file, f"@{key_file}")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("VERIFIED")
    assert "the log of 6 events is a prefix of the one of 7" in ok.stdout

    # A changed byte in an event, a forged signature key, a checkpoint from the past
    # claimed as the latest: each is refused, saying why.
    forged = json.loads(bundle_file.read_text())
    data = base64.b64decode(forged["events"][1]["canonical"]).replace(b"canbo-01", b"canbo-02")
    forged["events"][1]["canonical"] = base64.b64encode(data).decode()
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused = check(tmp_path / "forged.json", f"@{key_file}")
    assert refused.returncode == 1
    assert (
        "leaf 7 is not in the tree of size 7" in refused.stderr
        or "not in the tree" in refused.stderr
    )

    stranger = load_signer("dvchub.local/dossiers", tmp_path / "stranger.pem").verifier_key
    assert (
        "not signed by" in check(bundle_file, stranger).stderr
        or check(bundle_file, stranger).returncode == 1
    )

    swapped = json.loads(bundle_file.read_text())
    swapped["checkpoint"], swapped["consistency"]["older_checkpoint"] = (
        swapped["consistency"]["older_checkpoint"],
        swapped["checkpoint"],
    )
    (tmp_path / "swapped.json").write_text(json.dumps(swapped))
    backwards = check(tmp_path / "swapped.json", f"@{key_file}")
    assert backwards.returncode == 1
    assert "NOT VERIFIED: the inclusion proof is longer than the tree is high" in backwards.stderr


def test_checkpoints_are_published_on_kafka(bus_settings: HubSettings) -> None:
    ensure_topics(bus_settings)
    hub = bootstrap(bus_settings, configure_logs=False)
    try:
        _store(hub, _late_dossier())
        worker = sealer(bus_settings, hub.store)
        worker.publish = publisher(bus_settings)
        signed = worker.run_once()
    finally:
        hub.close()
    assert signed is not None
    consumer = KafkaConsumer(
        bus_settings.kafka_checkpoints_topic,
        bootstrap_servers=bus_settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    try:
        messages = list(consumer)
    finally:
        consumer.close()
    assert [m.value.decode() for m in messages] == [signed.note]
    assert messages[0].key == bus_settings.audit_origin.encode()
    assert (bus_settings.audit_dir / "4.checkpoint").read_text() == signed.note


def test_replay_re_derives_every_figure_and_names_the_ones_that_differ(hub: Hub) -> None:
    _store(hub, Workload(date(2021, 3, 1), 20, 10, seed=4).events())
    catch_up_embedded(hub)
    period = period_of("2021-03")
    published = report_json(build_report(hub, period, [], True))

    clean = replay(hub.settings, hub.store, period, published, "published.json")
    assert clean.ok, clean.comparisons
    assert [c.against for c in clean.comparisons] == ["the live read models", "published.json"]
    assert clean.comparisons[0].figures > 100
    assert clean.replayed_events == last_position(hub.store)

    # A live read model changed behind the projections' back, and a published figure that
    # does not follow from the log: both are named, figure by figure.
    db = ReadModelDatabase(hub.settings)
    unit = published["units"][0]["code"]
    db.execute(
        "UPDATE progress_unit_daily SET received_online = received_online + 5 "
        "WHERE unit_code = ? AND day = (SELECT MIN(day) FROM progress_unit_daily "
        "WHERE unit_code = ? AND received_online > 0)",
        (unit, unit),
    )
    db.close()
    published["units"][0]["resolved_late"] += 1
    found = replay(hub.settings, hub.store, period, published, "published.json")
    live, earlier = found.comparisons
    assert {d.path for d in live.differences} >= {"units[0].received_online"}
    difference = next(d for d in live.differences if d.path == "units[0].received_online")
    assert difference.other == difference.replayed + 5
    assert [d.path for d in earlier.differences] == ["units[0].resolved_late"]
    assert not found.ok
    with pytest.raises(ValueError, match="not '2021-04'"):
        replay(hub.settings, hub.store, period_of("2021-04"), published)
