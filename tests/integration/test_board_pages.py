"""The board and the figure routes in process, on the small scenario (SQLite), with the clock
set where each test needs it: figures as of a stated moment, the lists of late and overdue
dossiers, the citizen's look-up, sorting and searching, errors as pages in the board's
language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub, bootstrap
from hub.bus.rejects import FileRejectSink
from hub.catalogue.store import CatalogueStore
from hub.domain.vietnam import VIETNAM
from hub.log_reader import dossier_history
from hub.settings import HubSettings
from hub.simulation.generator import events, plan
from hub.simulation.publish import PublishReport, StoreSink, batches
from hub.simulation.scenario import load_scenario
from projections import dossier_lists
from projections.periods import Period
from projections.read_models import ReadModels
from projections.reports import province_report
from tests.conftest import ROOT
from tests.factories import event, received
from tests.served import served

SMALL = ROOT / "tests" / "scenarios" / "small.yaml"
UNIT = "000.00.01.H99"
LEFT_ON = "2021-06-10 09:00"
STILL_OVERDUE = f"{UNIT}-210610-9001"
STOPPED = f"{UNIT}-210610-9002"
MID_MARCH = datetime(2021, 3, 15, 10, 0, tzinfo=VIETNAM)
LONG_AFTER = datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM)


@dataclass
class Board:
    hub: Hub
    models: ReadModels
    client: TestClient
    now: list[datetime]  # the clock the read models count by; tests set now[0]

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    settings = HubSettings(
        data_dir=tmp_path_factory.mktemp("board") / "var", board_lookup_rate="1000/minute"
    )
    hub = bootstrap(settings, configure_logs=False)
    built = plan(load_scenario(SMALL))
    with CatalogueStore(settings) as catalogue:
        catalogue.load(built.catalogue, "small.yaml")
    report = PublishReport()
    for batch in batches(list(events(built, hub.rules.calendar)), 500):
        StoreSink(hub.ingestor).send(batch, report)
    assert set(report.outcomes) == {"accepted"}
    # Two dossiers left pending, one with its clock stopped: only the other is overdue.
    left = [
        event("dossier.received", received(3), code=STILL_OVERDUE, unit=UNIT, when=LEFT_ON),
        event("dossier.received", received(3), code=STOPPED, unit=UNIT, when=LEFT_ON),
        event("dossier.processing_stopped", code=STOPPED, unit=UNIT, when="2021-06-11 09:00"),
    ]
    assert [o.status for o in hub.ingestor.submit_json(left)] == ["accepted"] * 3
    now = [LONG_AFTER]
    with served(hub, lambda: now[0]) as (models, client):
        yield Board(hub, models, client, now)
    hub.close()


@pytest.fixture
def board_at(board: Board) -> Iterator[Board]:
    """The board, its clock set back to the long-after moment after the test."""
    yield board
    board.now[0] = LONG_AFTER


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'data-unit="([^"]+)"', body)


def test_a_period_that_reaches_today_is_counted_to_the_end_of_yesterday(
    board_at: Board,
) -> None:
    board = board_at
    board.now[0] = MID_MARCH
    cut = board.get("/v1/reports/2021-03").json()
    assert cut["as_of"]["through"] == "2021-03-14"
    assert cut["as_of"]["moment"] == "2021-03-15T00:00:00+07:00"
    assert cut["as_of"]["complete"] is False
    assert cut["period"] == {"label": "2021-03", "start": "2021-03-01", "end": "2021-03-14"}
    # The same as the figures of the days up to yesterday...
    days = board.get("/v1/reports/2021-03-01..2021-03-14").json()
    assert [u["overdue"] for u in cut["units"]] == [u["overdue"] for u in days["units"]]
    assert [u["received"] for u in cut["units"]] == [u["received"] for u in days["units"]]
    # ...and not what the month's last day would show: overdue still to come is not a fact.
    db = board.models.db()
    month = province_report(db, board.models.catalogue.current(), Period.parse("2021-03"))
    projected = {row.code: row.totals.overdue for row in month.units}
    assert any(projected[u["code"]] != u["overdue"] for u in cut["units"])

    unit = cut["units"][0]["code"]
    progress = board.get(f"/v1/units/{unit}/progress", period="2021-03").json()
    assert progress["as_of"]["through"] == "2021-03-14"
    assert max(point["end"] for point in progress["series"]) == "2021-03-14"
    csv = board.get("/v1/reports/2021-03", format="csv")
    assert csv.headers["figures-as-of"] == "2021-03-15T00:00:00+07:00"

    page = board.get(f"/units/{unit}", period="2021-03").text
    buckets = re.findall(r'data-bucket="([0-9-]+)"', page)
    assert buckets
    assert max(buckets) == "2021-03-14"
    assert "Số liệu tính đến hết ngày 14/3/2021" in page
    assert "Kỳ này chưa kết thúc" in page
    english = board.get("/", period="2021-03", lang="en").text
    assert "Figures as of the end of 14/03/2021" in english


def test_a_period_not_begun_shows_no_figures(board_at: Board) -> None:
    board = board_at
    board.now[0] = MID_MARCH
    answer = board.get("/v1/reports/2021-04").json()
    assert answer["as_of"]["through"] is None
    assert answer["units"] == []
    page = board.get("/", period="2021-04").text
    assert "Chưa có ngày nào của kỳ này kết thúc" in page
    assert _rows(page, "units") == []


def test_the_board_opens_on_the_latest_period_with_figures(board: Board) -> None:
    page = board.get("/").text
    assert 'name="period" value="2021H1"' in page
    assert "6 tháng đầu năm 2021" in page
    assert 'href="?period=2021-06"' in page  # quick links around the data, not only today's
    assert "2021-06-30" in page  # data-through
    report = board.get("/v1/reports/2021H1").json()
    assert set(_rows(page, "units")) == {u["code"] for u in report["units"]}


def test_numbers_dates_and_periods_follow_each_language(board: Board) -> None:
    report = board.get("/v1/reports/2021H1").json()
    total = sum(u["received"] for u in report["units"])
    assert total >= 1000
    vi, en = board.get("/").text, board.get("/", lang="en").text
    assert f"{total:,}".replace(",", ".") in vi
    assert f"{total:,}" in en
    rate = next(u["early_or_on_time_rate"]["percent"] for u in report["units"])
    assert rate.replace(".", ",") + "%" in vi
    assert rate + "%" in en
    assert "First half of 2021" in en


def test_the_province_total_row_sums_the_units(board: Board) -> None:
    report = board.get("/v1/reports/2021H1").json()
    page = board.get("/", lang="en").text
    total = page.split('data-total="province"', 1)[1].split("</tr>", 1)[0]
    received = re.search(r'data-field="received">([0-9,]+)<', total)
    assert received is not None
    assert int(received[1].replace(",", "")) == sum(u["received"] for u in report["units"])


def test_units_sort_and_are_found_without_their_tone_marks(board: Board) -> None:
    report = {u["code"]: u for u in board.get("/v1/reports/2021H1").json()["units"]}
    order = _rows(board.get("/", sort="received", dir="desc").text, "units")
    assert [report[c]["received"] for c in order] == sorted(
        (report[c]["received"] for c in order), reverse=True
    )
    found = _rows(board.get("/", q="huyen mot").text, "units")  # "UBND huyện Một"
    assert found
    assert all("Một" in report[c]["name"] for c in found)


def test_a_district_page_shows_its_communes_and_their_total(board: Board) -> None:
    catalogue = board.models.catalogue.current()
    assert catalogue is not None
    report = {u["code"]: u for u in board.get("/v1/reports/2021H1").json()["units"]}
    district = next(u.code for u in catalogue.units.values() if u.name == "UBND huyện Một")
    page = board.get(f"/units/{district}").text
    below = _rows(page, "below")
    assert set(below) == set(catalogue.children[district])
    totals = page.split('data-total="below"', 1)[1].split("</tr>", 1)[0]
    received = re.search(r'data-field="received">([0-9.]+)<', totals)
    assert received is not None
    assert int(received[1].replace(".", "")) == sum(
        report[c]["received"] for c in below if c in report
    )


def test_a_units_procedures_are_paged_and_searched(board: Board) -> None:
    report = board.get("/v1/reports/2021H1").json()
    busiest = max(report["units"], key=lambda u: u["received"])["code"]
    first = board.get(f"/units/{busiest}").text
    listed = re.findall(r'data-procedure="([^"]+)"', first)
    assert 0 < len(listed) <= 25
    progress = board.get(f"/v1/units/{busiest}/progress", period="2021H1").json()
    if len(progress["procedures"]) > 25:
        second = board.get(f"/units/{busiest}", pp=2).text
        assert not set(listed) & set(re.findall(r'data-procedure="([^"]+)"', second))
    code = listed[0]
    only = re.findall(r'data-procedure="([^"]+)"', board.get(f"/units/{busiest}", pq=code).text)
    assert only == [code]


def test_the_lists_of_late_and_overdue_dossiers_agree_with_the_figures(board: Board) -> None:
    report = board.get("/v1/reports/2021H1").json()
    db = board.models.db()
    period = Period(date(2021, 1, 1), date(2021, 6, 30), "2021H1")
    # Overdue now (the clock is long after the data): the figures to the end of yesterday.
    until_now = {
        u["code"]: u for u in board.get("/v1/reports/2021-01-01..2026-11-30").json()["units"]
    }
    assert sum(u["overdue"] for u in until_now.values()) > 0
    for unit in report["units"]:
        late = dossier_lists.resolved_late(db, [unit["code"]], period, 1, 1_000)
        assert late.total == unit["resolved_late"], unit["code"]
        assert all(d.resolved and d.due and d.resolved > d.due for d in late.dossiers)
        overdue = dossier_lists.overdue(db, [unit["code"]], date(2026, 11, 30), 1, 1_000)
        assert overdue.total == until_now[unit["code"]]["overdue"], unit["code"]
        assert len(overdue.dossiers) == overdue.total
    listed = dossier_lists.overdue(db, [UNIT], date(2026, 11, 30), 1, 10).dossiers
    assert [d.code for d in listed] == [STILL_OVERDUE]  # not the stopped one
    catalogue = board.models.catalogue.current()
    assert catalogue is not None
    late_of = {u["code"]: u["resolved_late"] for u in report["units"]}
    district = next(u.code for u in catalogue.units.values() if u.name == "UBND huyện Một")
    page = board.get(f"/units/{district}/late", period="2021H1").text
    expected = sum(late_of.get(code, 0) for code in catalogue.subtree(district))
    assert expected > 0
    assert f"Giải quyết trễ hạn trong kỳ ({expected})" in page  # with the communes below it
    assert page.count('<tr data-dossier="') == min(expected, 25) + 0  # one page, none overdue
    assert "/tra-cuu?code=" in page
    assert "Phiếu xin lỗi số" in page or "Không có phiếu xin lỗi" in page


def test_a_citizen_looks_up_a_late_dossier_and_sees_no_personal_data(board: Board) -> None:
    db = board.models.db()
    period = Period(date(2021, 1, 1), date(2021, 6, 30), "2021H1")
    units = [u["code"] for u in board.get("/v1/reports/2021H1").json()["units"]]
    late = dossier_lists.resolved_late(db, units, period, 1, 1_000).dossiers
    code = next(
        d.code
        for d in late
        if any(
            e.record["event_type"] == "dossier.deadline_extended"
            for e in dossier_history(board.hub.store, d.code)
        )
    )
    answer = board.get("/tra-cuu", code=code)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    page = answer.text
    assert 'data-standing="late"' in page
    assert "Phiếu xin lỗi số" in page
    history = dossier_history(board.hub.store, code)
    assert page.count('data-step="') == len(history)
    for stored in history:  # no applicant, no official, no document name
        record = stored.record
        payload = record["payload"]
        private = [record["actor"]["name"], record["actor"]["id"]]
        private += [str(payload.get(k)) for k in ("applicant_name", "applicant_id_hash")]
        private += [c["name"] for c in payload.get("components", ())]
        for text in private:
            if text and text != "None" and len(text) > 3:
                assert text not in page, text
    english = board.get("/lookup", code=code, lang="en").text
    assert "Resolved late" in english
    assert "Apology slip no." in english


def test_look_ups_answer_what_they_cannot_find_and_are_rate_limited(
    tmp_path: Path, board: Board
) -> None:
    assert board.get("/tra-cuu", code="not a code").status_code == 422
    missing = board.get("/tra-cuu", code="000.00.01.H99-210101-9999")
    assert missing.status_code == 404
    assert "Không tìm thấy hồ sơ" in missing.text
    settings = board.hub.settings.model_copy(update={"board_lookup_rate": "2/minute"})
    models = ReadModels(settings)
    hub = replace(board.hub, settings=settings)  # the same store, this setting
    app = create_app(
        hub, CredentialStore(settings), FileRejectSink(tmp_path / "r.jsonl"), None, models
    )
    with TestClient(app) as client:
        answers = [
            client.get("/tra-cuu", params={"code": "000.00.01.H99-210101-9999"}) for _ in range(3)
        ]
    models.close()
    assert [a.status_code for a in answers] == [404, 404, 429]
    assert "thử lại sau" in answers[2].text  # a page, in Vietnamese


def test_bad_requests_get_a_page_in_the_boards_language(board: Board) -> None:
    for path, params in (
        ("/", {"level": "bogus"}),
        ("/", {"period": "2021-13"}),
        ("/rankings", {"minimum": "abc"}),
        ("/units/000.00.60.H99", {"pp": "0"}),
    ):
        answer = board.get(path, **params)
        assert answer.status_code == 422, (path, params)
        assert answer.headers["content-type"].startswith("text/html")
        assert "Yêu cầu không hợp lệ" in answer.text
        english = board.get(path, **params, lang="en")
        assert "Invalid request" in english.text
    missing = board.get("/no-such-page")
    assert missing.status_code == 404
    assert "Không tìm thấy trang" in missing.text
    api = board.get("/v1/reports/2021-13")
    assert api.status_code == 422
    assert api.json()["error"] == "invalid_period"


def test_rankings_are_per_level_with_ties_as_shown(board: Board) -> None:
    page = board.get("/rankings", period="2021H1", minimum=1).text
    for level in ("province", "district", "commune"):
        assert f'id="ranking-{level}"' in page
    ranking = board.get("/v1/rankings/2021H1", minimum=1, level="commune").json()["units"]
    shown = [(u["rank"], u["rate"]["percent"]) for u in ranking if u["rank"] is not None]
    for (rank, percent), (before_rank, before) in zip(shown[1:], shown, strict=False):
        assert (rank == before_rank) == (percent == before)
    assert "thuộc UBND huyện" in page  # communes named with their district


def test_the_decision_766_page_gives_formulas_and_says_what_it_cannot_compute(
    board: Board,
) -> None:
    report = board.get("/v1/reports/2021H1").json()
    page = board.get("/chi-so").text
    assert page.count('class="group"') == 5
    on_time = page.split('data-indicator="on_time"', 1)[1].split("</div>", 1)[0]
    resolved = sum(u["resolved"] for u in report["units"])
    assert f"{resolved:,}".replace(",", ".") in on_time
    assert "Công thức" in on_time
    satisfaction = page.split('data-indicator="satisfaction"', 1)[1].split("</div>", 1)[0]
    assert "Chưa tính được" in satisfaction


def test_the_figures_csv_opens_in_a_spreadsheet_with_translated_headings(board: Board) -> None:
    answer = board.get("/v1/reports/2021H1", format="csv", lang="vi")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    heading = answer.content.decode("utf-8-sig").splitlines()[0]
    assert heading.startswith("Mã,Tên,Cấp,Tiếp nhận")
    plain = board.get("/v1/reports/2021H1", format="csv").content.decode("utf-8-sig")
    assert plain.startswith("code,name,level")


def test_the_portal_sync_page_is_live_not_kept(board: Board) -> None:
    first = board.get("/dong-bo", period="2021H1")
    assert first.status_code == 200
    assert 'id="sync"' in first.text
    assert first.headers["cache-control"] == "no-store"
    assert "etag" not in first.headers  # a revalidation must not be told "not modified"
    assert "/dong-bo" in board.get("/").text  # the board links to it
