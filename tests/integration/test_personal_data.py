"""Applicants' personal data on SQLite and PostgreSQL: stored only sealed under the
applicant's own key, shown to auditors only with every read recorded, and erasable: after
the key is erased the details are unreadable everywhere, while verification still passes
and the reports are unchanged."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from events.identity import applicant_id_hash
from hub.adapters.sql import ReadModelDatabase
from hub.api.app import create_app
from hub.audit.publish import sealer
from hub.audit.verify import verify
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub, bootstrap
from hub.bus.rejects import FileRejectSink
from hub.cli.common import period_of
from hub.cli.reports import build_report
from hub.settings import HubSettings
from hub.simulation.workload import Workload
from projections.reports import report_json
from tests.factories import CODE, KEY, event, received, submission
from tests.processes import cli_result

NAME, PHONE, EMAIL = "Nguyễn Thị Bích Ngọc", "0912345678", "ngoc.nguyen@example.vn"
ADDRESS = "Số 12, đường Phan Ngọc Hiển, phường 5, TP Cà Mau"
OWNER = applicant_id_hash(KEY, "001099012345")
DETAILS = {"name": NAME, "phone": PHONE, "email": EMAIL, "address": ADDRESS}


def _everything_stored(hub: Hub) -> bytes:
    """Every byte the hub keeps in its databases, as one blob to search."""
    settings = hub.settings
    if not settings.uses_postgres:
        return b"".join(path.read_bytes() for path in settings.data_dir.glob("*.sqlite3*"))
    blob: list[bytes] = []
    with psycopg.connect(str(settings.database_url)) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (settings.database_schema,),
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(
                f'SELECT t::text FROM "{settings.database_schema}"."{table}" t'
            ).fetchall()
            blob.extend(row[0].encode() for row in rows)
            if table.endswith("_events"):
                states = conn.execute(
                    f'SELECT state FROM "{settings.database_schema}"."{table}"'
                ).fetchall()
                blob.extend(bytes(state) for (state,) in states)
    return b"\n".join(blob)


def _contains_personal_data(blob: bytes) -> list[str]:
    return [value for value in (NAME, PHONE, EMAIL, ADDRESS) if value.encode() in blob]


def _figures(hub: Hub) -> dict[str, Any]:
    report = report_json(build_report(hub, period_of("2021-03"), [], True))
    del report["generated_at"]
    return report


def test_personal_data_is_sealed_shown_to_auditors_and_erasable(hub: Hub, tmp_path: Path) -> None:
    marker = "Xin cấp phép xây dựng nhà ở riêng lẻ"  # not personal data: stored as sent
    opening = event(
        "dossier.registered", submission(applicant=DETAILS, summary=marker), when="2021-03-15 08:00"
    )
    items = [
        opening,
        event("dossier.received", received(2, applicant=DETAILS), when="2021-03-15 09:00"),
        event("dossier.resolved", when="2021-03-16 10:00"),
        *Workload(date(2021, 3, 1), 5, 10, seed=9).events(),
    ]
    outcomes = hub.ingestor.submit_json(items)
    assert {o.status for o in outcomes} == {"accepted"}, outcomes
    # The same event again is still recognised as a duplicate: sealing is deterministic.
    assert [o.status for o in hub.ingestor.submit_json([opening])] == ["duplicate"]
    # Only the hub seals: details that arrive sealed are refused.
    stored = hub.store.dossier(CODE)
    assert stored is not None
    forged = event(
        "dossier.registered",
        submission(applicant={"key": OWNER, "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAA"}),
        code=CODE.replace("0001", "0002"),
    )
    refused = hub.ingestor.submit_json([forged])[0]
    assert refused.status == "rejected"
    assert refused.reason is not None
    assert refused.reason.value == "schema_violation"
    assert refused.field == "payload.applicant"

    sealer(hub.settings, hub.store).run_once()
    figures_before = _figures(hub)
    stored_bytes = _everything_stored(hub)
    assert marker.encode() in stored_bytes  # the search does find what is stored in clear
    assert _contains_personal_data(stored_bytes) == []

    credentials = CredentialStore(hub.settings)
    inspector, auditor = credentials.issue("thanh-tra", Role.AUDITOR, ["*"])
    _, reader = credentials.issue("doc", Role.READER, ["*"])
    client = TestClient(create_app(hub, credentials, FileRejectSink(tmp_path / "r.jsonl")))
    as_auditor = {"Authorization": f"Bearer {auditor}"}
    url = f"/v1/audit/dossiers/{CODE}/applicant"

    shown = client.get(url, params={"purpose": "khiếu nại số 12/2021"}, headers=as_auditor)
    assert shown.status_code == 200
    assert shown.json()["outcome"] == "revealed"
    assert shown.json()["details"] == DETAILS
    denied = client.get(
        url, params={"purpose": "tò mò"}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert denied.status_code == 403
    assert client.get(url, headers=as_auditor).status_code == 422  # a purpose is required

    erased = client.post(
        f"/v1/audit/applicants/{OWNER}/erasure",
        json={"reason": "yêu cầu xoá dữ liệu của công dân"},
        headers=as_auditor,
    )
    assert erased.status_code == 200
    assert erased.json() == {"applicant_hash": OWNER, "erased": True}
    after = client.get(url, params={"purpose": "kiểm tra sau khi xoá"}, headers=as_auditor)
    assert after.json()["outcome"] == "erased"
    assert after.json()["details"] is None

    reads = client.get(f"{url}/reads", headers=as_auditor).json()
    assert [(r["outcome"], r["role"], r["purpose"]) for r in reads] == [
        ("revealed", "auditor", "khiếu nại số 12/2021"),
        ("refused", "reader", "tò mò"),
        ("erased", "auditor", "kiểm tra sau khi xoá"),
    ]
    assert reads[0]["fields"] == ["address", "email", "name", "phone"]
    assert all(NAME not in str(read) for read in reads)
    assert (
        client.get(f"{url}/reads", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    )
    credentials.close()

    # Unreadable everywhere, and nothing else changed: the log verifies, the figures hold.
    assert _contains_personal_data(_everything_stored(hub)) == []
    db = ReadModelDatabase(hub.settings)
    worker = sealer(hub.settings, hub.store)
    report = verify(hub.store, db, worker.signer.verifier())
    db.close()
    assert report.ok, report.findings
    assert report.unsealed == 0
    assert _figures(hub) == figures_before
    assert hub.protector.keys.get(OWNER) is None
    assert [(by, why) for _, by, why in hub.protector.keys.erasures(OWNER)] == [
        (f"{inspector.key_id} (thanh-tra)", "yêu cầu xoá dữ liệu của công dân")
    ]


def test_operators_read_and_erase_from_the_command_line(settings: HubSettings) -> None:
    hub = bootstrap(settings, configure_logs=False)
    outcomes = hub.ingestor.submit_json(
        [event("dossier.registered", submission(applicant={"name": NAME, "phone": PHONE}))]
    )
    hub.close()
    assert [o.status for o in outcomes] == ["accepted"]

    def audit(*args: str) -> subprocess.CompletedProcess[str]:
        return cli_result(settings, "audit", *args)

    shown = audit("applicant", CODE, "--purpose", "trả lời khiếu nại")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["details"] == {"name": NAME, "phone": PHONE}
    erased = audit("erase", "--applicant-hash", OWNER, "--reason", "yêu cầu của công dân")
    assert erased.returncode == 0, erased.stderr
    assert f"erased the data key of {OWNER}" in erased.stdout
    gone = audit("applicant", CODE, "--purpose", "kiểm tra")
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["outcome"] == "erased"
    assert audit("erase", "--reason", "thiếu đối tượng").returncode == 2
    reads = json.loads(audit("reads", CODE).stdout)
    assert [(r["key_id"], r["outcome"]) for r in reads] == [("cli", "revealed"), ("cli", "erased")]
