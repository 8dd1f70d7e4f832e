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
from enum import StrEnum
from typing import Annotated

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
        for procedure in self.procedures:
            unknown = [code for code in procedure.units if code not in known]
            if unknown:
                raise ValueError(
                    f"procedure {procedure.code}: units not in the catalogue: {unknown[:5]}"
                )
        return self
