"""The units' history: the tree of any day and where an old unit's figures go, through
merges, splits, renames, moves and dissolutions (the 2025 reorganisation's kinds of change)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import ValidationError

from events.catalogue import CatalogueContent, UnitEntry, UnitLevel
from hub.adapters.catalogue_files import CatalogueFileError, read_catalogue
from hub.catalogue.store import content_digest
from hub.domain.unit_tree import UnitTree

PROVINCE, DISTRICT = "000.00.00.H12", "000.00.60.H12"
A, B, C, D = "000.60.01.H12", "000.60.02.H12", "000.60.03.H12", "000.60.04.H12"
NEW, EAST, WEST = "000.00.90.H12", "000.00.91.H12", "000.00.92.H12"
CUT = date(2025, 7, 1)
BEFORE = date(2025, 6, 30)


def unit(code: str, name: str, level: UnitLevel, parent: str | None = None) -> UnitEntry:
    return UnitEntry(code=code, name=name, level=level, parent=parent)


UNITS = (
    unit(PROVINCE, "UBND tỉnh", UnitLevel.PROVINCE),
    unit(DISTRICT, "UBND huyện Đầm Dơi", UnitLevel.DISTRICT, PROVINCE),
    unit(A, "UBND xã Tân Thuận", UnitLevel.COMMUNE, DISTRICT),
    unit(B, "UBND xã Tân Đức", UnitLevel.COMMUNE, DISTRICT),
    unit(C, "UBND thị trấn Đầm Dơi", UnitLevel.COMMUNE, DISTRICT),
    unit(D, "UBND xã Quách Phẩm", UnitLevel.COMMUNE, DISTRICT),
)
CHANGES: list[dict[str, object]] = [
    # Two communes and the town become one new commune named after the old district town.
    {
        "kind": "established",
        "unit": NEW,
        "name": "UBND xã Đầm Dơi",
        "level": "commune",
        "parent": PROVINCE,
        "effective": "2025-07-01",
    },
    {
        "kind": "merged",
        "units": [A, B, C],
        "into": NEW,
        "effective": "2025-07-01",
        "note": "Nghị quyết 1655/NQ-UBTVQH15",
    },
    # Another is split between two new communes, 60 % and 40 % of its area and population.
    {
        "kind": "established",
        "unit": EAST,
        "name": "UBND xã Quách Phẩm",
        "level": "commune",
        "parent": PROVINCE,
        "effective": "2025-07-01",
    },
    {
        "kind": "established",
        "unit": WEST,
        "name": "UBND xã Tạ An Khương",
        "level": "commune",
        "parent": PROVINCE,
        "effective": "2025-07-01",
    },
    {
        "kind": "split",
        "unit": D,
        "effective": "2025-07-01",
        "among": [{"unit": EAST, "share": "0.6"}, {"unit": WEST, "share": "0.4"}],
    },
    # The district level ends.
    {"kind": "dissolved", "unit": DISTRICT, "effective": "2025-07-01"},
    {"kind": "renamed", "unit": PROVINCE, "name": "UBND tỉnh Cà Mau", "effective": "2025-07-01"},
]


def content(changes: list[dict[str, object]] = CHANGES) -> CatalogueContent:
    return CatalogueContent.model_validate(
        {"units": [u.model_dump() for u in UNITS], "changes": changes}
    )


def tree() -> UnitTree:
    found = content()
    return UnitTree(found.units, found.changes)


def test_the_tree_of_a_day_before_and_after_the_change() -> None:
    before, after = tree().on(BEFORE), tree().on(CUT)
    assert set(before) == {PROVINCE, DISTRICT, A, B, C, D}
    assert before[A].parent == DISTRICT
    assert set(after) == {PROVINCE, NEW, EAST, WEST}
    assert after[NEW].parent == PROVINCE
    assert {u.level for u in after.values()} == {UnitLevel.PROVINCE, UnitLevel.COMMUNE}
    assert after[PROVINCE].name == "UBND tỉnh Cà Mau"
    assert before[PROVINCE].name == "UBND tỉnh"


def test_an_old_units_figures_go_to_its_successors_by_share() -> None:
    units = tree()
    assert units.successors(A, BEFORE) == {A: Fraction(1)}
    for merged in (A, B, C):
        assert units.successors(merged, CUT) == {NEW: Fraction(1)}
    assert units.successors(D, CUT) == {EAST: Fraction(3, 5), WEST: Fraction(2, 5)}
    assert units.successors(DISTRICT, CUT) == {}  # dissolved: its own figures go nowhere
    assert units.successors(NEW, CUT) == {NEW: Fraction(1)}


def test_successions_are_followed_through_later_changes() -> None:
    later: list[dict[str, object]] = [
        *CHANGES,
        {"kind": "merged", "units": [EAST, WEST], "into": EAST, "effective": "2026-01-01"},
        {
            "kind": "moved",
            "unit": EAST,
            "parent": None,
            "level": "province",
            "effective": "2026-03-01",
        },
    ]
    found = content(later)
    units = UnitTree(found.units, found.changes)
    assert units.successors(D, date(2026, 1, 1)) == {EAST: Fraction(1)}
    assert units.successors(WEST, date(2025, 12, 31)) == {WEST: Fraction(1)}
    moved = units.on(date(2026, 3, 1))[EAST]
    assert (moved.parent, moved.level) == (None, UnitLevel.PROVINCE)
    assert units.on(date(2026, 2, 28))[EAST].parent == PROVINCE


def test_old_codes_keep_their_names_for_their_history() -> None:
    units = tree()
    assert units.name_of(A, date(2021, 3, 1)) == "UBND xã Tân Thuận"
    assert units.name_of(A, CUT) == "UBND xã Tân Thuận"  # ended, still known by its name
    assert units.name_of(PROVINCE, CUT) == "UBND tỉnh Cà Mau"


def test_a_unit_ended_the_old_way_passes_its_figures_on() -> None:
    old = unit(A, "UBND xã Tân Thuận", UnitLevel.COMMUNE, DISTRICT).model_copy(
        update={"valid_to": BEFORE, "merged_into": C}
    )
    units = UnitTree([UNITS[0], UNITS[1], old, UNITS[4]])
    assert A not in units.on(CUT)
    assert units.successors(A, CUT) == {C: Fraction(1)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "kind": "split",
                "unit": D,
                "effective": "2025-07-01",
                "among": [{"unit": A, "share": "0.5"}, {"unit": B, "share": "0.4"}],
            },
            "shares sum to 0.9, not 1",
        ),
        (
            {"kind": "merged", "units": [A, "000.99.99.H12"], "into": B, "effective": "2025-07-01"},
            "000.99.99.H12",
        ),
        (
            {
                "kind": "established",
                "unit": A,
                "name": "again",
                "level": "commune",
                "effective": "2025-07-01",
            },
            "exists already",
        ),
        ({"kind": "renamed", "unit": A, "name": "x", "effective": "not a date"}, "date"),
        ({"kind": "annexed", "unit": A, "effective": "2025-07-01"}, "kind"),
    ],
)
def test_a_change_the_catalogue_cannot_hold_is_refused_with_its_reason(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        content([change])


def test_changes_are_loaded_from_a_file_and_added_once(tmp_path: Path) -> None:
    units = tmp_path / "units.yaml"
    units.write_text(
        "units:\n"
        + "".join(
            f"  - {{code: '{u.code}', name: '{u.name}', level: {u.level.value}"
            + (f", parent: '{u.parent}'" if u.parent else "")
            + "}\n"
            for u in UNITS
        ),
        encoding="utf-8",
    )
    first = read_catalogue([units])
    assert first.changes == ()
    assert content_digest(first) == content_digest(read_catalogue([units]))
    changes = tmp_path / "2025.yaml"
    changes.write_text(
        "changes:\n"
        f"  - {{kind: renamed, unit: '{A}', name: 'UBND xã Mới', effective: 2025-07-01}}\n"
        f"  - {{kind: dissolved, unit: '{B}', effective: 2025-07-01}}\n",
        encoding="utf-8",
    )
    second = read_catalogue([changes], first)
    assert [c.kind for c in second.changes] == ["renamed", "dissolved"]
    assert content_digest(second) != content_digest(first)
    again = read_catalogue([changes], second)
    assert again.changes == second.changes  # the same changes again: kept once
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        f"changes:\n  - {{kind: dissolved, unit: '{B}', effective: 2025-07-01}}\n"
        f"  - {{kind: split, unit: '{A}', effective: 2025-07-01, among: []}}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        CatalogueFileError, match=r"change 2: split\.among: Tuple should have at least 2"
    ):
        read_catalogue([broken], second)
