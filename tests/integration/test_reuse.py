"""Reuse of earlier results over HTTP, the Python API and the CLI, on SQLite and PostgreSQL:
a commune's result reused by a provincial department, each refusal with its reason and
nothing disclosed, every look-up in the dossier's history, reuse counts in the report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from events.catalogue import (
    CatalogueContent,
    ProcedureEntry,
    RequiredComponent,
    UnitEntry,
    UnitLevel,
)
from events.enums import OnlineServiceLevel, TimeUnit
from events.identity import applicant_id_hash
from events.models import ProcessingTime
from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub
from hub.bus.rejects import FileRejectSink
from hub.bus.sources import LogSource
from hub.catalogue.store import CatalogueStore
from hub.reuse.ledger import ReuseLedger
from hub.reuse.models import LookupRequest
from projections.periods import Period
from projections.read_models import ReadModels
from projections.reports import province_report
from projections.reuse.lookups import project
from projections.reuse.service import ReuseService
from projections.reuse.worker import catch_up, prepare
from tests.conftest import ROOT
from tests.factories import KEY, digest, event, received, resolution
from tests.processes import child_env

PROVINCE, DEPARTMENT, COMMUNE = "000.00.00.H12", "000.00.01.H12", "000.01.60.H12"
DISTRICT = "000.00.60.H12"
BIRTH, PASSPORT = "1.000505", "1.000893"
IDENTITY = "001099012345"
OWNER = applicant_id_hash(KEY, IDENTITY)
CERTIFICATE = {
    "document_type": "GKS",
    "name": "Giấy khai sinh",
    "reference_number": "15/2021/GKS",
    "issued_on": "2021-03-16",
    "sha256": digest("giấy khai sinh"),
}


def _catalogue() -> CatalogueContent:
    def procedure(code: str, name: str, level: UnitLevel, **more: Any) -> ProcedureEntry:
        return ProcedureEntry(
            code=code,
            name=name,
            field_code="HT",
            level=level,
            service_level=OnlineServiceLevel.FULL,
            processing_time=ProcessingTime(value=3, unit=TimeUnit.WORKING_DAYS),
            **more,
        )

    return CatalogueContent(
        units=(
            UnitEntry(code=PROVINCE, name="UBND tỉnh", level=UnitLevel.PROVINCE),
            UnitEntry(
                code=DEPARTMENT, name="Công an tỉnh", level=UnitLevel.PROVINCE, parent=PROVINCE
            ),
            UnitEntry(code=DISTRICT, name="UBND huyện", level=UnitLevel.DISTRICT, parent=PROVINCE),
            UnitEntry(code=COMMUNE, name="UBND xã", level=UnitLevel.COMMUNE, parent=DISTRICT),
        ),
        procedures=(
            procedure(BIRTH, "Đăng ký khai sinh", UnitLevel.COMMUNE),
            procedure(
                PASSPORT,
                "Cấp hộ chiếu phổ thông",
                UnitLevel.PROVINCE,
                components=(
                    RequiredComponent(code="TK", name="Tờ khai"),
                    RequiredComponent(code="KS", name="Giấy khai sinh", accepts_results=("GKS",)),
                ),
            ),
        ),
    )


def _dossier(n: int, ending: str, owner: str = OWNER) -> tuple[str, list[dict[str, Any]]]:
    code = f"{COMMUNE}-210315-{n:04d}"
    opened = event(
        "dossier.received",
        received(procedure_code=BIRTH, applicant_id_hash=owner),
        code=code,
        unit=COMMUNE,
    )
    endings = {
        "approved": ("dossier.resolved", {**resolution(), "result_documents": [CERTIFICATE]}),
        "denied": ("dossier.resolved", {"decision": "denied", "note": "Không đủ điều kiện"}),
        "withdrawn": ("dossier.withdrawn", {"reason": "Xin rút"}),
    }
    kind, payload = endings[ending]
    return code, [opened, event(kind, payload, code=code, unit=COMMUNE, when="2021-03-16 10:00")]


@dataclass
class World:
    hub: Hub
    client: TestClient
    db: ReadModelDatabase
    approved: str
    denied: str
    withdrawn: str
    reuser: str
    reader: str
    auditor: str

    def lookup(self, key: str | None = None, **changes: Any) -> Any:
        body = {
            "requesting_unit": DEPARTMENT,
            "earlier_dossier": self.approved,
            "procedure_code": PASSPORT,
            "applicant_id_number": IDENTITY,
            "consent_reference": "DONG-Y-0001",
            **changes,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return self.client.post(
            "/v1/reuse/lookups",
            json=body,
            headers={"Authorization": f"Bearer {key or self.reuser}"},
        )


@pytest.fixture
def world(hub: Hub) -> Iterator[World]:
    settings = hub.settings.model_copy(update={"identity_key": SecretStr(KEY.decode())})
    catalogue = CatalogueStore(settings)
    catalogue.load(_catalogue(), "test")
    catalogue.close()
    approved, first = _dossier(1, "approved")
    denied, second = _dossier(2, "denied")
    withdrawn, third = _dossier(3, "withdrawn")
    outcomes = hub.ingestor.submit_json(first + second + third)
    assert {o.status for o in outcomes} == {"accepted"}, outcomes
    db = ReadModelDatabase(settings)
    prepare(db)
    catch_up(db, LogSource(hub.store))
    credentials = CredentialStore(settings)
    _, reuser = credentials.issue("cong-an-tinh", Role.REUSER, [DEPARTMENT])
    _, reader = credentials.issue("bang-cong-khai", Role.READER, [])
    _, auditor = credentials.issue("thanh-tra", Role.AUDITOR, [])
    models = ReadModels(settings)
    app = create_app(hub, credentials, FileRejectSink(settings.data_dir / "r.jsonl"), None, models)
    with TestClient(app) as client:
        yield World(hub, client, db, approved, denied, withdrawn, reuser, reader, auditor)
    models.close()
    credentials.close()
    db.close()


def test_a_commune_result_is_reused_by_a_provincial_department(world: World) -> None:
    answer = world.lookup()
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["outcome"] == "granted"
    [result] = data["results"]
    assert result == {
        "satisfies": "KS",
        "document_type": "GKS",
        "name": "Giấy khai sinh",
        "reference_number": "15/2021/GKS",
        "issued_on": "2021-03-16",
        "valid_until": None,
        "issuing_unit": COMMUNE,
        "sha256": CERTIFICATE["sha256"],
    }
    match = world.lookup(match={"document_type": "GKS", "reference_number": "15/2021/GKS"}).json()
    assert match["outcome"] == "matched"
    assert match["results"] == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"applicant_id_number": "001099099999"}, "not_found"),
        ({"consent_reference": None}, "consent_missing"),
        ({"earlier_dossier": "denied"}, "dossier_denied"),
        ({"earlier_dossier": "withdrawn"}, "dossier_withdrawn"),
        ({"earlier_dossier": f"{COMMUNE}-210315-0099"}, "not_found"),
        ({"requesting_unit": PROVINCE}, "agency_not_permitted"),
    ],
    ids=["wrong-applicant", "no-consent", "denied", "withdrawn", "unknown-code", "other-unit"],
)
def test_each_refusal_names_its_reason_and_discloses_nothing(
    world: World, changes: dict[str, Any], reason: str
) -> None:
    if changes.get("earlier_dossier") in ("denied", "withdrawn"):
        changes = {"earlier_dossier": getattr(world, changes["earlier_dossier"])}
    answer = world.lookup(**changes)
    data = answer.json()
    assert answer.status_code == (403 if reason == "agency_not_permitted" else 200)
    assert (data["outcome"], data["reason"]) == ("refused", reason)
    assert data["results"] == []
    assert data["components"] == []
    assert CERTIFICATE["reference_number"] not in answer.text


def test_an_agency_without_the_right_is_refused_and_recorded(world: World) -> None:
    answer = world.lookup(key=world.reader)
    assert answer.status_code == 403
    assert answer.json()["reason"] == "agency_not_permitted"
    assert "15/2021/GKS" not in answer.text
    history = world.client.get(
        f"/v1/reuse/dossiers/{world.approved}/history",
        headers={"Authorization": f"Bearer {world.auditor}"},
    ).json()
    assert [(x["principal"], x["reason"]) for x in history["lookups"]] == [
        ("bang-cong-khai", "agency_not_permitted")
    ]


def test_every_lookup_is_in_the_history_and_the_reuse_is_recorded(world: World) -> None:
    world.lookup()
    world.lookup(applicant_id_number="001099099999")
    world.lookup(consent_reference=None)
    # The new passport dossier is received with the birth certificate marked as reused.
    code = f"{DEPARTMENT}-210401-0001"
    reusing = event(
        "dossier.received",
        received(
            procedure_code=PASSPORT,
            applicant_id_hash=OWNER,
            components=[
                {"code": "TK", "name": "Tờ khai", "sha256": digest("tờ khai hộ chiếu")},
                {
                    "code": "KS",
                    "name": "Giấy khai sinh",
                    "sha256": CERTIFICATE["sha256"],
                    "reused_from": world.approved,
                },
            ],
            reused_dossiers=[world.approved],
        ),
        code=code,
        unit=DEPARTMENT,
        when="2021-04-01 09:00",
    )
    assert world.hub.ingestor.submit_json([reusing])[0].status == "accepted"
    catch_up(world.db, LogSource(world.hub.store))
    headers = {"Authorization": f"Bearer {world.auditor}"}
    history = world.client.get(
        f"/v1/reuse/dossiers/{world.approved}/history", headers=headers
    ).json()
    assert [(x["outcome"], x["reason"]) for x in history["lookups"]] == [
        ("granted", None),
        ("refused", "not_found"),
        ("refused", "consent_missing"),
    ]
    assert [x["detail"] for x in history["lookups"]] == [None, "applicant_mismatch", None]
    granted = history["lookups"][0]
    assert granted["applicant_hash"] == OWNER  # the identity number itself is never kept
    assert IDENTITY not in orjson.dumps(history).decode()
    assert granted["disclosed"] == [f"GKS 15/2021/GKS {CERTIFICATE['sha256']}"]
    assert history["reused_by"] == [
        {
            "dossier_code": code,
            "unit_code": DEPARTMENT,
            "received_on": "2021-04-01",
            "components": ["KS"],
        }
    ]
    forbidden = world.client.get(
        f"/v1/reuse/dossiers/{world.approved}/history",
        headers={"Authorization": f"Bearer {world.reader}"},
    )
    assert forbidden.status_code == 403
    # The report counts the reuse for the receiving unit, and the look-ups of today.
    ledger = ReuseLedger(world.hub.settings)
    project(world.db, ledger)
    ledger.close()
    report = province_report(world.db, None, Period.parse("2021-04"))
    [department] = [u for u in report.reuse.units if u.code == DEPARTMENT]
    assert (department.received, department.reusing) == (1, 1)
    today = Period.parse(str(granted["at"])[:7])
    asked = province_report(world.db, None, today).reuse.total
    assert (asked.lookups_granted, asked.lookups_refused) == (1, 2)


def test_the_python_api_and_the_cli_answer_the_same(world: World) -> None:
    settings = world.hub.settings.model_copy(update={"identity_key": SecretStr(KEY.decode())})
    service = ReuseService(settings)
    try:
        answer = service.lookup(
            _operator(),
            LookupRequest(
                requesting_unit=DEPARTMENT,
                earlier_dossier=world.approved,
                procedure_code=PASSPORT,
                applicant_id_hash=OWNER,
                consent_reference="DONG-Y-0002",
            ),
        )
    finally:
        service.close()
    assert answer.outcome == "granted"
    env = {**child_env(settings), "DVCHUB_IDENTITY_KEY": KEY.decode()}
    args = [
        sys.executable,
        "-m",
        "hub.cli",
        "reuse",
        "lookup",
        "--unit",
        DEPARTMENT,
        "--dossier",
        world.approved,
        "--procedure",
        PASSPORT,
        "--identity",
        IDENTITY,
        "--consent",
        "DONG-Y-0003",
        "--json",
    ]
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["results"][0]["reference_number"] == "15/2021/GKS"
    refused = subprocess.run(
        [*args[:-3], "--json"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert orjson.loads(refused.stdout)["reason"] == "consent_missing"
    shown = subprocess.run(
        [sys.executable, "-m", "hub.cli", "reuse", "history", world.approved, "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert [x["consent_reference"] for x in orjson.loads(shown.stdout)["lookups"]] == [
        "DONG-Y-0002",
        "DONG-Y-0003",
        None,
    ]


def _operator() -> Any:
    from hub.cli.reuse import OPERATOR

    return OPERATOR
