"""The transparency board in a real browser: Debian's Chromium, headless, driven by Playwright.

The hub runs as an operator runs it (``dvchub serve``, embedded) on a small scenario; the
board must show the same figures as ``dvchub report``, its filters must work, a unit page
must draw its charts, rankings must be in order, and it must work with a keyboard and on a
phone's screen. A screenshot of every page goes to build/screenshots/.
"""

from __future__ import annotations

import random
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

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


def _number(text: str, lang: str = "vi") -> int:
    """A whole number as the board writes it: "8.144" in Vietnamese, "8,144" in English."""
    return int(text.strip().replace("." if lang == "vi" else ",", ""))


def _percent(text: str, lang: str = "vi") -> str | None:
    """A rate as the board writes it ("54,36%", "54.36%") as the API gives it ("54.36")."""
    shown = text.strip().split("\n")[0]
    if shown == "–":
        return None
    return shown.rstrip("%").replace(",", ".") if lang == "vi" else shown.rstrip("%")


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
        assert _percent(row["online_rate"]) == unit["online_rate"]["percent"]
        assert _percent(row["on_time_rate"]) == unit["early_or_on_time_rate"]["percent"]


def test_twenty_cells_of_the_english_board_equal_the_apis(
    board: tuple[str, HubSettings], page: Page
) -> None:
    url, _ = board
    page.goto(f"{url}/?period={PERIOD}&lang=en")
    shown = _board_rows(page)
    api = {u["code"]: u for u in httpx.get(f"{url}/v1/reports/{PERIOD}").json()["units"]}
    fields = {
        "received": lambda u: u["received"],
        "resolved": lambda u: u["resolved"],
        "late": lambda u: u["resolved_late"],
        "overdue": lambda u: u["overdue"],
        "pending_within": lambda u: u["pending_within_deadline"],
        "on_time_rate": lambda u: u["early_or_on_time_rate"]["percent"],
        "online_rate": lambda u: u["online_rate"]["percent"],
    }
    cells = sorted((code, field) for code in shown for field in fields)
    sample = random.Random(20).sample(cells, 20)
    for code, field in sample:
        text = shown[code][field]
        value = _percent(text, "en") if field.endswith("rate") else _number(text, "en")
        assert value == fields[field](api[code]), (code, field)


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
    assert "Tháng 3 năm 2021" in page.locator("#units caption").inner_text()
    assert "31/3/2021" in page.locator(".as-of").inner_text()  # counted to its last day


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
    for by in ("on_time", "online"):
        page.goto(f"{url}/rankings?period={PERIOD}&minimum=60&level=commune&by={by}")
        ranks, rates = [], []
        for row in page.locator("#ranking-commune tbody tr[data-unit]").all():
            ranks.append(int(row.locator("[data-field=rank]").inner_text()))
            shown = _percent(row.locator("[data-field=rate]").inner_text())
            assert shown is not None
            rates.append(float(shown))
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
    page.goto(f"{url}/dong-bo?period={PERIOD}")
    _shot(page, "board-sync")
    shown = {
        str(row.get_attribute("data-unit")): _number(
            row.locator("[data-field=synced]").inner_text()
        )
        for row in page.locator("#sync tbody tr[data-unit]").all()
    }
    assert shown == expected
    assert sum(shown.values()) > 0


DEVICES: dict[str, ViewportSize] = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def _violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {len(v['nodes'])} element(s), e.g. "
        f"{v['nodes'][0]['target']}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def late_dossier(board: tuple[str, HubSettings], browser: Browser) -> str:
    """A dossier resolved late, from a district's list of late dossiers."""
    url, _ = board
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/units/000.00.60.H99/late?period={PERIOD}")
    code = page.locator("#resolved-late tbody tr[data-dossier]").first.get_attribute("data-dossier")
    context.close()
    assert code is not None
    return code


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_every_page_reads_well_and_passes_axe_on_desktop_and_phone(
    board: tuple[str, HubSettings], browser: Browser, late_dossier: str, device: str, lang: str
) -> None:
    url, _ = board
    viewport = DEVICES[device]
    context = browser.new_context(viewport=viewport, is_mobile=device == "phone")
    page = context.new_page()
    pages = {
        "board": f"/?period={PERIOD}",
        "unit": f"/units/000.00.60.H99?period={PERIOD}",
        "late": f"/units/000.00.60.H99/late?period={PERIOD}",
        "province": f"/province?period={PERIOD}",
        "rankings": f"/rankings?period={PERIOD}&minimum=60",
        "scores": f"/chi-so?period={PERIOD}",
        "sync": f"/dong-bo?period={PERIOD}",
        "lookup": f"/tra-cuu?code={late_dossier}",
        "error": "/?level=bogus",
    }
    found: dict[str, list[str]] = {}
    for name, path in pages.items():
        answer = page.goto(f"{url}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert answer is not None
        assert answer.status == (422 if name == "error" else 200), name
        assert page.locator("html").get_attribute("lang") == lang
        _shot(page, f"{name}-{device}-{lang}")
        # Nothing overflows the screen: wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
        if name in ("board", "unit", "late", "province", "rankings", "scores", "sync"):
            assert page.locator(".as-of").count() == 1, name  # the figures' moment, stated
        found[name] = _violations(page)
    assert found == {name: [] for name in pages}
    context.close()


def test_on_a_phone_the_figures_that_matter_come_first(
    board: tuple[str, HubSettings], browser: Browser
) -> None:
    url, _ = board
    narrowest: ViewportSize = {"width": 360, "height": 780}  # the narrowest phones in use
    context = browser.new_context(viewport=narrowest, is_mobile=True)
    page = context.new_page()
    page.goto(f"{url}/?period={PERIOD}")
    _shot(page, "board-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= narrowest["width"]
    row = page.locator("#units tbody tr[data-unit]").first
    for field in ("on_time_rate", "overdue"):
        box = row.locator(f"[data-field={field}]").bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= narrowest["width"], field  # on screen
    name = row.locator("th").bounding_box()
    assert name is not None
    assert name["height"] < 80  # a unit's name takes a few lines, not five
    label = page.evaluate("getComputedStyle(document.querySelector('#units thead th')).fontSize")
    assert float(label.rstrip("px")) >= 12
    page.goto(f"{url}/units/000.00.60.H99?period={PERIOD}")
    chart_text = page.locator("figure.chart svg text").first
    size = chart_text.bounding_box()
    assert size is not None
    assert size["height"] >= 8  # chart labels stay readable at a phone's width
    context.close()


def test_a_citizen_looks_up_a_dossier_by_its_code(
    board: tuple[str, HubSettings], page: Page, late_dossier: str
) -> None:
    url, _ = board
    page.goto(f"{url}/tra-cuu")
    page.fill("#code", late_dossier)
    page.click("form.filters button")
    page.wait_for_url("**code=**")
    assert page.locator("#dossier").get_attribute("data-dossier") == late_dossier
    assert page.locator("[data-field=standing]").get_attribute("data-standing") == "late"
    assert page.locator("#steps tbody tr").count() >= 3
    page.fill("#code", "not a code")
    page.click("form.filters button")
    assert page.locator(".problem").inner_text().startswith("Mã hồ sơ không đúng dạng")


def test_the_api_reference_renders_with_no_internet(
    board: tuple[str, HubSettings], page: Page
) -> None:
    url, _ = board
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((url, "data:", "blob:"))
            else None
        ),
    )
    page.goto(f"{url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.goto(f"{url}/redoc")
    page.get_by_text("Units ranked by on-time rate").first.wait_for(
        state="attached", timeout=30_000
    )
    assert page.locator("redoc h1, .api-content h1").count() > 0  # rendered, not a blank page
    assert outside == []


CA_MAU_2025 = ROOT / "scenarios" / "camau-2025.yaml"


@pytest.fixture(scope="module")
def reorganised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HubSettings]]:
    """The board of Cà Mau's 2025 (scenarios/camau-2025.yaml), served as an operator runs it."""
    tmp = tmp_path_factory.mktemp("camau2025")
    port = _free_port()
    settings = HubSettings(data_dir=tmp / "var", api_port=port, log_level="WARNING")
    run_cli(settings, "simulate", "--scenario", str(CA_MAU_2025))
    server = CliProcess(settings, tmp / "serve.log", "serve")
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            """The read model at the store's last position (asked of an answer that is never
            kept: the reports are kept 30 s once made)."""
            try:
                store = httpx.get(f"{url}/readyz", timeout=5).json().get("store_position")
                progress = httpx.get(
                    f"{url}/v1/units/000.00.00.H12/progress",
                    params={"period": "2025", "by": "year"},
                    timeout=5,
                ).json()
            except httpx.HTTPError:
                return False
            return bool(store) and progress.get("position") == store

        eventually(up, timeout=90, what="the 2025 board", alive=alive(server))
        yield url, settings
    finally:
        server.stop()


def test_a_unit_page_across_the_reorganisation_in_both_views(
    reorganised: tuple[str, HubSettings], browser: Browser
) -> None:
    """One test (one hub of 2025 to build): the unit page in both views, on a desktop and a
    phone, in both languages; axe on each view once per device."""
    url, _ = reorganised
    report = httpx.get(f"{url}/v1/reports/2025", params={"view": "restated"}).json()
    dam_doi = next(u for u in report["units"] if u["name"] == "UBND xã Đầm Dơi")
    for device, lang in (("desktop", "vi"), ("desktop", "en"), ("phone", "vi"), ("phone", "en")):
        viewport = DEVICES[device]
        context = browser.new_context(viewport=viewport, is_mobile=device == "phone")
        page = context.new_page()
        shown: dict[str, int] = {}
        for view in ("then", "restated"):
            page.goto(f"{url}/units/{dam_doi['code']}?period=2025&by=month&view={view}&lang={lang}")
            _shot(page, f"unit-2025-{view}-{device}-{lang}")
            field = page.locator("[data-field=received]").first.inner_text()
            shown[view] = _number(field, lang)
            assert page.locator(".carried").count() == 1  # whose figures it carries
            assert page.locator(".views").count() == 1  # the switch between the views
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            if lang == ("vi" if device == "desktop" else "en"):
                assert _violations(page) == [], (device, lang, view)
        assert shown["restated"] == dam_doi["received"]
        assert shown["then"] < shown["restated"]  # it did not exist in the first half
        if device == "desktop" and lang == "vi":  # the board of the year, once
            page.goto(f"{url}/?period=2025")
            _shot(page, "board-2025-then-desktop-vi")
            assert page.locator(".until").count() > 100  # the old units, until 30 June
        context.close()
