"""Cà Mau, first half of 2021, end to end through Kafka and PostgreSQL.

The scenario (scenarios/camau-2021h1.yaml) is published on the actions topic as agency
systems would; the hub ingests it, the relay puts it on the events topic, a projection
worker builds the read model; then ``dvchub report --period 2021H1`` must print every
figure the province published (../shared/scenarios/camau-2021h1.yaml, restated in
docs/scenarios.md).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from hub.adapters.sql import ReadModelDatabase
from hub.bus.topics import ensure_topics
from hub.settings import HubSettings
from projections.rates import Rate
from projections.reuse.worker import PROJECTION as REUSE_INDEX
from projections.runner import PROJECTION, prepare
from tests.conftest import ROOT
from tests.integration.test_projection_workers import _caught_up
from tests.processes import CliProcess, run_cli

pytestmark = pytest.mark.postgres
SCENARIO = ROOT / "scenarios" / "camau-2021h1.yaml"


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


def test_the_camau_report_prints_the_published_figures(
    bus_settings: HubSettings, tmp_path: Path
) -> None:
    settings = bus_settings.model_copy(update={"kafka_poll_records": 5_000, "log_level": "WARNING"})
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
    try:
        for process in processes:
            process.start()
        out = run_cli(
            settings, "simulate", "--scenario", str(SCENARIO), "--via", "kafka", timeout=1800
        )
        published = int(re.search(r"published ([\d,]+) events", out)[1].replace(",", ""))  # type: ignore[index]
        deadline = time.monotonic() + 1800
        projections = (PROJECTION, REUSE_INDEX)
        while _received(db) < 338_663 or not _caught_up(settings, db, published, projections):
            for process in processes:
                assert process.running, f"{process.args} died; see {process.log}"
            assert time.monotonic() < deadline, "the pipeline did not finish in time"
            time.sleep(5)

        report = orjson.loads(run_cli(settings, "report", "--period", "2021H1", "--format", "json"))
        codes = {unit["name"]: unit["code"] for unit in report["units"]}
        thoi_binh, city = codes["UBND huyện Thới Bình"], codes["UBND thành phố Cà Mau"]
        text = run_cli(
            settings, "report", "--period", "2021H1", "--unit", thoi_binh, "--unit", city
        )
    finally:
        for process in processes:
            process.stop()
        db.close()

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
