"""Catalogue versions and the look-ups reports need from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from events.catalogue import CatalogueContent, ProcedureEntry, UnitEntry, UnitLevel
from hub.domain.unit_tree import UnitTree


@dataclass(frozen=True)
class CatalogueVersion:
    """One loaded version of the catalogue: what every report names as its reference data."""

    version: int
    loaded_at: datetime
    digest: str
    source: str
    content: CatalogueContent = field(repr=False)

    @cached_property
    def units(self) -> dict[str, UnitEntry]:
        """Every unit that ever existed: those listed, and those established by a change,
        each as it last stood (decision 0021)."""
        if not self.content.changes:
            return {unit.code: unit for unit in self.content.units}
        return self.tree.entries()

    @cached_property
    def tree(self) -> UnitTree:
        """The units' history: the tree of any day, and where an old unit's figures go."""
        return UnitTree(self.content.units, self.content.changes)

    @cached_property
    def procedures(self) -> dict[str, ProcedureEntry]:
        return {procedure.code: procedure for procedure in self.content.procedures}

    @cached_property
    def children(self) -> dict[str, tuple[str, ...]]:
        below: dict[str, list[str]] = {}
        for unit in self.units.values():
            if unit.parent is not None:
                below.setdefault(unit.parent, []).append(unit.code)
        return {parent: tuple(codes) for parent, codes in below.items()}

    def subtree(self, code: str) -> list[str]:
        """``code`` and every unit below it, depth first."""
        found, stack = [], [code]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(reversed(self.children.get(current, ())))
        return found

    def units_at(self, level: UnitLevel, on: date | None = None) -> list[UnitEntry]:
        return [
            unit
            for unit in self.units.values()
            if unit.level is level and (on is None or unit.valid_on(on))
        ]

    def level_of(self, code: str) -> UnitLevel | None:
        unit = self.units.get(code)
        return None if unit is None else unit.level

    def offered_by(self, code: str) -> list[ProcedureEntry]:
        """The procedures ``code`` offers."""
        unit = self.units[code]
        return [p for p in self.content.procedures if p.offered_by(unit)]

    def offered_by_any(self, codes: Iterable[str]) -> list[ProcedureEntry]:
        units = [self.units[code] for code in codes]
        return [p for p in self.content.procedures if any(p.offered_by(u) for u in units)]

    def describe(self) -> str:
        return (
            f"catalogue v{self.version} loaded {self.loaded_at:%Y-%m-%d %H:%M} UTC "
            f"(sha256 {self.digest[:12]}, {len(self.content.units)} units, "
            f"{len(self.content.procedures)} procedures, from {self.source})"
        )
