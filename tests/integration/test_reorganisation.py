"""Cà Mau, 2025: the year of the reorganisation (scenarios/camau-2025.yaml), through the
embedded hub. Old Cà Mau and old Bạc Liêu until 30 June, one province with 64 commune-level
units from 1 July, dossiers in flight at the cut-over, a service centre receiving for the
communes; the year's report in both views, reconciled, and the board and API across it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.auth.roles import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import Hub, bootstrap
from hub.catalogue.store import CatalogueStore
from hub.catalogue.versions import CatalogueVersion
from hub.domain.vietnam import VIETNAM
from hub.settings import HubSettings
from hub.simulation.generator import events, plan
from hub.simulation.publish import PublishReport, StoreSink, batches
from hub.simulation.scenario import load_scenario
from projections.choices import View
from projections.periods import Period
from projections.progress.queries import Totals
from projections.read_models import ReadModels
from projections.replay import replay
from projections.reports import ProvinceReport, province_report, report_json
from projections.views import allocate
from tests.conftest import ROOT
from tests.served import served

SCENARIO = ROOT / "scenarios" / "camau-2025.yaml"
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=VIETNAM)
CUT = date(2025, 7, 1)


@dataclass
class Year:
    hub: Hub
    settings: HubSettings
    models: ReadModels
    client: TestClient
    catalogue: CatalogueVersion
    events: list[dict[str, Any]]

    def code(self, name: str) -> str:
        return next(c for c, u in self.catalogue.units.items() if u.name == name)

    def report(self, period: str, view: View) -> ProvinceReport:
        return province_report(
            self.models.db(), self.catalogue, Period.parse(period), now=NOW, view=view
        )


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    settings = HubSettings(data_dir=tmp_path_factory.mktemp("camau2025") / "var")
    hub = bootstrap(settings, configure_logs=False)
    built = plan(load_scenario(SCENARIO))
    with CatalogueStore(settings) as store:
        catalogue, _ = store.load(built.catalogue, "camau-2025.yaml")
    made = list(events(built, hub.rules.calendar))
    report = PublishReport()
    for batch in batches(made, 1000):
        StoreSink(hub.ingestor).send(batch, report)
    assert set(report.outcomes) == {"accepted"}, report.outcomes
    with served(hub, lambda: NOW) as (models, client):
        yield Year(hub, settings, models, client, catalogue, made)
    hub.close()


def _counted(events: list[dict[str, Any]], kind: str, first: date, last: date) -> int:
    return sum(
        1
        for e in events
        if e["event_type"] == kind and first <= date.fromisoformat(e["occurred_at"][:10]) <= last
    )


def _flows(totals: Totals) -> tuple[int, ...]:
    return (totals.received, totals.resolved, totals.resolved_late, totals.refused, totals.pending)


def test_the_year_crosses_the_cut_over_as_it_happened(year: Year) -> None:
    tree = year.catalogue.tree
    assert len([u for u in tree.on(date(2025, 7, 1)).values() if u.level.value == "commune"]) == 64
    assert not [u for u in tree.on(date(2025, 7, 1)).values() if u.level.value == "district"]
    old = tree.on(date(2025, 6, 30))
    assert len([u for u in old.values() if u.level.value == "commune"]) == 164
    assert len([u for u in old.values() if u.level.value == "district"]) == 16
    # Dossiers of old Bạc Liêu's units finished by the merged province's after the cut-over,
    # and dossiers a service centre received for a commune: all accepted (the fixture).
    in_flight = [
        e
        for e in year.events
        if e["dossier_code"][:13].endswith("H05") and e["unit_code"].endswith("H12")
    ]
    assert in_flight
    assert all(e["occurred_at"][:10] >= "2025-07-01" for e in in_flight)
    centre = year.code("Trung tâm Phục vụ hành chính công tỉnh Cà Mau")
    assert sum(1 for e in year.events if e["payload"].get("authority_code")) > 100
    assert all(e["unit_code"] == centre for e in year.events if e["payload"].get("authority_code"))


@pytest.mark.parametrize("period", ["2025", "2025H1", "2025H2", "2025-07"])
def test_each_view_counts_every_dossier_once(year: Year, period: str) -> None:
    span = Period.parse(period)
    then, restated = year.report(period, View.THEN), year.report(period, View.RESTATED)
    for report in (then, restated):
        total = Totals.summed(row.totals for row in report.units)
        assert total.received == _counted(year.events, "dossier.received", span.start, span.end)
        assert total.resolved == _counted(year.events, "dossier.resolved", span.start, span.end)
        assert total.refused == _counted(year.events, "dossier.refused", span.start, span.end)
    assert _flows(Totals.summed(r.totals for r in then.units)) == _flows(
        Totals.summed(r.totals for r in restated.units)
    )
    today = year.catalogue.tree.on(NOW.date())
    assert all(row.code in today for row in restated.units)  # onto today's units only
    assert all(row.until is None for row in restated.units)
    end = year.catalogue.tree.on(span.end)
    if span.start >= CUT:  # as organised then: after the cut-over, only the new units
        assert all(row.code in end for row in then.units)
        assert then.levels["district"].received == 0


def test_levels_follow_the_structure_of_the_date(year: Year) -> None:
    then = year.report("2025", View.THEN)
    assert then.levels["district"].received > 0  # the districts' first half
    districts = [row for row in then.units if row.level == "district"]
    assert {row.until for row in districts} == {date(2025, 6, 30)}
    restated = year.report("2025", View.RESTATED)
    assert "district" not in {row.level for row in restated.units}
    assert restated.levels["district"].received == 0


def test_restated_first_half_of_a_merged_commune_is_the_sum_of_its_predecessors(
    year: Year,
) -> None:
    then = {row.code: row.totals for row in year.report("2025H1", View.THEN).units}
    restated = {row.code: row.totals for row in year.report("2025H1", View.RESTATED).units}
    tree = year.catalogue.tree
    dam_doi = year.code("UBND xã Đầm Dơi")
    before = tree.predecessors(dam_doi, NOW.date())
    assert len(before) >= 3  # the district, and old communes
    assert set(before.values()) == {1}
    summed = Totals.summed(then[code] for code in before if code in then)
    assert restated[dam_doi] == summed
    assert summed.received > 0
    # A split: the old ward 9 went 60 / 40 to Tân Thành and Hòa Thành, allocated in whole
    # dossiers; what the two got adds up to their wholly merged predecessors and the ward.
    ward9 = year.code("UBND phường 9 (Cà Mau)")
    tan_thanh, hoa_thanh = year.code("UBND phường Tân Thành"), year.code("UBND phường Hòa Thành")
    shares = tree.successors(ward9, NOW.date())
    assert set(shares) == {tan_thanh, hoa_thanh}
    for code in (tan_thanh, hoa_thanh):
        whole = [c for c, s in tree.predecessors(code, NOW.date()).items() if s == 1]
        expected = Totals.summed(then[c] for c in whole if c in then)
        assert (
            restated[code].received
            == expected.received + allocate(then[ward9].received, shares)[code]
        )


def test_dossiers_in_flight_at_the_cut_over_continue_under_the_successor(year: Year) -> None:
    hong_dan = year.code("UBND xã Hồng Dân")
    carried = set(year.catalogue.tree.predecessors(hong_dan, NOW.date()))
    opened_by = {
        e["dossier_code"]: e["payload"].get("authority_code") or e["unit_code"]
        for e in year.events
        if e["event_type"] in ("dossier.registered", "dossier.received", "dossier.refused")
    }
    resolved_after = [
        e
        for e in year.events
        if e["event_type"] == "dossier.resolved"
        and e["occurred_at"][:10] >= "2025-07-01"
        and opened_by[e["dossier_code"]] in carried
    ]
    in_flight = [e for e in resolved_after if opened_by[e["dossier_code"]] != hong_dan]
    assert in_flight  # old units' dossiers resolved by the new commune
    assert {e["unit_code"] for e in in_flight} == {hong_dan}
    then = {row.code: row.totals for row in year.report("2025H2", View.THEN).units}
    assert then[hong_dan].resolved == len(resolved_after)


def test_a_service_centre_counts_its_receptions_and_the_communes_resolve(year: Year) -> None:
    centre = year.code("Trung tâm Phục vụ hành chính công tỉnh Cà Mau")
    rows = {row.code: row.totals for row in year.report("2025H2", View.THEN).units}
    received_there = Counter(
        e["payload"]["channel"]
        for e in year.events
        if e["event_type"] == "dossier.received" and e["unit_code"] == centre
    )
    assert rows[centre].received == sum(received_there.values()) > 0
    assert rows[centre].resolved == 0
    assert rows[centre].pending == 0
    authorities = {
        e["dossier_code"]: e["payload"]["authority_code"]
        for e in year.events
        if e["payload"].get("authority_code")
    }
    resolved_for = Counter(
        authorities[e["dossier_code"]]
        for e in year.events
        if e["event_type"] == "dossier.resolved" and e["dossier_code"] in authorities
    )
    commune, count = resolved_for.most_common(1)[0]
    assert rows[commune].resolved >= count > 0


def test_the_api_answers_both_views(year: Year) -> None:
    client = year.client
    then = client.get("/v1/reports/2025").json()
    restated = client.get("/v1/reports/2025", params={"view": "restated"}).json()
    assert (then["view"], restated["view"]) == ("then", "restated")
    assert restated["restated_onto"] == "2026-01-15"
    assert any(u["until"] == "2025-06-30" for u in then["units"])
    assert all(u["until"] is None for u in restated["units"])
    assert sum(u["received"] for u in then["units"]) == sum(
        u["received"] for u in restated["units"]
    )
    dam_doi = year.code("UBND xã Đầm Dơi")
    row = next(u for u in restated["units"] if u["code"] == dam_doi)
    series = client.get(
        f"/v1/units/{dam_doi}/progress",
        params={"period": "2025", "by": "month", "view": "restated"},
    ).json()
    assert sum(p["received"] for p in series["series"]) == row["received"]
    assert len(series["carried"]) >= 3
    assert series["carried"][dam_doi] == "1"
    alone = client.get(
        f"/v1/units/{dam_doi}/progress", params={"period": "2025", "by": "month"}
    ).json()
    first_half = [p for p in alone["series"] if p["end"] <= "2025-06-30"]
    assert first_half
    assert all(p["received"] == 0 for p in first_half)  # it did not exist yet
    ranking = client.get("/v1/rankings/2025", params={"view": "restated", "level": "commune"})
    assert ranking.json()["view"] == "restated"
    assert len(ranking.json()["units"]) == 64
    csv = client.get("/v1/reports/2025", params={"view": "restated", "format": "csv"})
    assert csv.status_code == 200
    assert dam_doi in csv.text
    bad = client.get("/v1/reports/2025", params={"view": "someday"})
    assert bad.status_code == 422


def test_the_board_shows_a_unit_across_the_change(year: Year) -> None:
    client = year.client
    dam_doi = year.code("UBND xã Đầm Dơi")
    then = client.get(f"/units/{dam_doi}", params={"period": "2025"}).text
    restated = client.get(f"/units/{dam_doi}", params={"period": "2025", "view": "restated"}).text
    # As organised then, the new commune carries the old units' dossiers still in progress
    # from 1 July; restated, all of their figures.
    assert "Từ ngày sắp xếp, gồm cả hồ sơ đang giải quyết" in then
    assert "Gồm số liệu của các đơn vị trước đây" not in then
    assert "Gồm số liệu của các đơn vị trước đây" in restated
    assert "UBND huyện Đầm Dơi" in restated
    assert "Quy đổi theo đơn vị hiện nay" in then  # the switch
    index = client.get("/", params={"period": "2025"}).text
    assert "đến hết 30/6/2025" in index
    restated_index = client.get("/", params={"period": "2025", "view": "restated"}).text
    assert "đến hết 30/6/2025" not in restated_index
    assert 'data-view="restated"' in restated_index
    english = client.get("/", params={"period": "2025", "view": "restated", "lang": "en"}).text
    assert "Restated onto today" in english
    assert client.get("/", params={"view": "someday"}).status_code == 422


@pytest.mark.parametrize("view", [View.THEN, View.RESTATED])
def test_rebuild_replay_and_the_live_read_models_agree(year: Year, view: View) -> None:
    published = report_json(year.report("2025", view))
    result = replay(year.settings, year.hub.store, Period.parse("2025"), published)
    assert result.ok, [c.differences[:5] for c in result.comparisons]
    assert result.comparisons[0].figures > 1000


def test_an_old_dossier_code_is_reused_after_the_change(year: Year) -> None:
    """A dossier of old Bạc Liêu, approved before the merger, reused by a commune of the
    merged province: the old code stays valid for its history."""
    resolved = {
        e["dossier_code"]
        for e in year.events
        if e["event_type"] == "dossier.resolved"
        and e["payload"]["decision"] == "approved"
        and e["occurred_at"][:10] < "2025-06-20"
        and e["dossier_code"][:13].endswith("H05")
    }
    earlier = next(
        e
        for e in year.events
        if e["dossier_code"] in resolved and "applicant_id_hash" in e["payload"]
    )
    hong_dan = year.code("UBND xã Hồng Dân")
    with CredentialStore(year.settings) as credentials:
        _, key = credentials.issue("ubnd-xa-hong-dan", Role.REUSER, [hong_dan])
    answer = year.client.post(
        "/v1/reuse/lookups",
        json={
            "requesting_unit": hong_dan,
            "earlier_dossier": earlier["dossier_code"],
            "procedure_code": earlier["payload"]["procedure_code"],
            "applicant_id_hash": earlier["payload"]["applicant_id_hash"],
            "consent_reference": "DONG-Y-2025",
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "granted", answer.json()
    assert answer.json()["results"][0]["issuing_unit"] == earlier["dossier_code"][:13]


def test_the_late_list_of_a_successor_carries_its_former_units(year: Year) -> None:
    from projections import dossier_lists, views

    hong_dan = year.code("UBND xã Hồng Dân")
    db, tree = year.models.db(), year.catalogue.tree
    for view, period in ((View.THEN, "2025H2"), (View.RESTATED, "2025")):
        former = views.carried(tree, [hong_dan], view, NOW.date())
        assert len(former) >= 3
        listed = dossier_lists.resolved_late(
            db, [hong_dan], Period.parse(period), 1, 10_000, former
        )
        rows = {row.code: row.totals for row in year.report(period, view).units}
        assert listed.total == rows[hong_dan].resolved_late > 0, view
        if view is View.RESTATED:  # the former units' late dossiers of the first half too
            assert any(d.unit_code != hong_dan for d in listed.dossiers)
    page = year.client.get(f"/units/{hong_dan}/late", params={"period": "2025H2"})
    assert page.status_code == 200
    assert "Quy đổi theo đơn vị hiện nay" in page.text  # the switch


def test_the_rebuilds_log_scan_reads_the_authority_as_the_live_worker(year: Year) -> None:
    from hub.log_reader import last_position, read_log, sqlite_file
    from projections.progress.facts import fact_of
    from projections.progress.log_scan import scan_sqlite

    live = [fact_of(e.position, e.record, e.transition) for e in read_log(year.hub.store)]
    log = sqlite_file(year.hub.store)
    assert log is not None
    assert list(scan_sqlite(*log, last_position(year.hub.store))) == live
    assert sum(1 for fact in live if fact.authority_code) > 100
