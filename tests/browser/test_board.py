"""The transparency board in a real browser: Debian's Chromium, headless, driven by Playwright.

The hub runs as an operator runs it (``dvchub serve``, embedded) on a small scenario; the
board must show the same figures as ``dvchub report``, its filters must work, a unit page
must draw its charts, rankings must be in order, and it must work with a keyboard and on a
phone's screen. A screenshot of every page goes to build/screenshots/.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hub.settings import HubSettings
from tests.conftest import ROOT
from tests.processes import CliProcess, alive, run_cli
from tests.waiting import eventually

SMALL = ROOT / "tests" / "scenarios" / "small.yaml"
PERIOD = "2021-03-01..2021-04-30"
SHOTS = ROOT / "build" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HubSettings]]:
    tmp = tmp_path_factory.mktemp("board")
    port, portal_port = _free_port(), _free_port()
    settings = HubSettings(
        data_dir=tmp / "var",
        api_port=port,
        log_level="WARNING",
        dvcqg_url=f"http://127.0.0.1:{portal_port}",
        dvcqg_password="board-test",
    )
    run_cli(settings, "simulate", "--scenario", str(SMALL))
    portal = CliProcess(
        settings,
        tmp / "portal.log",
        "portal-sim",
        "--port",
        str(portal_port),
        "--password",
        "board-test",
    )
    portal.start()
    server = CliProcess(settings, tmp / "serve.log", "serve")  # with the connector
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                report = httpx.get(f"{url}/v1/reports/{PERIOD}", timeout=5).json()
            except httpx.HTTPError:
                return False
            return bool(report["online_total"] == 364)

        eventually(up, timeout=60, what="the board with every figure", alive=alive(server))
        yield url, settings
    finally:
        server.stop()
        portal.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = subprocess.run(
        [ROOT / "scripts" / "services" / "chromium.sh", "path"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _number(text: str) -> int:
    return int(text.strip().replace(".", ""))


def _board_rows(page: Page) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for row in page.locator("#units tbody tr[data-unit]").all():
        code = row.get_attribute("data-unit")
        assert code is not None
        cells = row.locator("[data-field]").all()
        rows[code] = {
            str(cell.get_attribute("data-field")): cell.inner_text().split("\n")[0]
            for cell in cells
        }
    return rows


def _report(settings: HubSettings, period: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(
        run_cli(settings, "report", "--period", period, "--format", "json", "--no-catch-up")
    )
    return data


def test_the_board_shows_the_report_commands_figures(
    board: tuple[str, HubSettings], page: Page
) -> None:
    url, settings = board
    page.goto(f"{url}/?period={PERIOD}")
    _shot(page, "board")
    shown = _board_rows(page)
    report = _report(settings, PERIOD)
    assert set(shown) == {unit["code"] for unit in report["units"]}
    for unit in report["units"]:
        row = shown[unit["code"]]
        assert _number(row["received"]) == unit["received"]
        assert _number(row["online"]) == unit["received_online"]
        assert _number(row["resolved"]) == unit["resolved"]
        assert _number(row["late"]) == unit["resolved_late"]
        assert _number(row["pending_within"]) == unit["pending_within_deadline"]
        assert _number(row["overdue"]) == unit["overdue"]
        assert row["online_rate"] == (unit["online_rate"]["percent"] or "–")
        assert row["on_time_rate"] == (unit["early_or_on_time_rate"]["percent"] or "–")


def test_the_period_and_level_filters(board: tuple[str, HubSettings], page: Page) -> None:
    url, settings = board
    page.goto(f"{url}/?period={PERIOD}")
    page.select_option("#level", "district")
    page.click("form.filters button")
    page.wait_for_url("**level=district**")
    _shot(page, "board-district")
    report = _report(settings, PERIOD)
    districts = {u["code"] for u in report["units"] if u["level"] == "district"}
    assert set(_board_rows(page)) == districts

    page.fill("#period", "2021-03")
    page.click("form.filters button")
    page.wait_for_url("**period=2021-03**")
    march = {u["code"]: u for u in _report(settings, "2021-03")["units"]}
    rows = _board_rows(page)
    assert set(rows) == districts
    for code, row in rows.items():
        assert _number(row["received"]) == march[code]["received"]
    assert "2021-03-01 – 2021-03-31" in page.locator("#units caption").inner_text()


def test_a_unit_page_draws_its_charts(board: tuple[str, HubSettings], page: Page) -> None:
    url, _ = board
    page.goto(f"{url}/?period={PERIOD}")
    page.click("#units a:text('UBND huyện Một')")
    page.wait_for_url("**/units/000.00.60.H99**")
    _shot(page, "unit")
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
    assert page.locator("figure.chart svg rect.rect").count() > 0  # the bars are drawn
    assert page.locator("#series tbody tr").count() == 61  # one row per day of the period
    assert page.locator("#procedures tbody tr").count() >= 3


def test_rankings_are_in_order(board: tuple[str, HubSettings], page: Page) -> None:
    url, _ = board
    page.goto(f"{url}/rankings?period={PERIOD}&minimum=60")
    _shot(page, "rankings")
    for table in ("#ranking-on_time", "#ranking-online"):
        ranks, rates = [], []
        for row in page.locator(f"{table} tbody tr").all():
            ranks.append(int(row.locator("[data-field=rank]").inner_text()))
            rates.append(float(row.locator("[data-field=rate]").inner_text().split("\n")[0]))
        assert rates == sorted(rates, reverse=True)
        assert ranks[0] == 1
        for i in range(1, len(ranks)):  # ties share a rank; otherwise rank = position
            assert ranks[i] == (ranks[i - 1] if rates[i] == rates[i - 1] else i + 1)
    # The communes with fewer than 60 dossiers are listed apart, unranked.
    unranked = page.locator("details").first
    unranked.locator("summary").click()
    assert "UBND xã 2" in unranked.inner_text()


def test_the_province_table_keyboard_language_and_phone(
    board: tuple[str, HubSettings], browser: Browser
) -> None:
    url, settings = board
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{url}/province?period={PERIOD}")
    _shot(page, "province-phone")
    report = _report(settings, PERIOD)
    total = page.locator("#levels [data-field=online_total]").inner_text()
    assert _number(total) == report["online_total"]
    # Nothing overflows the phone's screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The first Tab reaches the skip link, which leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    # The language switch.
    assert page.locator("html").get_attribute("lang") == "vi"
    page.click("text=English")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Province half-year table"
    _shot(page, "province-phone-en")
    context.close()


def test_the_board_shows_the_national_portal_sync_per_unit(
    board: tuple[str, HubSettings], page: Page
) -> None:
    url, _ = board

    def synced() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = httpx.get(
            f"{url}/v1/sync/units", params={"period": PERIOD}
        ).json()["rows"]
        return rows if rows and sum(r["pending"] for r in rows) == 0 else []

    # The connector syncs the integrated procedures' dossiers.
    rows = eventually(synced, timeout=120, what="the portal sync finished")
    expected: dict[str, int] = {}
    for row in rows:
        expected[row["unit_code"]] = expected.get(row["unit_code"], 0) + row["synced"]
    page.goto(f"{url}/?period={PERIOD}")
    _shot(page, "board-sync")
    shown = {
        str(row.get_attribute("data-unit")): _number(
            row.locator("[data-field=synced]").inner_text()
        )
        for row in page.locator("#sync tbody tr[data-unit]").all()
    }
    assert shown == expected
    assert sum(shown.values()) > 0
