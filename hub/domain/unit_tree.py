"""The units as they stood on any day, and where an old unit's figures go today. No I/O.

The catalogue lists every unit that ever existed (with the day it started and the day it
ended, if any) and the changes that happened to them (:class:`events.catalogue.UnitChange`):
established, renamed, moved under another parent or to another level, merged into a
successor, split among successors by share, dissolved. A change takes effect on its day: the
day before is the last of the old state.

:meth:`UnitTree.on` gives the tree of a day; :meth:`UnitTree.successors` where a unit's figures
go on a day (itself while it exists; its successors, by share, after it merged or split; none
once dissolved), following every change up to that day. Old codes stay valid for their
history: a unit that ended is still known, under its last name, for the days it existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction

from events.catalogue import (
    AnyUnitChange,
    UnitDissolved,
    UnitEntry,
    UnitEstablished,
    UnitLevel,
    UnitMoved,
    UnitRenamed,
    UnitsMerged,
    UnitSplit,
)

#: The day the tree is asked of for a unit's latest state.
LAST_DAY = date(9999, 12, 31)


@dataclass(frozen=True)
class UnitOn:
    """A unit as it stood on a day."""

    code: str
    name: str
    level: UnitLevel
    parent: str | None


@dataclass(frozen=True)
class Succession:
    """From ``effective``, ``unit``'s figures go to ``to`` (code, share); none: dissolved."""

    unit: str
    effective: date
    to: tuple[tuple[str, Fraction], ...]


class UnitTree:
    def __init__(self, units: Iterable[UnitEntry], changes: Iterable[AnyUnitChange] = ()) -> None:
        self._units = {unit.code: unit for unit in units}
        legacy = [
            UnitsMerged(units=(u.code,), into=u.merged_into, effective=u.valid_to + timedelta(1))
            for u in self._units.values()
            if u.merged_into is not None and u.valid_to is not None
        ]
        self._changes = sorted([*legacy, *changes], key=lambda change: change.effective)
        self._successions: dict[str, Succession] = {}
        self._on: dict[date, dict[str, UnitOn]] = {}
        for change in self._changes:
            if isinstance(change, UnitsMerged):
                for code in change.units:
                    if code != change.into:
                        self._successions[code] = Succession(
                            code, change.effective, ((change.into, Fraction(1)),)
                        )
            elif isinstance(change, UnitSplit):
                self._successions[change.unit] = Succession(
                    change.unit,
                    change.effective,
                    tuple((part.unit, Fraction(part.share)) for part in change.among),
                )
            elif isinstance(change, UnitDissolved):
                self._successions[change.unit] = Succession(change.unit, change.effective, ())

    def on(self, day: date) -> dict[str, UnitOn]:
        """Every unit that existed on ``day``, as it stood then."""
        known = self._on.get(day)
        if known is None:
            if len(self._on) >= 366:  # a year of days asked: start again
                self._on.clear()
            known = self._on[day] = self._tree_on(day)
        return dict(known)

    def changes_between(self, first: date, last: date) -> list[date]:
        """The days after ``first`` and up to ``last`` on which a change took effect."""
        return sorted({c.effective for c in self._changes if first < c.effective <= last})

    @property
    def changed(self) -> bool:
        """Whether any unit ever merged, split or was dissolved."""
        return bool(self._successions)

    def ended(self, code: str) -> date | None:
        """The last day ``code`` existed, if it ended (merged, split, dissolved, or listed
        with an end)."""
        succession = self._successions.get(code)
        entry = self._units.get(code)
        days = [
            day
            for day in (
                None if succession is None else succession.effective - timedelta(1),
                None if entry is None else entry.valid_to,
            )
            if day is not None
        ]
        return min(days) if days else None

    def as_it_stood(self, code: str, day: date) -> UnitOn | None:
        """``code`` as it stood on ``day``, or on its last day if it had ended by then
        (an old unit keeps its last name and level for its history)."""
        end = self.ended(code)
        state = self.on(day if end is None or end >= day else end).get(code)
        if state is None and code in self._units:  # not begun by ``day``: as listed
            unit = self._units[code]
            return UnitOn(code, unit.name, unit.level, unit.parent)
        return state

    def entries(self) -> dict[str, UnitEntry]:
        """Every unit that ever existed (listed, or established by a change), each as it
        last stood, with the days it existed."""
        established = {
            change.unit: change.effective
            for change in self._changes
            if isinstance(change, UnitEstablished)
        }
        found = {}
        for code in [*self._units, *(c for c in established if c not in self._units)]:
            end = self.ended(code)
            state = self.on(end if end is not None else LAST_DAY).get(code)
            listed = self._units.get(code)
            if state is None:  # listed, ended without a recorded change before it began
                assert listed is not None
                found[code] = listed
                continue
            found[code] = UnitEntry(
                code=code,
                name=state.name,
                level=state.level,
                parent=state.parent,
                valid_from=established.get(code, listed.valid_from if listed else None),
                valid_to=end,
                merged_into=listed.merged_into if listed else None,
            )
        return found

    def predecessors(self, code: str, day: date) -> dict[str, Fraction]:
        """The units whose figures go (wholly or by share) to ``code`` on ``day``, with the
        share that goes to it; ``code`` itself with 1."""
        found = {code: Fraction(1)}
        for other in self._successions:
            share = self.successors(other, day).get(code)
            if share:
                found[other] = share
        return found

    def _tree_on(self, day: date) -> dict[str, UnitOn]:
        tree = {
            code: UnitOn(code, unit.name, unit.level, unit.parent)
            for code, unit in self._units.items()
            if unit.valid_from is None or unit.valid_from <= day
        }
        for code, unit in self._units.items():  # ended without a recorded change
            if unit.valid_to is not None and unit.valid_to < day:
                tree.pop(code, None)
        for change in self._changes:
            if change.effective > day:
                break
            _apply(tree, change)
        return tree

    def successors(self, code: str, day: date) -> dict[str, Fraction]:
        """Where ``code``'s figures go on ``day``: the units existing then, each with its
        share (summing to 1; empty for a unit dissolved without successor)."""
        found: dict[str, Fraction] = {}
        self._follow(code, day, Fraction(1), found, set())
        return found

    def _follow(
        self, code: str, day: date, share: Fraction, found: dict[str, Fraction], seen: set[str]
    ) -> None:
        if code in seen:
            raise ValueError(f"the units' successions go round in a circle through {code}")
        succession = self._successions.get(code)
        if succession is None or succession.effective > day:
            found[code] = found.get(code, Fraction(0)) + share
            return
        for successor, part in succession.to:
            self._follow(successor, day, share * part, found, seen | {code})

    def name_of(self, code: str, day: date) -> str | None:
        """``code``'s name on ``day``, or its last name if it no longer existed."""
        unit = self.on(day).get(code)
        if unit is not None:
            return unit.name
        entry = self._units.get(code)
        last = entry.name if entry is not None else None
        for change in self._changes:
            if change.effective > day:
                break
            if isinstance(change, UnitRenamed | UnitEstablished) and change.unit == code:
                last = change.name
        return last


def _apply(tree: dict[str, UnitOn], change: AnyUnitChange) -> None:
    if isinstance(change, UnitEstablished):
        tree[change.unit] = UnitOn(change.unit, change.name, change.level, change.parent)
    elif isinstance(change, UnitRenamed):
        if change.unit in tree:
            tree[change.unit] = replace(tree[change.unit], name=change.name)
    elif isinstance(change, UnitMoved):
        if change.unit in tree:
            unit = tree[change.unit]
            tree[change.unit] = replace(
                unit, parent=change.parent, level=change.level or unit.level
            )
    elif isinstance(change, UnitsMerged):
        for code in change.units:
            if code != change.into:
                tree.pop(code, None)
    elif isinstance(change, UnitSplit | UnitDissolved):
        tree.pop(change.unit, None)
