"""The HTTP API, on SQLite and on PostgreSQL: auth, scope, batches, limits, reads."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from connectors.dvcqg.mapping import progress_step
from hub.api.app import create_app
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import FileRejectSink
from hub.log_reader import read_log
from hub.settings import HubSettings
from tests.factories import CODE, OTHER_UNIT, UNIT, event


@dataclass
class Api:
    client: TestClient
    hub: Hub
    credentials: CredentialStore
    rejects: Path
    publisher: str
    reader: str
    auditor: str

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def post(self, body: object, key: str | None = None) -> httpx.Response:
        response: httpx.Response = self.client.post(
            "/v1/events", content=orjson.dumps(body), headers=self.headers(key or self.publisher)
        )
        return response

    def reject_lines(self) -> list[dict[str, Any]]:
        if not self.rejects.exists():
            return []
        return [orjson.loads(line) for line in self.rejects.read_bytes().splitlines()]


@pytest.fixture
def api(hub: Hub, settings: HubSettings, tmp_path: Path) -> Iterator[Api]:
    credentials = CredentialStore(settings)
    _, publisher = credentials.issue("so-tu-phap", Role.PUBLISHER, [UNIT])
    _, reader = credentials.issue("bang-cong-khai", Role.READER, [])
    _, auditor = credentials.issue("thanh-tra", Role.AUDITOR, [])
    rejects = tmp_path / "rejects.jsonl"
    app = create_app(hub, credentials, FileRejectSink(rejects))
    with TestClient(app) as client:
        yield Api(client, hub, credentials, rejects, publisher, reader, auditor)
    credentials.close()


def test_one_event_is_accepted_then_answered_as_duplicate(api: Api) -> None:
    sent = event("dossier.received")
    first = api.post(sent)
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["status"] == "accepted"
    again = api.post(sent)
    assert again.json()["results"] == [
        {
            "index": 0,
            "status": "duplicate",
            "event_id": sent["event_id"],
            "dossier_code": CODE,
            "reason": None,
            "message": None,
            "field": None,
        }
    ]


def test_a_mixed_batch_answers_each_event_and_keeps_the_good(api: Api) -> None:
    good = event("dossier.received")
    batch = [
        good,
        event("dossier.result_returned", when="2021-03-15 10:00"),
        {"event_type": "dossier.received"},
        event("dossier.received", code="000.00.21.H12-210315-0001", unit=OTHER_UNIT),
        event("dossier.resolved", when="2021-03-15 11:00"),
        good,
    ]
    response = api.post(batch)
    assert response.status_code == 200
    body = response.json()
    assert [(r["status"], r["reason"]) for r in body["results"]] == [
        ("accepted", None),
        ("rejected", "result_before_resolution"),
        ("rejected", "unsupported_schema_version"),
        ("rejected", "unit_not_authorised"),
        ("accepted", None),
        ("duplicate", None),
    ]
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 3)
    stored = [e.record["event_type"] for e in read_log(api.hub.store)]
    assert stored == ["dossier.received", "dossier.resolved"]
    kept = api.reject_lines()
    assert [line["headers"]["dvc-reason"] for line in kept] == [
        "result_before_resolution",
        "unsupported_schema_version",
        "unit_not_authorised",
    ]
    assert orjson.loads(base64.b64decode(str(kept[2]["original_base64"]))) == batch[3]


def test_publishing_for_another_unit_is_forbidden_and_recorded(api: Api) -> None:
    foreign = event("dossier.received", code="000.00.21.H12-210315-0001", unit=OTHER_UNIT)
    response = api.post(foreign)
    assert response.status_code == 403
    result = response.json()["results"][0]
    assert result["reason"] == "unit_not_authorised"
    assert OTHER_UNIT in result["message"]
    assert [line["headers"]["dvc-reason"] for line in api.reject_lines()] == ["unit_not_authorised"]
    assert list(read_log(api.hub.store)) == []


def test_a_single_rejected_event_is_unprocessable(api: Api) -> None:
    response = api.post(event("dossier.resolved"))
    assert response.status_code == 422
    assert response.json()["results"][0]["reason"] == "dossier_not_received"


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer nonsense"}, 401, "unauthenticated"),
        ({"Authorization": "Bearer dvc_000000000000_guess"}, 401, "unauthenticated"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthenticated"),
    ],
)
def test_requests_without_a_valid_key_are_unauthenticated(
    api: Api, headers: dict[str, str], status: int, error: str
) -> None:
    response = api.client.post("/v1/events", content=b"{}", headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["www-authenticate"] == "Bearer"


def test_roles_are_enforced(api: Api) -> None:
    assert api.post(event("dossier.received"), key=api.reader).status_code == 403
    url = f"/v1/dossiers/{CODE}"
    assert api.client.get(url, headers=api.headers(api.publisher)).status_code == 403
    assert api.client.get(url, headers=api.headers(api.reader)).status_code == 404
    assert api.client.get(url).status_code == 401


def test_a_revoked_key_stops_working(api: Api) -> None:
    key_id = api.publisher.split("_")[1]
    api.credentials.revoke(key_id)
    response = api.post(event("dossier.received"))
    assert response.status_code == 401


def test_reading_a_dossier(api: Api) -> None:
    api.post([event("dossier.received"), event("dossier.transferred", when="2021-03-15 10:00")])
    response = api.client.get(f"/v1/dossiers/{CODE}", headers=api.headers(api.auditor))
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == 4
    assert view["status_name"] == "processing"
    assert view["version"] == 2
    assert view["due_at"] == "2021-03-18T09:00:00+07:00"
    bad = api.client.get("/v1/dossiers/not-a-code", headers=api.headers(api.reader))
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_dossier_code"


def test_malformed_json_is_refused_and_kept(api: Api) -> None:
    response = api.client.post(
        "/v1/events", content=b'{"event_type": ', headers=api.headers(api.publisher)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"
    assert api.reject_lines()[0]["headers"]["dvc-reason"] == "malformed_json"


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_bodies_that_are_not_events_are_refused(api: Api, body: bytes) -> None:
    response = api.client.post("/v1/events", content=body, headers=api.headers(api.publisher))
    assert response.status_code == 400
    assert response.json()["error"] == "not_events"


def test_oversized_requests_and_batches_are_refused(
    hub: Hub, settings: HubSettings, tmp_path: Path
) -> None:
    small = settings.model_copy(update={"api_max_request_bytes": 2_048, "api_max_batch_events": 3})
    credentials = CredentialStore(settings)
    _, key = credentials.issue("p", Role.PUBLISHER, ["*"])
    limited = Hub(small, hub.store, hub.rules, hub.ingestor, hub.protector, hub.bus, hub.successors)
    client = TestClient(create_app(limited, credentials, FileRejectSink(tmp_path / "r.jsonl")))
    headers = {"Authorization": f"Bearer {key}"}
    too_big = orjson.dumps([event("dossier.received")] * 4)
    assert len(too_big) > 2_048
    response = client.post("/v1/events", content=too_big, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"

    def chunks() -> Iterator[bytes]:
        yield too_big[:1_500]
        yield too_big[1_500:]

    streamed = client.post("/v1/events", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    four = [event("dossier.withdrawn", code=f"000.00.01.H12-210315-{n:04d}") for n in range(1, 5)]
    compact = orjson.dumps([{k: v for k, v in e.items() if k != "actor"} for e in four])
    assert len(compact) < 2_048
    batch = client.post("/v1/events", content=compact, headers=headers)
    assert batch.status_code == 413
    assert batch.json()["error"] == "batch_too_large"
    credentials.close()


def test_health_readiness_metrics_and_openapi(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    api.post(event("dossier.received"))
    assert 'dvchub_events_total{source="http",status="accepted"}' in api.client.get("/metrics").text
    spec = api.client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"]
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert "anyOf" in body["schema"]
    assert "DossierReceived" in spec["components"]["schemas"]


def test_readiness_names_a_service_that_is_down_never_its_error(
    hub: Hub, settings: HubSettings, tmp_path: Path
) -> None:
    from hub.supervisor import Readiness

    credentials = CredentialStore(settings)
    down = Readiness(
        False,
        {"inbound": {"state": "restarting", "restarts": 3, "last_crash": "RuntimeError"}},
        "service inbound is restarting",
    )
    app = create_app(
        hub, credentials, FileRejectSink(tmp_path / "r.jsonl"), None, None, lambda: down
    )
    with TestClient(app) as client:
        ready = client.get("/readyz")
    credentials.close()
    assert ready.status_code == 503
    body = ready.json()
    assert body["problems"] == ["service inbound is restarting"]
    assert body["services"]["inbound"]["state"] == "restarting"


def test_a_complaint_goes_from_an_agency_to_the_auditor_and_the_portal(api: Api) -> None:
    """An event type added by its contract class and its registry entry alone: accepted over
    HTTP, stored, in the auditor's history with the dossier's status and deadline unchanged,
    a processing step for the portal; refused once the dossier is closed."""
    complaint = event("dossier.complaint_received", when="2021-03-16 10:00")
    answer = api.post([event("dossier.received"), complaint])
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]
    seen = api.client.get(f"/v1/audit/dossiers/{CODE}", headers=api.headers(api.auditor))
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert [e["event_type"] for e in view["timeline"]] == [
        "dossier.received",
        "dossier.complaint_received",
    ]
    assert view["state"]["status"] == "received"
    assert view["state"]["due_at"] == "2021-03-18T09:00:00+07:00"
    stored = list(read_log(api.hub.store))[-1]
    step = progress_step(stored.record, stored.transition)
    assert step.NoiDungXuLy == "Tiếp nhận phản ánh, kiến nghị"
    assert step.TrangThai == 2
    closed = api.post(
        [
            event("dossier.resolved", when="2021-03-17 10:00"),
            event("dossier.result_returned", when="2021-03-17 15:00"),
            event("dossier.complaint_received", when="2021-03-18 09:00"),
        ]
    )
    assert [r["status"] for r in closed.json()["results"]] == ["accepted", "accepted", "rejected"]
    assert closed.json()["results"][2]["reason"] == "dossier_closed"


def test_concurrent_single_event_requests_are_each_answered_and_stored_once(api: Api) -> None:
    """Sixteen agency systems posting one event per request at once: the requests waiting
    behind a write are written together (group commit), each gets its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    from prometheus_client import REGISTRY

    def written() -> tuple[float, float]:
        """(groups, requests) written so far."""
        name = "dvchub_ingest_group_requests"
        return (
            REGISTRY.get_sample_value(f"{name}_count") or 0.0,
            REGISTRY.get_sample_value(f"{name}_sum") or 0.0,
        )

    before = written()
    sent = [
        event("dossier.received", code=f"{UNIT}-210315-{n:04d}", when="2021-03-15 09:00")
        for n in range(1, 161)
    ]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(api.post, sent))
    assert [a.status_code for a in answers] == [200] * len(sent)
    assert [a.json()["results"][0]["dossier_code"] for a in answers] == [
        e["dossier_code"] for e in sent
    ]
    again = api.post(sent[7])
    assert again.json()["results"][0]["status"] == "duplicate"
    assert sorted(e.record["dossier_code"] for e in read_log(api.hub.store)) == sorted(
        e["dossier_code"] for e in sent
    )
    groups, requests = (now - then for now, then in zip(written(), before, strict=True))
    assert requests == len(sent) + 1
    assert groups < requests  # requests waiting behind a write shared the next commit
    assert api.client.get("/readyz").status_code == 200
