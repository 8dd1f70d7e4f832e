"""The board's words and formats: every table the board reads by a domain key covers every
key, and values are written as each language writes them (Babel)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from events.enums import DossierStatus
from hub.board.i18n import INDICATORS_VI, STANDINGS, STATUSES, STEPS_EN, WORDS
from hub.board.locale import Formats
from hub.board.pages import matches
from hub.domain.event_types import REGISTRY
from hub.domain.standing import Standing
from hub.domain.vietnam import VIETNAM
from projections.labels import LABELS
from projections.periods import Granularity, Period
from projections.rates import Rate
from projections.reports import CSV_COLUMNS, ProvinceReport, UnitRow
from projections.scores import indicators


def test_every_word_is_in_both_languages() -> None:
    for key, texts in WORDS.items():
        assert set(texts) == {"vi", "en"}, key
        assert all(text.strip() for text in texts.values()), key


def test_every_event_type_status_and_standing_has_its_words() -> None:
    assert set(STEPS_EN) == set(REGISTRY)
    assert set(STATUSES) == {status.name.lower() for status in DossierStatus}
    assert set(STANDINGS) == {standing.value for standing in Standing}


def _report(units: list[UnitRow]) -> ProvinceReport:
    return ProvinceReport(
        period=Period.parse("2021H1"),
        position=0,
        catalogue=None,
        generated_at=datetime.now(VIETNAM),
        levels={},
        units=units,
        figures=None,
    )


def test_every_csv_column_and_indicator_has_its_headings() -> None:
    assert set(CSV_COLUMNS) <= set(LABELS)
    report = _report([])
    assert {i.key for i in indicators(report)} == set(INDICATORS_VI)
    for indicator in indicators(report):
        assert (indicator.rate is None) == (indicator.missing is not None), indicator.key


@pytest.mark.parametrize(
    ("lang", "number", "rate", "half", "month", "quarter", "day"),
    [
        (
            "vi",
            "8.144",
            "54,36%",
            "6 tháng đầu năm 2021",
            "Tháng 3 năm 2021",
            "Quý 2 năm 2021",
            "15/3/2021",
        ),
        (
            "en",
            "8,144",
            "54.36%",
            "First half of 2021",
            "March 2021",
            "2nd quarter 2021",
            "15/03/2021",
        ),
    ],
)
def test_values_are_written_as_each_language_writes_them(
    lang: str, number: str, rate: str, half: str, month: str, quarter: str, day: str
) -> None:
    f = Formats(lang)
    assert f.number(8144) == number
    assert f.percent(Rate(5436, 10000)) == rate
    assert f.percent(Rate(0, 0)) == "–"
    assert f.period(Period.parse("2021H1")) == half
    assert f.period(Period.parse("2021-03")) == month
    assert f.period(Period.parse("2021Q2")) == quarter
    assert f.day(Period.parse("2021-03-15").start) == day
    assert f.number(Decimal("1234.5")) in ("1.234,5", "1,234.5")


def test_a_range_of_days_and_a_chart_bucket_are_named_by_their_days() -> None:
    f = Formats("vi")
    assert f.period(Period.parse("2021-03-01..2021-04-30")) == "1/3/2021\u2009–\u200930/4/2021"
    assert f.bucket(Period.parse("2021-03-05"), Granularity.DAY) == "5/3"
    assert f.moment(datetime(2026, 12, 1, 0, 0, tzinfo=VIETNAM)) == "00:00 1/12/2026"


def test_units_are_found_as_vietnamese_readers_type() -> None:
    assert matches("huyen mot", "UBND huyện Một")
    assert matches("ĐẦM DƠI", "Xã Đầm Dơi")
    assert matches("dam doi", "Xã Đầm Dơi")
    assert not matches("dam doi", "Xã Thới Bình")
    assert matches("", "anything")


def test_rates_equal_as_published_share_a_rank() -> None:
    from projections.choices import RankBy
    from projections.progress.queries import Totals
    from projections.reports import ranking

    def row(code: str, early: int, late: int) -> UnitRow:
        return UnitRow(code, code, "commune", Totals(resolved_early=early, resolved_late=late))

    # 3333/10000 and 333/999 differ, but both are published as 33.33: they share a rank.
    report = _report([row("a", 50, 50), row("b", 3333, 6667), row("c", 333, 666), row("d", 1, 9)])
    ranked = ranking(report, RankBy.ON_TIME, minimum=1)
    assert [(r.code, r.rank, r.rate.shown()) for r in ranked] == [
        ("a", 1, "50.00"),
        ("b", 2, "33.33"),
        ("c", 2, "33.33"),
        ("d", 4, "10.00"),
    ]
