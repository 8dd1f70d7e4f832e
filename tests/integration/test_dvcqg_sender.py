"""The connector's sender in-process against the portal simulator (SQLite read model): what
it sends when the portal already holds what an earlier, unanswered call carried."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import orjson
import pytest
import stamina
from fastapi.testclient import TestClient

from connectors.dvcqg import outbox
from connectors.dvcqg.client import PortalClient, PortalUnavailable, SessionExpired
from connectors.dvcqg.intake import Intake
from connectors.dvcqg.protocol import PortalAnswer, portal_time
from connectors.dvcqg.reconcile import reconcile
from connectors.dvcqg.sender import Sender
from connectors.dvcqg.simulator import DIALECTS, Dialect, Faults, create_simulator
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
def stored(tmp_path: Any) -> Iterator[tuple[Hub, CatalogueStore]]:
    """The small scenario stored, with its catalogue."""
    settings = HubSettings(data_dir=tmp_path / "var", log_level="WARNING")
    hub = bootstrap(settings, configure_logs=False)
    built = plan(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"))
    catalogue = CatalogueStore(settings)
    catalogue.load(built.catalogue, "small.yaml")
    report = PublishReport()
    for batch in batches(list(events(built, hub.rules.calendar)), 1_000):
        StoreSink(hub.ingestor).send(batch, report)
    yield hub, catalogue
    catalogue.close()
    hub.close()


@pytest.fixture
def queued(stored: tuple[Hub, CatalogueStore]) -> Iterator[tuple[Hub, ReadModelDatabase]]:
    """The small scenario stored, and its integrated dossiers' updates in the outbox."""
    hub, catalogue = stored
    db = ReadModelDatabase(hub.settings)
    intake = Intake(db, LogSource(hub.store), catalogue)
    intake.start()
    never = threading.Event()
    while polled := intake.source.poll(never):
        intake.handle(polled)
    assert intake.enqueued > 100
    yield hub, db
    db.close()


def test_an_intake_that_another_overtook_maps_its_batch_again_and_enqueues_nothing_twice(
    stored: tuple[Hub, CatalogueStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two intakes read the same events (a rebalance, a restart beside a stuck one): one maps
    a batch while the other writes it; the first sees the checkpoint moved and adds nothing."""
    hub, catalogue = stored
    first_db, second_db = ReadModelDatabase(hub.settings), ReadModelDatabase(hub.settings)
    try:
        first = Intake(first_db, LogSource(hub.store), catalogue)
        second = Intake(second_db, LogSource(hub.store), catalogue)
        first.start()
        second.start()
        never = threading.Event()
        batch = first.source.poll(never)
        assert batch == second.source.poll(never)
        mapped_twice: list[bool] = []
        map_once = second._map

        def overtaken(*args: Any) -> Any:
            if not mapped_twice:
                first.handle(batch)  # the other intake writes the batch meanwhile
            mapped_twice.append(True)
            return map_once(*args)

        monkeypatch.setattr(second, "_map", overtaken)
        enqueued = second.handle(batch)
        assert first.enqueued > 0
        assert len(mapped_twice) == 2, "the overtaken intake did not map its batch again"
        assert enqueued == 0
        rows = first_db.query(f"SELECT COUNT(*) FROM {outbox.OUTBOX}")[0][0]
        assert rows == first.enqueued
    finally:
        first_db.close()
        second_db.close()


def _sender(
    db: ReadModelDatabase,
    sole_sync_since: date | None = None,
    dialect: Dialect | None = None,
    faults: Faults | None = None,
    strict: bool = False,
) -> tuple[Sender, Any]:
    app = create_simulator(
        "dvchub", PASSWORD, faults=faults, seed=3, dialect=dialect, strict=strict
    )
    client = PortalClient("http://portal", "dvchub", PASSWORD, "000.00.00.H99", "000.00.00.H99")
    client.http = TestClient(app, base_url="http://portal")
    sender = Sender(db, client, batch_size=50, settle_seconds=0.0, sole_sync_since=sole_sync_since)
    return sender, app.state.store


def _count_calls(sender: Sender) -> Counter[str]:
    """The services the sender calls from now on, counted."""
    services: Counter[str] = Counter()
    call = sender.client.call

    def counted(service: Any, **body: Any) -> Any:
        services[service] += 1
        return call(service, **body)

    sender.client.call = counted  # type: ignore[method-assign]
    return services


def _assert_all_sent_as_the_hub_has_them(db: ReadModelDatabase, portal: Any) -> None:
    """Every update sent, each step once, every dossier on the portal in its latest state."""
    rows = dict(db.query(f"SELECT status, COUNT(*) FROM {outbox.OUTBOX} GROUP BY status"))
    assert rows == {"sent": sum(rows.values())}, "an update was parked or left behind"
    assert portal.duplicates == 0, "a step was sent twice"
    assert sum(len(steps) for steps in portal.steps.values()) == rows["sent"]
    last = {
        code: orjson.loads(dossier)["TrangThaiHoSo"]
        for code, dossier in db.query(
            f"SELECT dossier_code, dossier FROM {outbox.OUTBOX} o WHERE position = "
            f"(SELECT MAX(position) FROM {outbox.OUTBOX} WHERE dossier_code = o.dossier_code)"
        )
    }
    assert {c: d["TrangThaiHoSo"] for c, d in portal.dossiers.items()} == last


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


@pytest.mark.parametrize(
    ("sole_sync_since", "looked_up"),
    [
        pytest.param(None, "every dossier", id="shared-sync"),
        pytest.param(date(2021, 1, 1), "none", id="sole-sync-since-the-first-day"),
        pytest.param(date(2099, 1, 1), "every dossier", id="sole-sync-from-a-later-day"),
    ],
)
def test_once_the_hub_alone_syncs_new_dossiers_are_inserted_without_a_look_up(
    queued: tuple[Hub, ReadModelDatabase], sole_sync_since: date | None, looked_up: str
) -> None:
    _, db = queued
    sender, portal = _sender(db, sole_sync_since)
    dossiers = {code for (code,) in db.query(f"SELECT DISTINCT dossier_code FROM {outbox.OUTBOX}")}
    # Another system put three of them on the portal before (as they stood then).
    earlier = [run[0].dossier for run in outbox.runs(db, 3)]
    sender.client.call("DongBoHoSoMC", isUpdating="False", data=earlier)
    calls = _count_calls(sender)
    while sender.round():
        pass
    assert set(portal.dossiers) == dossiers
    _assert_all_sent_as_the_hub_has_them(db, portal)
    expected = len(dossiers) if looked_up == "every dossier" else 0
    assert calls["TraCuuHoSo"] == expected


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """Retries as many, without their waits (stamina's test mode)."""
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


def _drain(sender: Sender) -> None:
    """Rounds until nothing is left to send; a round that fails is tried again (as the
    sender's loop would, less its breaker's pause)."""
    for _ in range(500):
        try:
            if not sender.round():
                return
        except (PortalUnavailable, SessionExpired):
            continue
    raise AssertionError("the outbox never drained")


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_gets_everything_through_expired_sessions_and_lost_answers(
    queued: tuple[Hub, ReadModelDatabase], dialect: str, no_backoff: None
) -> None:
    _, db = queued
    sender, portal = _sender(db, dialect=DIALECTS[dialect])
    # Inserts that reached the portal though their answers were lost: "đã tồn tại" in the
    # dialect's words, and their look-ups answered in the dialect's shape.
    first = outbox.runs(db, 20)
    sender.client.call("DongBoHoSoMC", isUpdating="False", data=[r[-1].dossier for r in first[:5]])
    outbox.set_on_portal(db, {run[0].dossier_code: -1 for run in first[:10]})
    outbox.mark_in_flight(db, [head for run in first[10:15] for head in run])
    faults = Faults(drop_session=0.15, error_5xx=0.03, wrong_body=0.02)
    sender.client.http.put("/_sim/faults", json=faults.model_dump()).raise_for_status()
    _drain(sender)
    _assert_all_sent_as_the_hub_has_them(db, portal)
    assert portal.faults.get("drop_session", 0) > 0
    # Sessions dropped again and again, said in the dialect's own way, and renewed each time
    # (one login serves the calls waiting on it).
    assert sender.client.logins > 10, "sessions were not renewed"


def test_a_look_up_of_no_known_shape_parks_its_dossier_with_the_answer_and_no_other(
    queued: tuple[Hub, ReadModelDatabase],
) -> None:
    _, db = queued
    sender, portal = _sender(db)
    odd = outbox.runs(db, 1)[0][0].dossier_code
    call = sender.client.call

    def answering_oddly(service: Any, **body: Any) -> PortalAnswer:
        if service == "TraCuuHoSo" and body.get("mahoso") == odd:
            return PortalAnswer(error_code=0, result="OK")
        return call(service, **body)

    sender.client.call = answering_oddly  # type: ignore[method-assign]
    _drain(sender)
    rows = db.query(
        f"SELECT dossier_code, status, answer FROM {outbox.OUTBOX} WHERE status <> 'sent'"
    )
    parked = [(code, status) for code, status, _ in rows]
    assert parked[0] == (odd, "parked")
    assert {status for _, status in parked[1:]} <= {"pending"}  # waiting behind it
    assert {code for code, _ in parked} == {odd}
    assert '"OK"' in rows[0][2], "the answer was not kept"
    assert odd not in portal.dossiers
    assert len(portal.dossiers) > 10


def _lose(portal: Any, codes: list[str]) -> None:
    """A portal that lost these dossiers and their steps."""
    for code in codes:
        del portal.dossiers[code]
        portal.steps.pop(code, None)
        portal.step_keys -= {key for key in portal.step_keys if key[0] == code}


def test_reconcile_finishes_through_faults_and_reports_what_it_could_not_check(
    queued: tuple[Hub, ReadModelDatabase], no_backoff: None
) -> None:
    _, db = queued
    sender, portal = _sender(db)
    _drain(sender)
    lost = sorted(portal.dossiers)[:7]
    _lose(portal, lost)
    faults = Faults(drop_session=0.1, error_5xx=0.05, wrong_body=0.05)
    sender.client.http.put("/_sim/faults", json=faults.model_dump()).raise_for_status()
    report = reconcile(db, sender.client, date(2000, 1, 1), date(2099, 12, 31))
    assert report.errors == {}
    assert report.differences["not_on_portal"] == len(lost)
    assert report.requeued == len(lost)
    assert report.matching == report.checked - len(lost)
    _drain(sender)
    assert set(lost) <= set(portal.dossiers)
    assert portal.duplicates == 0

    # A portal that keeps failing: every dossier is reported, none stops the others.
    always = Faults(error_5xx=1.0)
    sender.client.http.put("/_sim/faults", json=always.model_dump()).raise_for_status()
    failing = reconcile(db, sender.client, date(2000, 1, 1), date(2099, 12, 31), attempts=2)
    assert failing.checked == 0
    assert len(failing.errors) == report.checked
    assert all("503" in why for why in failing.errors.values())


#: The portal's status after a dossier's last event, for the events that fix it
#: (../shared/domain.md, "Dossier status codes").
FINAL_STATUS = {
    "dossier.registered": 1,
    "dossier.received": 2,
    "dossier.refused": 3,
    "dossier.withdrawn": 7,
    "dossier.resolved": 9,
    "dossier.result_returned": 10,
}
PATHS = ("refused", "registered only", "supplemented", "apologised", "stopped", "withdrawn")


def _path_of(history: list[dict[str, Any]]) -> set[str]:
    kinds = {record["event_type"] for record in history}
    path = {
        "refused": "dossier.refused" in kinds,
        "registered only": kinds == {"dossier.registered"},
        "supplemented": "dossier.supplement_received" in kinds,
        "apologised": "dossier.deadline_extended" in kinds,
        "stopped": "dossier.processing_stopped" in kinds,
        "withdrawn": "dossier.withdrawn" in kinds,
        "returned": "dossier.result_returned" in kinds,
    }
    return {name for name, taken in path.items() if taken}


def _extra_paths(catalogue: Any) -> list[dict[str, Any]]:
    """Paths the small scenario does not take: a dossier registered online and not received
    yet, and one whose processing was stopped and resumed."""
    from tests.factories import event, received, submission

    procedure = next(p for p in catalogue.procedures if p.integrated and p.units)
    unit = procedure.units[0]
    waiting, stopped = f"{unit}-210428-9001", f"{unit}-210420-9002"
    opening = {"procedure_code": procedure.code, "applicant_type": 2}
    extra = [
        event(
            "dossier.registered",
            submission(**opening),
            code=waiting,
            unit=unit,
            when="2021-04-28 21:10",
        ),
        *(
            event(kind, payload, code=stopped, unit=unit, when=when)
            for kind, payload, when in [
                ("dossier.received", received(5, **opening), "2021-04-20 08:00"),
                ("dossier.processing_stopped", {"reason": "Chờ ý kiến"}, "2021-04-21 09:00"),
                ("dossier.processing_resumed", {}, "2021-04-23 14:00"),
                (
                    "dossier.resolved",
                    {"decision": "denied", "note": "Không đủ"},
                    "2021-04-26 10:00",
                ),
                ("dossier.result_returned", {"method": 1}, "2021-04-27 09:30"),
            ]
        ),
    ]
    for record in extra:
        record["actor"]["department"] = "Bộ phận tiếp nhận và trả kết quả"
    return extra


@pytest.fixture
def every_path(
    tmp_path: Any,
) -> Iterator[tuple[ReadModelDatabase, dict[str, list[dict[str, Any]]]]]:
    """The small scenario with the paths it lacks, its integrated dossiers' updates in the
    outbox; and each integrated dossier's events, as published."""
    settings = HubSettings(data_dir=tmp_path / "var", log_level="WARNING")
    hub = bootstrap(settings, configure_logs=False)
    built = plan(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml"))
    catalogue = CatalogueStore(settings)
    catalogue.load(built.catalogue, "small.yaml")
    published = [*events(built, hub.rules.calendar), *_extra_paths(built.catalogue)]
    report = PublishReport()
    for batch in batches(published, 1_000):
        StoreSink(hub.ingestor).send(batch, report)
    assert not report.reasons, report.reasons
    db = ReadModelDatabase(settings)
    intake = Intake(db, LogSource(hub.store), catalogue)
    intake.start()
    never = threading.Event()
    while polled := intake.source.poll(never):
        intake.handle(polled)
    integrated = {p.code for p in built.catalogue.procedures if p.integrated}
    procedure_of: dict[str, str] = {}
    histories: dict[str, list[dict[str, Any]]] = {}
    for record in published:
        code = record["dossier_code"]
        procedure_of.setdefault(code, record["payload"].get("procedure_code", ""))
        if procedure_of[code] in integrated:
            histories.setdefault(code, []).append(record)
    yield db, histories
    db.close()
    catalogue.close()
    hub.close()


def _moment(record: dict[str, Any]) -> str:
    return portal_time(datetime.fromisoformat(record["occurred_at"]))


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_path_a_dossier_takes_reaches_a_strict_portal_as_it_happened(
    every_path: tuple[ReadModelDatabase, dict[str, list[dict[str, Any]]]],
    dialect: str,
    no_backoff: None,
) -> None:
    db, histories = every_path
    taken = {code: _path_of(history) for code, history in histories.items()}
    for path in (*PATHS, "returned"):
        assert any(path in paths for paths in taken.values()), f"no dossier {path}"
    sender, portal = _sender(db, dialect=DIALECTS[dialect], strict=True)
    faults = Faults(drop_session=0.1, error_5xx=0.03, wrong_body=0.02)
    sender.client.http.put("/_sim/faults", json=faults.model_dump()).raise_for_status()
    _drain(sender)
    assert portal.strict_failures == 0, portal.strict_findings
    _assert_all_sent_as_the_hub_has_them(db, portal)
    assert set(portal.dossiers) == set(histories)
    for code, history in histories.items():
        seen, paths = portal.dossiers[code], taken[code]
        first, last = history[0], history[-1]
        opened = next((r for r in history if r["event_type"] == "dossier.received"), first)
        assert seen["NgayTiepNhan"] == _moment(opened), code
        if last["event_type"] in FINAL_STATUS:
            assert seen["TrangThaiHoSo"] == FINAL_STATUS[last["event_type"]], code
        steps = portal.steps[code]
        assert [s["ThoiDiemXuLy"] for s in steps] == [_moment(r) for r in history], code
        assert all(s["PhongBanXuLy"] for s in steps), f"{code}: a step without its department"
        resolved = [r for r in history if r["event_type"] == "dossier.resolved"]
        if resolved:
            assert seen["NgayKetThucXuLy"] == _moment(resolved[-1])
            documents = resolved[-1]["payload"].get("result_documents", ())
            assert [p["NgayBanHanh"] for p in seen["DanhSachGiayToKetQua"]] == [
                d["issued_on"].replace("-", "") + "000000" for d in documents
            ]
        else:
            assert seen["NgayKetThucXuLy"] is None, code
        if "returned" in paths:
            returned = history[-1]
            assert seen["NgayTra"] == _moment(returned)
            assert seen["HinhThuc"] == (1 if returned["payload"]["method"] == 1 else 0)
        if "refused" in paths or "registered only" in paths:
            assert seen["NgayHenTra"] is None, code
        if "supplemented" in paths:
            asked = [r for r in history if r["event_type"] == "dossier.supplement_requested"]
            given = [r for r in history if r["event_type"] == "dossier.supplement_received"]
            assert [(s["NgayYeuCau"], s["NgayBoSung"]) for s in seen["DanhSachHoSoBoSung"]] == [
                (_moment(a), _moment(g)) for a, g in zip(asked, given, strict=True)
            ]
            assert all(s["NgayHenTraMoi"] for s in seen["DanhSachHoSoBoSung"])
        if "apologised" in paths:
            # Still late for the portal: scored by the due date, not the apology's new one.
            apology = next(r for r in history if r["event_type"] == "dossier.deadline_extended")
            promised = portal_time(datetime.fromisoformat(apology["payload"]["new_due_at"]))
            assert seen["NgayHenTra"] != promised, code
            assert seen["NgayKetThucXuLy"] > seen["NgayHenTra"], f"{code} looks on time"
            apology_step = steps[history.index(apology)]
            assert apology_step["NgayKetThucTheoQuyDinh"] == promised


class _Killed(Exception):
    """The reconcile's process dies here."""


def test_a_reconcile_cut_short_resumes_where_it_stopped_and_checks_only_what_is_left(
    queued: tuple[Hub, ReadModelDatabase], no_backoff: None
) -> None:
    _, db = queued
    sender, portal = _sender(db)
    _drain(sender)
    everything = sorted(portal.dossiers)
    lost = everything[1:40:6]  # before and after the point where the first run dies
    _lose(portal, lost)
    looked_up: list[str] = []
    call = sender.client.call

    def dying_after(count: int) -> Any:
        def counted(service: Any, **body: Any) -> Any:
            if service == "TraCuuHoSo":
                if len(looked_up) == count:
                    raise _Killed
                looked_up.append(body["mahoso"])
            return call(service, **body)

        return counted

    period = (date(2000, 1, 1), date(2099, 12, 31))
    sender.client.call = dying_after(20)  # type: ignore[method-assign]
    with pytest.raises(_Killed):
        reconcile(db, sender.client, *period)
    first = list(looked_up)
    looked_up.clear()
    sender.client.call = dying_after(10_000)  # type: ignore[method-assign]
    resumed = reconcile(db, sender.client, *period)
    assert resumed.resumed == len(first) == 20
    assert not set(looked_up) & set(first), "a dossier checked before was asked about again"
    assert sorted(first + looked_up) == everything
    assert resumed.finished
    assert resumed.errors == {}
    # What the first run queued again was kept: every lost dossier goes back.
    _drain(sender)
    assert set(lost) <= set(portal.dossiers)
    assert portal.duplicates == 0
    # The period's run is finished: the next reconcile starts over and checks everything.
    looked_up.clear()
    again = reconcile(db, sender.client, *period)
    assert (again.resumed, again.checked, again.matching) == (0, len(everything), len(everything))
    assert again.run_id != resumed.run_id

    # A run that could check nothing stays open; the next one checks all of it again, or a
    # fresh one starts over.
    sender.client.http.put("/_sim/faults", json={"error_5xx": 1.0}).raise_for_status()
    failing = reconcile(db, sender.client, *period, attempts=1)
    assert not failing.finished
    assert len(failing.errors) == len(everything)
    sender.client.http.put("/_sim/faults", json={}).raise_for_status()
    retried = reconcile(db, sender.client, *period)
    assert retried.run_id == failing.run_id
    assert (retried.resumed, retried.checked, retried.finished) == (0, len(everything), True)


def test_the_sync_routes_answers_are_their_documented_models(
    queued: tuple[Hub, ReadModelDatabase],
) -> None:
    from fastapi.testclient import TestClient as Client

    from connectors.dvcqg.status import SyncDossierDoc, SyncUnitsDoc
    from hub.api.app import create_app
    from hub.auth.credentials import Role
    from hub.auth.store import CredentialStore
    from hub.bus.rejects import FileRejectSink
    from projections.read_models import ReadModels

    hub, db = queued
    sender, _ = _sender(db)
    first = outbox.runs(db, 1)[0][0].dossier_code
    sender.round()
    credentials = CredentialStore(hub.settings)
    _, key = credentials.issue("bang", Role.READER, [])
    models = ReadModels(hub.settings)
    app = create_app(hub, credentials, FileRejectSink(hub.settings.data_dir / "r"), None, models)
    try:
        with Client(app) as client:
            units = client.get("/v1/sync/units", params={"period": "2021"})
            assert units.status_code == 200, units.text
            assert SyncUnitsDoc.model_validate(units.json()).rows
            seen = client.get(
                f"/v1/sync/dossiers/{first}", headers={"Authorization": f"Bearer {key}"}
            )
            assert seen.status_code == 200, seen.text
            assert SyncDossierDoc.model_validate(seen.json()).updates
    finally:
        models.close()
        credentials.close()


def test_the_intakes_lag_is_exported_as_it_reads(stored: tuple[Hub, CatalogueStore]) -> None:
    """``dvchub_dvcqg_intake_lag_records``: the events it has yet to read, 0 once through."""
    from prometheus_client import REGISTRY

    from hub.log_reader import last_position

    hub, catalogue = stored
    db = ReadModelDatabase(hub.settings)
    intake = Intake(db, LogSource(hub.store, page=100, max_page=100), catalogue)
    intake.start()
    never = threading.Event()
    intake.handle(intake.source.poll(never))
    end = last_position(hub.store)
    assert REGISTRY.get_sample_value("dvchub_dvcqg_intake_lag_records") == end - 100
    while polled := intake.source.poll(never):
        intake.handle(polled)
    assert REGISTRY.get_sample_value("dvchub_dvcqg_intake_lag_records") == 0
    db.close()
