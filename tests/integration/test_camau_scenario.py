"""Cà Mau, first half of 2021: the figures the province published, from the hub's own log.

The scenario (scenarios/camau-2021h1.yaml, about a million events) goes through the embedded
ingest once per test run (the ``camau`` fixture); the read models are rebuilt from it and
``dvchub report --period 2021H1`` must print every figure the province published
(../shared/scenarios/camau-2021h1.yaml, restated in docs/scenarios.md).

That the bus path (agency systems on the actions topic, inbound consumers scaled out, the
relay, a projection worker, each its own process) reports exactly what the embedded hub
reports is shown on a smaller province, figure for figure.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.bus.topics import ensure_topics
from hub.log_reader import last_position
from hub.settings import HubSettings
from projections.rates import Rate
from projections.reuse.worker import PROJECTION as REUSE_INDEX
from projections.runner import PROJECTION, prepare
from tests.conftest import ROOT
from tests.integration.test_projection_workers import _caught_up
from tests.processes import CliProcess, run_cli
from tests.waiting import eventually

SMALL = ROOT / "tests" / "scenarios" / "small.yaml"


def _received(db: ReadModelDatabase) -> int:
    rows = db.query(
        "SELECT COALESCE(SUM(received_walk_in + received_online + received_post), 0) "
        "FROM progress_unit_daily"
    )
    return int(rows[0][0])


def _published_row(text: str, level: str) -> tuple[int, int, Decimal]:
    """(received, online, online rate) of a level in the report's table of levels."""
    match = re.search(rf"│ {level}\s+│ ([\d,]+)\s+│ ([\d,]+)\s+│ ([\d.]+)\s+│", text)
    assert match, f"no row for {level} in:\n{text}"
    return int(match[1].replace(",", "")), int(match[2].replace(",", "")), Decimal(match[3])


def _report(settings: HubSettings) -> dict[str, Any]:
    """The JSON report of the first half of 2021, less the moments it and its catalogue
    were made."""
    report: dict[str, Any] = orjson.loads(
        run_cli(settings, "report", "--period", "2021H1", "--format", "json")
    )
    del report["generated_at"], report["catalogue"]["loaded_at"]
    return report


def test_the_camau_report_prints_the_published_figures(camau: HubSettings) -> None:
    settings = camau
    run_cli(settings, "projections", "rebuild")
    db = ReadModelDatabase(settings)
    try:
        assert _received(db) == 338_663  # every dossier received, the history's included
    finally:
        db.close()
    report = _report(settings)
    codes = {unit["name"]: unit["code"] for unit in report["units"]}
    thoi_binh, city = codes["UBND huyện Thới Bình"], codes["UBND thành phố Cà Mau"]
    text = run_cli(settings, "report", "--period", "2021H1", "--unit", thoi_binh, "--unit", city)

    # Online dossiers: total and per level, with the online rate of each level.
    assert "Online dossiers: 98,419" in text
    province, district, commune = (
        _published_row(text, level) for level in ("province", "district", "commune")
    )
    assert province[1:] == (91_071, Decimal("54.36"))
    assert district[1:] == (7_154, Decimal("10.1"))
    assert commune[1:] == (194, Decimal("0.2"))

    # The catalogue of Decision 591.
    assert "Procedures: 1,966; online level 3: 567 (28.84 %); level 4: 647" in text
    assert "integrated with the national portal: 579 (47.69 % of levels 3 and 4)" in text
    level_4 = report["procedures"]["level_4_share"]
    assert Rate(level_4["part"], level_4["whole"]).percent(1) == Decimal("32.9")

    # Thới Bình district.
    card = text[text.index("UBND huyện Thới Bình (") :]
    assert "online procedures: level 3 223, level 4 37, total 260" in card
    assert "online dossiers before 2021-01-01: 1,389" in card
    assert "online dossiers 540 of 2,516 received, online rate 21.46 %" in card
    assert "procedures with online dossiers: 29" in card

    # Cà Mau city, and An Xuyên the only commune with online dossiers.
    card = text[text.index("UBND thành phố Cà Mau (") :]
    assert "total 183; offered below it: 99" in card
    assert "online dossiers 698 of 5,328 received, online rate 13.10 %" in card
    assert "units below it with online dossiers: 1 of 17: UBND xã An Xuyên (2)" in card

    # The reuse rate the scenario was built with: 5 % of the dossiers received in the half.
    assert "Reuse of earlier dossiers: 16,768 of 335,363 received dossiers (5.00 %)" in text, text[
        -600:
    ]
    assert report["reuse"]["received"] == 335_363
    assert Fraction(report["reuse"]["rate"]["part"], 335_363) == Fraction(16_768, 335_363)

    # The JSON export says the same, with exact fractions.
    assert report["online_total"] == 98_419
    rate = report["levels"]["district"]["online_rate"]
    assert Fraction(rate["part"], rate["whole"]) == Fraction(7_154, 70_830)


def test_a_scaled_out_pipeline_reports_what_the_embedded_hub_reports(
    bus_settings: HubSettings, tmp_path: Path
) -> None:
    embedded = HubSettings(data_dir=tmp_path / "embedded", log_level="WARNING")
    run_cli(embedded, "simulate", "--scenario", str(SMALL))
    expected = _report(embedded)

    settings = bus_settings.model_copy(update={"log_level": "WARNING"})
    ensure_topics(settings)
    # Scaled out as a province would run it: two inbound consumers sharing the actions topic,
    # the relay, and a projection worker, each its own process.
    inbound = [
        CliProcess(
            settings.model_copy(update={"instance_id": f"inbound-{n}"}),
            tmp_path / f"inbound{n}.log",
            *("serve", "--no-api", "--no-relay", "--no-projections"),
        )
        for n in range(2)
    ]
    relay = CliProcess(
        settings, tmp_path / "relay.log", "serve", "--no-api", "--no-inbound", "--no-projections"
    )
    worker = CliProcess(settings, tmp_path / "worker.log", "projections", "run")
    processes = [*inbound, relay, worker]
    db = ReadModelDatabase(settings)
    prepare(db)

    def all_running() -> None:
        for process in processes:
            assert process.running, f"{process.args} died; see {process.log}"

    try:
        for process in processes:
            process.start()
        out = run_cli(settings, "simulate", "--scenario", str(SMALL), "--via", "kafka")
        published = int(re.search(r"published ([\d,]+) events", out)[1].replace(",", ""))  # type: ignore[index]
        assert published == expected["position"]
        eventually(
            lambda: _caught_up(settings, db, published, (PROJECTION, REUSE_INDEX)),
            timeout=300,
            what="the pipeline catching up",
            alive=all_running,
        )
        found = _report(settings)
    finally:
        for process in processes:
            process.stop()
        db.close()
    # Positions are the store's notification ids. PostgreSQL takes them from a sequence, and
    # two inbound consumers racing for one dossier roll a write back and retry it, leaving a
    # gap: the read model reflects the store's last position, which may pass the count.
    with DossierStore(settings) as store:
        assert found.pop("position") == last_position(store) >= published
    assert expected.pop("position") == published  # embedded, one writer: no gap
    assert found == expected
