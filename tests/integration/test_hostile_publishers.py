"""Hostile and careless publishers, through ``dvchub ingest`` and ``POST /v1/events``: every
line accounted for with its own reason, no unit touching another's dossiers, and the read
side following the log to its end afterwards, even past an event it cannot fold."""

from __future__ import annotations

import base64
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from events.enums import DossierStatus
from events.parsing import load_stored_event
from hub.adapters import parked
from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.auth.credentials import Role
from hub.auth.store import AuthenticationError, CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import FileRejectSink
from hub.bus.sources import LogSource
from hub.cli import app
from hub.domain.dossier import Dossier, dossier_id, to_record
from hub.domain.lifecycle import Transition
from hub.log_reader import read_log
from hub.settings import HubSettings
from projections.read_models import ReadModels
from projections.rebuild import rebuild
from projections.runner import ProgressWorker
from tests.factories import OTHER_UNIT, UNIT, event
from tests.hostile import UNFOLDABLE_AT, code, corpus, expected_counts
from tests.raw_store import RawStore

runner = CliRunner()


@pytest.fixture
def cli_env(settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    monkeypatch.setenv("DVCHUB_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("DVCHUB_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("DVCHUB_DATABASE_SCHEMA", settings.database_schema)
    monkeypatch.setenv("DVCHUB_INGEST_MAX_LINE_BYTES", "65536")
    monkeypatch.setenv("DVCHUB_LOG_LEVEL", "ERROR")
    return settings


def _invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_the_corpus_through_dvchub_ingest(cli_env: HubSettings, tmp_path: Path) -> None:
    lines = corpus()
    endless = b'{"event_type": "' + b"x" * 200_000 + b'"}'
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join([*(line.raw for line in lines), endless, b""]))

    result = _invoke("ingest", str(source), "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    counts = expected_counts(lines)
    assert (report["accepted"], report["duplicate"]) == (counts["accepted"], counts["duplicate"])
    assert report["rejected"] == counts["rejected"] + 1
    assert report["lines"] == len(lines) + 1

    rejects_file = tmp_path / "events.jsonl.rejects.jsonl"
    assert stat.S_IMODE(rejects_file.stat().st_mode) == 0o600
    rows = [orjson.loads(row) for row in rejects_file.read_bytes().splitlines()]
    wanted = [(n, line.reason) for n, line in enumerate(lines, 1) if line.status == "rejected"]
    wanted.append((len(lines) + 1, "line_too_long"))
    assert [(row["line"], row["reason"]) for row in rows] == wanted
    for row in rows:
        assert len(row["message"]) <= 1_001, row["line"]
        if row["reason"] != "line_too_long":
            assert base64.b64decode(row["original_base64"]) == lines[row["line"] - 1].raw
    too_long = rows[-1]
    assert len(base64.b64decode(too_long["original_base64"])) == 4_096
    assert "200,018 bytes" in too_long["message"]

    # The read side follows the log to its end.
    assert _invoke("report", "--period", "2021-03", "--format", "json").exit_code == 0
    assert _invoke("projections", "rebuild").exit_code == 0
    status = _invoke("projections", "status")
    assert status.exit_code == 0
    assert "behind the store by at most 0 events" in status.stdout


def test_a_device_is_not_a_file_to_ingest(cli_env: HubSettings) -> None:
    result = _invoke("ingest", os.devnull)
    assert result.exit_code == 2
    assert "not a regular file" in result.output


# --- over HTTP ------------------------------------------------------------------------


class Publishers:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client, self.keys = client, keys

    def post(self, raw: bytes, unit: str = UNIT, **headers: str) -> Any:
        return self.client.post(
            "/v1/events",
            content=raw,
            headers={"Authorization": f"Bearer {self.keys[unit]}", **headers},
        )


@pytest.fixture
def publishers(hub: Hub, settings: HubSettings) -> Iterator[Publishers]:
    credentials = CredentialStore(settings)
    keys = {
        UNIT: credentials.issue("so-tu-phap", Role.PUBLISHER, [UNIT])[1],
        OTHER_UNIT: credentials.issue("so-xay-dung", Role.PUBLISHER, [OTHER_UNIT])[1],
        "reader": credentials.issue("bao-chi", Role.READER, [])[1],
    }
    read_models = ReadModels(settings)
    rejects = FileRejectSink(settings.data_dir / "rejects" / "http.jsonl")
    application = create_app(hub, credentials, rejects, None, read_models)
    with TestClient(application) as client:
        yield Publishers(client, keys)
    read_models.close()
    credentials.close()


def _unit_of(raw: bytes) -> str:
    try:
        unit = orjson.loads(raw).get("unit_code")
    except (orjson.JSONDecodeError, AttributeError):
        return UNIT
    return OTHER_UNIT if unit == OTHER_UNIT else UNIT


def test_the_corpus_over_http(publishers: Publishers, hub: Hub, settings: HubSettings) -> None:
    """Each line sent alone, by the credential of the unit it names: one answer each, never
    a 500; a batch with a bad event answers every event of it."""
    for line in corpus():
        response = publishers.post(line.raw, _unit_of(line.raw))
        assert response.status_code in (200, 400, 422), (line.name, response.text)
        if response.status_code == 400:  # the whole body: not JSON, or neither event nor list
            wanted = "not_events" if line.reason == "not_an_object" else line.reason
            assert response.json()["error"] == wanted, line.name
            continue
        result = response.json()["results"][0]
        assert (result["status"], result["reason"]) == (line.status, line.reason), line.name

    # One valid event and one with a long Vietnamese event type: both answered.
    valid = event("dossier.received", code=code(40))
    long_type = event("dossier.received", code=code(41)) | {"event_type": "sự_kiện_" * 800}
    batch = publishers.post(orjson.dumps([valid, long_type]))
    assert batch.status_code == 200, batch.text
    statuses = [(r["status"], r["reason"]) for r in batch.json()["results"]]
    assert statuses == [("accepted", None), ("rejected", "unknown_event_type")]

    rejects = settings.data_dir / "rejects" / "http.jsonl"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    for row in map(orjson.loads, rejects.read_bytes().splitlines()):
        message = row["headers"]["dvc-message"]
        assert len(message.encode()) <= 4_000

    assert publishers.client.get("/").status_code == 200
    assert publishers.client.get("/v1/reports/2021-03").status_code == 200
    ready = publishers.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["store_position"] == sum(1 for _ in read_log(hub.store))


def test_b_cannot_touch_as_dossiers_nor_squat_as_codes_over_http(publishers: Publishers) -> None:
    opened = event("dossier.received", code=code(50))
    assert publishers.post(orjson.dumps(opened)).json()["accepted"] == 1
    for event_type in ("dossier.resolved", "dossier.withdrawn", "dossier.transferred"):
        foreign = event(event_type, code=code(50), unit=OTHER_UNIT, when="2021-03-16 10:00")
        answer = publishers.post(orjson.dumps(foreign), OTHER_UNIT)
        assert answer.status_code == 422
        assert answer.json()["results"][0]["reason"] == "unit_not_involved", event_type
    # B's credential, A's unit code: refused before the lifecycle is asked.
    as_a = event("dossier.resolved", code=code(50), when="2021-03-16 10:00")
    assert publishers.post(orjson.dumps(as_a), OTHER_UNIT).status_code == 403
    # B opens a dossier under A's code first; A's real reception then goes through.
    squat = event("dossier.received", code=code(51), unit=OTHER_UNIT)
    assert publishers.post(orjson.dumps(squat), OTHER_UNIT).json()["results"][0]["reason"] == (
        "unit_not_involved"
    )
    real = publishers.post(orjson.dumps(event("dossier.received", code=code(51))))
    assert real.json()["results"][0]["status"] == "accepted"


@pytest.mark.parametrize(
    "authorization",
    ["bEaReR {key}", "Bearer   {key}"],
    ids=["scheme in any case", "several spaces"],
)
def test_the_bearer_scheme_is_read_as_rfc_6750_says(
    publishers: Publishers, authorization: str
) -> None:
    key = publishers.keys[UNIT]
    response = publishers.client.post(
        "/v1/events",
        content=orjson.dumps(event("dossier.received", code=code(60))),
        headers={"Authorization": authorization.format(key=key)},
    )
    assert response.status_code == 200, response.text


def test_a_bare_key_two_keys_or_a_revoked_key_are_refused_alike(
    publishers: Publishers, settings: HubSettings
) -> None:
    key = publishers.keys[UNIT]
    body = orjson.dumps(event("dossier.received", code=code(61)))
    bare = publishers.client.post("/v1/events", content=body, headers={"Authorization": key})
    assert bare.status_code == 401
    two = publishers.client.post(
        "/v1/events",
        content=body,
        headers=[("Authorization", f"Bearer {key}"), ("Authorization", f"Bearer {key}")],
    )
    assert two.status_code == 401
    assert "exactly one" in two.json()["message"]

    credentials = CredentialStore(settings)
    _, revoked = credentials.issue("cu", Role.PUBLISHER, [UNIT])
    credentials.revoke(revoked.split("_")[1])
    credentials.close()
    unknown = "dvc_000000000000_" + revoked.split("_", 2)[2]
    answers = [
        publishers.client.post(
            "/v1/events", content=body, headers={"Authorization": f"Bearer {k}"}
        ).json()
        for k in (revoked, unknown)
    ]
    assert (
        answers[0]
        == answers[1]
        == {
            "error": "unauthenticated",
            "message": "invalid or revoked API key",
        }
    )


def test_every_response_carries_the_security_headers_and_docs_work_offline(
    publishers: Publishers,
) -> None:
    for path in ("/", "/v1/reports/2021-03", "/docs", "/docs/assets/swagger-ui-bundle.js"):
        response = publishers.client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    page = publishers.client.get("/docs").text
    assert "<script>" not in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize(
    "period", ["0001-01-01..9999-12-31", "9999", "2000-01-01..2099-12-31", "x" * 5000]
)
def test_periods_beyond_reason_get_a_clear_422(publishers: Publishers, period: str) -> None:
    for path in (f"/v1/reports/{period}", f"/v1/rankings/{period}"):
        response = publishers.client.get(path)
        assert response.status_code == 422, (path[:60], response.text[:200])
        assert response.json()["error"] == "invalid_period"


def test_too_many_buckets_get_a_clear_422(publishers: Publishers) -> None:
    response = publishers.client.get(
        f"/v1/units/{UNIT}/progress", params={"period": "2001..2010", "by": "day"}
    )
    assert response.status_code == 422


def test_csv_cells_that_look_like_formulas_are_neutralised(
    publishers: Publishers, settings: HubSettings
) -> None:
    opened = event("dossier.received", code=code(70))
    opened["actor"]["id"] = '=HYPERLINK("http://evil")'
    assert publishers.post(orjson.dumps(opened)).json()["accepted"] == 1
    credentials = CredentialStore(settings)
    _, auditor = credentials.issue("thanh-tra", Role.AUDITOR, [])
    credentials.close()
    response = publishers.client.get(
        f"/v1/audit/dossiers/{code(70)}",
        params={"format": "csv"},
        headers={"Authorization": f"Bearer {auditor}"},
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert "'=HYPERLINK" in response.text
    assert ",=HYPERLINK" not in response.text
    assert ",http," in response.text  # the provenance: the channel, and the key id
    key_id = publishers.keys[UNIT].split("_")[1]
    assert key_id in response.text


# --- an event the read side cannot fold, already in the store -----------------------------


def _store_unfoldable(hub: Hub, number: int) -> str:
    """Write an event the way an older hub, without today's checks, could have."""
    data = event("dossier.received", code=code(number))
    data["occurred_at"] = UNFOLDABLE_AT
    parsed = load_stored_event(data)
    record = to_record(parsed, parsed.occurred_at)
    change = Transition(None, DossierStatus.RECEIVED, None, None, None)
    dossier = Dossier._create(
        Dossier.Opened,
        id=dossier_id(code(number)),
        record=record,
        transition=change.to_json(),
        provenance=None,
    )
    hub.store.save(dossier)
    return code(number)


def test_an_unfoldable_stored_event_is_parked_and_the_read_side_goes_on(
    publishers: Publishers, hub: Hub, settings: HubSettings, cli_env: HubSettings
) -> None:
    assert (
        publishers.post(orjson.dumps(event("dossier.received", code=code(80)))).json()["accepted"]
        == 1
    )
    poisoned = _store_unfoldable(hub, 81)
    after = event("dossier.received", code=code(82), when="2021-03-15 10:00")
    assert publishers.post(orjson.dumps(after)).json()["accepted"] == 1

    db = ReadModelDatabase(settings)
    try:
        applied = ProgressWorker(db, LogSource(hub.store)).catch_up()
        assert applied == 2
        found = parked.parked(db, "unit_progress")
        assert [(p.dossier_code, p.event_type) for p in found] == [(poisoned, "dossier.received")]
        assert found[0].error.startswith("OverflowError")
    finally:
        db.close()

    ready = publishers.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["parked_events"]["unit_progress"] == 1
    board = publishers.client.get("/", params={"period": "2021-03"})
    assert board.status_code == 200
    report = publishers.client.get("/v1/reports/2021-03").json()
    assert "received" in orjson.dumps(report).decode()

    status = _invoke("projections", "status")
    assert status.exit_code == 0
    assert "unit_progress: 1 event(s) parked" in status.stdout
    listed = _invoke("projections", "parked")
    assert poisoned in listed.stdout
    retried = _invoke("projections", "retry", "--projection", "unit_progress")
    assert retried.exit_code == 1
    assert "0 folded, 1 still parked" in retried.stdout

    rebuilt = rebuild(settings, hub.store)
    assert rebuilt.parked == 1
    assert rebuilt.events == 3


def test_a_revocation_reaches_another_process_within_a_second(settings: HubSettings) -> None:
    """Two credential stores stand for two processes of one deployment."""
    serving, operator = CredentialStore(settings), CredentialStore(settings)
    try:
        _, key = operator.issue("so-tu-phap", Role.PUBLISHER, [UNIT])
        assert serving.authenticate(key).key_id == key.split("_")[1]  # now cached there
        operator.revoke(key.split("_")[1])
        revoked_at = time.monotonic()
        while True:
            try:
                serving.authenticate(key)
            except AuthenticationError:
                break
            assert time.monotonic() - revoked_at < CredentialStore.CACHE_SECONDS + 0.5
            time.sleep(0.05)
        assert CredentialStore.CACHE_SECONDS <= 1.0
    finally:
        serving.close()
        operator.close()


def test_a_row_that_is_no_event_is_parked_by_the_workers_and_skipped_by_none(
    hub: Hub, settings: HubSettings
) -> None:
    """A row changed behind the hub's back to bytes that are not an event: the workers
    park it and fold the events after it."""
    assert hub.ingestor.submit_json([event("dossier.received", code=code(110))])[0].status == (
        "accepted"
    )
    raw = RawStore(hub)
    try:
        last = raw.rows()[-1][0]
        raw.insert(last + 1, str(uuid4()), 1, b"\xff\xfe not an event")
    finally:
        raw.close()
    later = event("dossier.received", code=code(111), when="2021-03-15 10:00")
    assert hub.ingestor.submit_json([later])[0].status == "accepted"
    db = ReadModelDatabase(settings)
    try:
        assert ProgressWorker(db, LogSource(hub.store)).catch_up() == 2
        assert [(p.position, p.dossier_code) for p in parked.parked(db)] == [(last + 1, None)]
    finally:
        db.close()


def test_the_portal_connector_quarantines_what_it_cannot_map_and_goes_on(
    hub: Hub, settings: HubSettings
) -> None:
    from connectors.dvcqg import outbox
    from connectors.dvcqg.intake import QUARANTINE, Intake
    from hub.catalogue.store import CatalogueStore

    first = event("dossier.received", code=code(120))
    assert hub.ingestor.submit_json([first])[0].status == "accepted"
    raw = RawStore(hub)
    try:
        bad_position = raw.rows()[-1][0] + 1
        raw.insert(bad_position, str(uuid4()), 1, b"not an event")
    finally:
        raw.close()
    later = event("dossier.received", code=code(121), when="2021-03-15 10:00")
    assert hub.ingestor.submit_json([later])[0].status == "accepted"

    db, catalogue = ReadModelDatabase(settings), CatalogueStore(settings)
    try:
        intake = Intake(db, LogSource(hub.store), catalogue)
        intake.start()
        intake.handle(intake.source.poll(threading.Event()))
        quarantined = parked.parked(db, QUARANTINE)
        assert [p.position for p in quarantined] == [bad_position]
        assert set(outbox.load_states(db, [code(120), code(121)])) == {code(120), code(121)}
    finally:
        catalogue.close()
        db.close()
