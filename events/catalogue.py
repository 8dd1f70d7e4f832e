"""Reference data: the province's unit catalogue and procedure catalogue.

Units merge and disappear (the district level ended on 1 July 2025), so each unit carries
the dates it was valid; reports of any period use the same catalogue and look at a unit's
level and parent as recorded there. Procedures carry both their local and national codes,
their online service level, processing time, whether (and since when) they are
integrated with the national portal, and the reuse mapping: which results or documents of an
earlier dossier may stand in for each of the documents they ask for.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from events.codes import ProcedureCodeStr, UnitCodeStr
from events.enums import OnlineServiceLevel
from events.models import ContractModel, ProcessingTime, ShortText


class UnitLevel(StrEnum):
    """The administrative level a unit works at."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class UnitEntry(ContractModel):
    code: UnitCodeStr
    name: ShortText
    level: UnitLevel
    parent: UnitCodeStr | None = Field(None, description="The unit above it (None: the top)")
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Last day it existed (merged or dissolved)")
    merged_into: UnitCodeStr | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class UnitChangeBase(ContractModel):
    """A change to the units, taking effect on ``effective`` (the first day of the new
    state: the day before is the last of the old one)."""

    effective: date
    note: ShortText | None = Field(None, description="The decision that made it, e.g. a resolution")


class UnitEstablished(UnitChangeBase):
    kind: Literal["established"] = "established"
    unit: UnitCodeStr
    name: ShortText
    level: UnitLevel
    parent: UnitCodeStr | None = None


class UnitRenamed(UnitChangeBase):
    kind: Literal["renamed"] = "renamed"
    unit: UnitCodeStr
    name: ShortText


class UnitMoved(UnitChangeBase):
    """Moved under another parent (None: to the top), possibly to another level."""

    kind: Literal["moved"] = "moved"
    unit: UnitCodeStr
    parent: UnitCodeStr | None
    level: UnitLevel | None = Field(None, description="Its level from then (None: unchanged)")


class UnitsMerged(UnitChangeBase):
    """``units`` end the day before and continue as ``into`` (which may be one of them, or a
    unit established the same day)."""

    kind: Literal["merged"] = "merged"
    units: Annotated[tuple[UnitCodeStr, ...], Field(min_length=1)]
    into: UnitCodeStr


class SplitShare(ContractModel):
    unit: UnitCodeStr
    share: Annotated[Decimal, Field(gt=0, le=1, max_digits=6, decimal_places=4)]


class UnitSplit(UnitChangeBase):
    """``unit`` ends the day before; its figures go to ``among``, each by its share (the
    shares sum to 1: the part of its area and population each takes)."""

    kind: Literal["split"] = "split"
    unit: UnitCodeStr
    among: Annotated[tuple[SplitShare, ...], Field(min_length=2)]

    @model_validator(mode="after")
    def _shares(self) -> UnitSplit:
        total = sum(part.share for part in self.among)
        if total != 1:
            raise ValueError(f"split of {self.unit}: the shares sum to {total}, not 1")
        return self


class UnitDissolved(UnitChangeBase):
    """``unit`` ends the day before, with no successor."""

    kind: Literal["dissolved"] = "dissolved"
    unit: UnitCodeStr


AnyUnitChange = UnitEstablished | UnitRenamed | UnitMoved | UnitsMerged | UnitSplit | UnitDissolved
UnitChange = Annotated[AnyUnitChange, Field(discriminator="kind")]


def change_units(change: AnyUnitChange) -> list[str]:
    """Every unit code a change names."""
    if isinstance(change, UnitsMerged):
        return [*change.units, change.into]
    if isinstance(change, UnitSplit):
        return [change.unit, *(part.unit for part in change.among)]
    if isinstance(change, UnitEstablished | UnitMoved) and change.parent is not None:
        return [change.unit, change.parent]
    return [change.unit]


class RequiredComponent(ContractModel):
    """A document a procedure asks for, and what from an earlier dossier may stand in for it:
    a result of one of ``accepts_results`` (document types), or a document submitted then
    under one of ``accepts_components`` (component codes)."""

    code: ShortText
    name: ShortText
    accepts_results: tuple[ShortText, ...] = ()
    accepts_components: tuple[ShortText, ...] = ()


class ProcedureEntry(ContractModel):
    code: ProcedureCodeStr = Field(description="The procedure's code in the province")
    national_code: ProcedureCodeStr | None = Field(
        None, description="Its code on the national portal (None: the same as code)"
    )
    name: ShortText
    field_code: ShortText
    field_name: ShortText | None = None
    level: UnitLevel = Field(description="The level of the units that handle it")
    service_level: OnlineServiceLevel
    processing_time: ProcessingTime
    integrated: bool = False
    integrated_since: date | None = None
    units: tuple[UnitCodeStr, ...] = Field(
        (), description="Units that offer it; empty: every unit of its level"
    )
    components: tuple[RequiredComponent, ...] = Field(
        (), description="Its documents, and which earlier results or documents may be reused"
    )

    @property
    def online(self) -> bool:
        return self.service_level >= OnlineServiceLevel.PARTIAL

    def integrated_on(self, day: date) -> bool:
        return self.integrated and (self.integrated_since is None or self.integrated_since <= day)

    def offered_by(self, unit: UnitEntry) -> bool:
        if self.units:
            return unit.code in self.units
        return unit.level is self.level


class CatalogueContent(ContractModel):
    """One version of the whole catalogue, checked for consistency."""

    units: Annotated[tuple[UnitEntry, ...], Field(min_length=1)]
    procedures: tuple[ProcedureEntry, ...] = ()
    #: The units' history: established, renamed, moved, merged, split, dissolved, each on
    #: its date (hub.domain.unit_tree gives the tree of any day).
    changes: tuple[UnitChange, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> CatalogueContent:
        for kind, codes in (
            ("unit", [u.code for u in self.units]),
            ("procedure", [p.code for p in self.procedures]),
        ):
            twice = sorted(code for code, n in Counter(codes).items() if n > 1)
            if twice:
                raise ValueError(f"{kind} codes listed more than once: {', '.join(twice[:5])}")
        known = {u.code for u in self.units}
        for unit in self.units:
            for name, ref in (("parent", unit.parent), ("merged_into", unit.merged_into)):
                if ref is not None and ref not in known:
                    raise ValueError(f"unit {unit.code}: {name} {ref} is not in the catalogue")
        established: set[str] = set()
        for change in sorted(self.changes, key=lambda c: c.effective):
            if isinstance(change, UnitEstablished):
                if change.unit in known or change.unit in established:
                    raise ValueError(f"unit {change.unit} is established but exists already")
                established.add(change.unit)
            unknown_units = [c for c in change_units(change) if c not in known | established]
            if unknown_units:
                raise ValueError(
                    f"{change.kind} on {change.effective}: units not in the catalogue nor "
                    f"established before: {', '.join(unknown_units[:5])}"
                )
        known |= established
        for procedure in self.procedures:
            unknown = [code for code in procedure.units if code not in known]
            if unknown:
                raise ValueError(
                    f"procedure {procedure.code}: units not in the catalogue: {unknown[:5]}"
                )
        return self
