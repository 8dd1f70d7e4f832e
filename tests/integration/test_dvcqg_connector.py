"""The national portal connector against the portal simulator, run as processes.

- A dossier whose update the portal refuses for good is parked, its later updates wait,
  every other dossier is synced; a retry after the fix drains it.
- Under random 5xx, late and slow answers (applied after the connector gave up), dropped
  sessions and rate limits, with the connector killed
  and restarted mid-sync, every update of every dossier of an integrated procedure reaches
  the portal once, in order, with the right status; no other dossier is ever sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dvcqg import outbox
from connectors.dvcqg.mapping import STEP_TEXT
from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import bootstrap
from hub.catalogue.store import CatalogueStore
from hub.log_reader import last_position, sqlite_file
from hub.settings import HubSettings
from projections.progress.log_scan import scan_sqlite
from tests.conftest import ROOT
from tests.processes import CliProcess, alive, run_cli
from tests.province_log import CA_MAU
from tests.services import free_port
from tests.waiting import eventually

SMALL = ROOT / "tests" / "scenarios" / "small.yaml"
PASSWORD = "mat-khau-thu-nghiem"
# The connector gives up on a call after GIVE_UP seconds; the portal's late answers come
# after PORTAL_LATE ("timeout": applied, answered too late) or PORTAL_SLOW ("slow").
GIVE_UP, PORTAL_LATE, PORTAL_SLOW = 0.75, 1.0, 1.25


class Portal:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60)

    def faults(self, **faults: Any) -> None:
        self.http.put("/_sim/faults", json=faults).raise_for_status()

    def dossiers(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/_sim/dossiers").json()
        return data

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/_sim/stats").json()
        return data


@pytest.fixture
def dialect() -> str:
    """How the portal words its answers; a test's ``dialect`` parameter overrides it."""
    return "simulator"


@pytest.fixture
def portal(tmp_path: Path, dialect: str) -> Iterator[Portal]:
    """The simulator in strict mode (every payload checked against the documented
    interface), answering in the test's dialect."""
    port = free_port()
    settings = HubSettings(data_dir=tmp_path / "sim", dvcqg_password=PASSWORD)
    process = CliProcess(
        settings,
        tmp_path / "portal.log",
        "portal-sim",
        "--port",
        str(port),
        "--password",
        PASSWORD,
        "--timeout-seconds",
        str(PORTAL_LATE),
        "--session-seconds",
        "20",
        "--seed",
        "7",
        "--dialect",
        dialect,
        "--strict",
    )
    process.start()
    try:
        portal = Portal(f"http://127.0.0.1:{port}")

        def answers() -> bool:
            try:
                portal.stats()
            except httpx.TransportError:
                return False
            return True

        eventually(answers, timeout=30, what="the portal simulator", alive=alive(process))
        yield portal
    finally:
        process.stop()


def _settings(tmp_path: Path, portal: Portal, **extra: Any) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path / "var",
        log_level="WARNING",
        dvcqg_url=portal.url,
        dvcqg_password=PASSWORD,
        dvcqg_timeout_seconds=GIVE_UP,
        dvcqg_breaker_seconds=1.0,
        dvcqg_settle_seconds=2.0,
        **extra,
    )


def _expected(settings: HubSettings) -> tuple[dict[str, list[tuple[str, int]]], set[str]]:
    """Per dossier of an integrated procedure: (step text, status) of each event, in order;
    and the codes of the other dossiers. Read straight from the store's file (the fast scan
    the rebuild uses), not through the hub."""
    store = CatalogueStore(settings)
    catalogue = store.current()
    assert catalogue is not None
    hub = bootstrap(settings, configure_logs=False)
    try:
        upto, log = last_position(hub.store), sqlite_file(hub.store)
    finally:
        hub.close()
    assert log is not None, "the connector's tests run on the embedded store"
    procedure_of: dict[str, str] = {}
    synced: dict[str, list[tuple[str, int]]] = {}
    others: set[str] = set()
    try:
        for fact in scan_sqlite(*log, upto):
            code = fact.dossier_code
            if fact.procedure_code:
                procedure_of[code] = fact.procedure_code
            entry = catalogue.procedures.get(procedure_of.get(code, ""))
            if entry is not None and entry.integrated:
                synced.setdefault(code, []).append((STEP_TEXT[fact.event_type], fact.status_after))
            else:
                others.add(code)
    finally:
        store.close()
    assert sum(len(steps) for steps in synced.values()) > 0
    return synced, others - set(synced)


def _portal_steps(found: dict[str, Any]) -> list[tuple[str, int]]:
    return [(s["NoiDungXuLy"].split(":")[0], s["TrangThai"]) for s in found["steps"]]


def _wait_synced(settings: HubSettings, *connector: CliProcess, timeout: float) -> None:
    """Until the intake has read the whole log and every update in the outbox is sent."""
    hub = bootstrap(settings, configure_logs=False)
    end = last_position(hub.store)
    hub.close()
    db = ReadModelDatabase(settings)
    outbox.create(db)

    def synced() -> bool | dict[str, int]:
        rows = db.query(f"SELECT status, COUNT(*) FROM {outbox.OUTBOX} GROUP BY status")
        counts = {status: int(n) for status, n in rows}
        read = db.query(f"SELECT COALESCE(MAX(position), 0) FROM {outbox.CHECKPOINTS}")[0][0]
        return (int(read) >= end and bool(counts) and set(counts) == {"sent"}) or counts

    def all_alive() -> None:
        for process in connector:
            alive(process)()

    try:
        eventually(
            lambda: synced() is True, timeout=timeout, what="every update sent", alive=all_alive
        )
    finally:
        db.close()


def test_a_refused_update_is_parked_and_blocks_only_its_dossier(
    tmp_path: Path, portal: Portal
) -> None:
    settings = _settings(tmp_path, portal, dvcqg_refusals_before_parking=2)
    run_cli(settings, "simulate", "--scenario", str(SMALL))
    synced, others = _expected(settings)
    victim = sorted(code for code, steps in synced.items() if len(steps) >= 3)[0]
    portal.faults(refuse={victim: "MaTTHC không khớp danh mục"})
    connector = CliProcess(settings, tmp_path / "connector.log", "connector", "run")
    connector.start()
    try:
        db = ReadModelDatabase(settings)
        outbox.create(db)
        eventually(
            lambda: outbox.parked(db), timeout=120, what="a parked update", alive=alive(connector)
        )

        def others_synced() -> bool:
            on_portal = portal.dossiers()
            return all(
                code in on_portal and _portal_steps(on_portal[code]) == steps
                for code, steps in synced.items()
                if code != victim
            )

        # Every other dossier flows on to the end.
        eventually(others_synced, timeout=120, what="the other dossiers synced")
        parked = outbox.parked(db)
        assert [row[0] for row in parked] == [victim]
        assert parked[0][4] == 2  # refused twice, then parked
        assert "từ chối" in str(parked[0][6])  # the portal's answer is kept
        assert parked[0][8] == len(synced[victim]) - 1  # its later updates wait behind it
        assert victim not in portal.dossiers()
        listing = run_cli(settings, "connector", "parked")
        assert victim in listing
        # The cause is fixed; an operator retries; the dossier drains, in order.
        portal.faults(refuse={})
        assert "1 parked update(s) queued again" in run_cli(settings, "connector", "retry")
        eventually(
            lambda: _portal_steps(portal.dossiers().get(victim, {"steps": []})) == synced[victim],
            timeout=60,
            what="the parked dossier drained",
        )
        on_portal = portal.dossiers()
        assert not set(on_portal) & others  # non-integrated procedures never sent
        assert portal.stats()["duplicates"] == 0
        db.close()
    finally:
        connector.stop()


def test_reconcile_finds_what_the_portal_lost_and_sends_it_again(
    tmp_path: Path, portal: Portal
) -> None:
    settings = _settings(tmp_path, portal)
    run_cli(settings, "simulate", "--scenario", str(SMALL))
    synced, _ = _expected(settings)
    connector = CliProcess(settings, tmp_path / "connector.log", "connector", "run")
    connector.start()
    try:
        _wait_synced(settings, connector, timeout=120)
        lost, changed = sorted(code for code, steps in synced.items() if len(steps) >= 2)[:2]
        portal.http.post(f"/_sim/forget/{lost}").raise_for_status()
        portal.http.post(f"/_sim/status/{changed}", params={"status": 8}).raise_for_status()
        out = run_cli(settings, "connector", "reconcile", "--period", "2021-01-01..2021-12-31")
        assert f"checked {len(synced)} integrated dossiers" in out
        assert "differences: missing_steps 1, not_on_portal 1, status 1; queued again: 2" in out

        def repaired() -> bool:
            on_portal = portal.dossiers()
            return all(
                code in on_portal
                and _portal_steps(on_portal[code]) == steps
                and on_portal[code]["dossier"]["TrangThaiHoSo"] == steps[-1][1]
                for code, steps in synced.items()
            )

        eventually(repaired, timeout=60, what="reconcile repairing the portal")
        assert portal.stats()["duplicates"] == 0
        again = run_cli(settings, "connector", "reconcile", "--period", "2021-01-01..2021-12-31")
        assert "differences: none; queued again: 0" in again
    finally:
        connector.stop()


# Per scenario, the chance of each fault per call. ``slow`` answers come after the
# connector's timeout (GIVE_UP), so the portal applies calls the connector already gave up on;
# ``timeout`` calls are applied and answered too late. The small scenario takes many more.
HEAVY = {
    "error_5xx": 0.05,
    "timeout": 0.05,
    "slow": 0.05,
    "drop_session": 0.02,
    "rate_limit": 0.02,
    "wrong_body": 0.02,
}
LIGHT = {
    "error_5xx": 0.02,
    "timeout": 0.005,
    "slow": 0.002,
    "drop_session": 0.01,
    "rate_limit": 0.005,
    "wrong_body": 0.005,
}


@pytest.mark.parametrize(
    ("scenario", "faults", "sole_sync_since", "dialect"),
    [
        # Every dossier looked up before its first send.
        pytest.param(SMALL, HEAVY, None, "simulator", id="small"),
        # Portals that word "exists", an expired session and a look-up otherwise.
        pytest.param(SMALL, HEAVY, None, "message", id="small-message-dialect"),
        pytest.param(SMALL, HEAVY, None, "http", id="small-http-dialect"),
        # The hub the only sync: new dossiers inserted at once, only unsure ones looked up.
        pytest.param(
            CA_MAU, LIGHT, date(2021, 1, 1), "simulator", id="camau-2021h1", marks=pytest.mark.slow
        ),
    ],
)
def test_everything_arrives_once_in_order_through_faults_and_a_killed_connector(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    portal: Portal,
    scenario: Path,
    faults: dict[str, float],
    sole_sync_since: date | None,
    dialect: str,
) -> None:
    settings = _settings(tmp_path, portal, dvcqg_sole_sync_since=sole_sync_since)
    if scenario == CA_MAU:
        request.getfixturevalue("camau")  # a copy of the run's Cà Mau log, in tmp_path / "var"
    else:
        run_cli(settings, "simulate", "--scenario", str(scenario))
    synced, others = _expected(settings)
    portal.faults(timeout_seconds=PORTAL_LATE, slow_seconds=PORTAL_SLOW, **faults)
    # Intake and sender each in its own process, as a busy province would run them.
    intake = CliProcess(settings, tmp_path / "intake.log", "connector", "run", "--no-sender")
    sender = CliProcess(settings, tmp_path / "sender.log", "connector", "run", "--no-intake")
    intake.start()
    sender.start()
    try:
        # Kill both with SIGKILL once part of the work is delivered, and start them again.
        third = sum(len(steps) for steps in synced.values()) // 3

        def both_alive() -> None:
            alive(sender)()
            alive(intake)()

        eventually(
            lambda: portal.stats()["steps"] >= third,
            timeout=1800,
            what="a third of the steps delivered",
            alive=both_alive,
        )
        sender.kill()
        intake.kill()
        portal.http.post("/_sim/expire-sessions").raise_for_status()
        intake.start()
        sender.start()
        _wait_synced(settings, intake, sender, timeout=3600)
    finally:
        intake.stop()
        sender.stop()
    on_portal = portal.dossiers()
    stats = portal.stats()
    assert set(on_portal) == set(synced), "a dossier is missing on the portal, or one too many"
    wrong = [code for code, steps in synced.items() if _portal_steps(on_portal[code]) != steps]
    assert not wrong, f"steps missing, doubled or out of order for {wrong[:5]}"
    statuses = [
        c for c, s in synced.items() if on_portal[c]["dossier"]["TrangThaiHoSo"] != s[-1][1]
    ]
    assert not statuses, f"wrong status on the portal for {statuses[:5]}"
    assert stats["duplicates"] == 0, "an update was applied twice"
    assert stats["strict_failures"] == 0, portal.http.get("/_sim/strict").json()
    assert not set(on_portal) & others
    for fault in ("error_5xx", "timeout", "slow", "drop_session"):
        assert stats["faults"].get(fault, 0) > 0, f"no {fault} was injected"
