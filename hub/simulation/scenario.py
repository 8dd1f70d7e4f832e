"""The scenario file: a province's units, procedures and dossier volumes.

A scenario says how many dossiers each unit (or group of similar units) received in the
period and through which channel, how many procedures each level has at each online
service level, and how often each turn of the lifecycle happens. The generator turns it
into exactly those numbers; everything else (days, procedures, paths) is drawn from the
seed. See scenarios/camau-2021h1.yaml.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from events.catalogue import UnitLevel
from events.codes import UnitCodeStr


class ScenarioModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Volume(ScenarioModel):
    """Dossiers received (and refused at the desk) in a span of time."""

    received: int = Field(ge=0)
    online: int = Field(0, ge=0)
    post: int = Field(0, ge=0)
    refused: int = Field(0, ge=0, description="Refused at the desk, besides those received")

    @model_validator(mode="after")
    def _fits(self) -> Volume:
        if self.online + self.post > self.received:
            raise ValueError("online + post exceeds received")
        return self

    @property
    def walk_in(self) -> int:
        return self.received - self.online - self.post


class Span(ScenarioModel):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class History(Span):
    """Dossiers of a unit before the scenario's period."""

    dossiers: Volume


class ProcedureCounts(ScenarioModel):
    """Procedures handled at one level, by online service level."""

    level_2: int = Field(0, ge=0)
    level_3: int = Field(0, ge=0)
    level_4: int = Field(0, ge=0)
    integrated: int = Field(0, ge=0, description="Online ones integrated with the portal")

    @model_validator(mode="after")
    def _integrated(self) -> ProcedureCounts:
        if self.integrated > self.level_3 + self.level_4:
            raise ValueError("more integrated procedures than online ones")
        return self


class CatalogueSpec(ScenarioModel):
    procedures: dict[UnitLevel, ProcedureCounts]
    integrated_since: date | None = None


class UnitSpec(ScenarioModel):
    """One unit, or a group of ``count`` similar units sharing the group's volumes."""

    name: str
    level: UnitLevel
    code: UnitCodeStr | None = None
    parent: str | None = Field(None, description="Name or code of the unit above (default: top)")
    parents: tuple[str, ...] = Field((), description="For a group: parents, round robin")
    count: int = Field(1, ge=1)
    names: tuple[str, ...] = ()
    dossiers: Volume
    offers_online: int | None = Field(
        None, ge=0, description="How many of its level's online procedures it offers"
    )
    online_procedures_used: int | None = Field(
        None, ge=1, description="Its online dossiers spread over exactly this many procedures"
    )
    history: tuple[History, ...] = ()
    since: date | None = Field(None, description="The first day it existed (None: before)")
    until: date | None = Field(None, description="The last day it existed (None: still does)")
    into: tuple[str, ...] = Field(
        (),
        description="After ``until``: the unit (name or code) it merged into; for a group, "
        "each unit merges into the next of these in turn; none (and no split): dissolved",
    )
    code_group: str | None = Field(
        None,
        pattern=r"^[0-9]{2}$",
        description="Communes directly under the province (no district): the Y1Y2 group "
        "of their codes",
    )
    receives_for: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A Public Administration Service Centre: from ``since``, it receives "
        "this share of the dossiers of the communes that exist then, for them",
    )

    @model_validator(mode="after")
    def _group(self) -> UnitSpec:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        if self.into and self.until is None:
            raise ValueError("into needs until: the last day before the merger")
        if self.count > 1 and self.code is not None:
            raise ValueError("a group of units cannot have one code")
        if self.names and len(self.names) > self.count:
            raise ValueError("more names than units in the group")
        used = self.online_procedures_used
        if used is not None and (self.count > 1 or used > self.dossiers.online):
            raise ValueError("online_procedures_used needs one unit with that many online dossiers")
        return self


class Mix(ScenarioModel):
    """Probabilities of the lifecycle's turns (see hub.simulation.workload.LifecycleMix)."""

    transferred: float = Field(0.2, ge=0, le=1)
    supplement: float = Field(0.08, ge=0, le=1)
    financial_obligation: float = Field(0.05, ge=0, le=1)
    withdrawn: float = Field(0.02, ge=0, le=1)
    late: float = Field(0.06, ge=0, le=1)
    apology_when_late: float = Field(0.6, ge=0, le=1)
    denied: float = Field(0.03, ge=0, le=1)
    returned: float = Field(0.9, ge=0, le=1)
    online_registered_first: float = Field(0.5, ge=0, le=1)


class Province(ScenarioModel):
    code: UnitCodeStr
    name: str


class FormerProvince(Province):
    """A province that merged into the scenario's province after ``until``; its units name
    it as their parent (their codes end with its group)."""

    until: date


class SplitSpec(ScenarioModel):
    """A unit (with ``until``) whose area went to several successors, each by its share."""

    unit: str
    among: dict[str, Decimal]

    @model_validator(mode="after")
    def _shares(self) -> SplitSpec:
        if len(self.among) < 2 or sum(self.among.values()) != 1:
            raise ValueError(f"split of {self.unit}: two or more shares summing to 1")
        return self


class Reuse(ScenarioModel):
    """The share of the dossiers received in the period that reuse an earlier dossier of the
    same applicant (an approved one of the same field, resolved at least two days before)."""

    share: float = Field(0.0, ge=0.0, le=0.5)


class Scenario(ScenarioModel):
    name: str
    seed: int = 2021
    province: Province
    period: Span
    catalogue: CatalogueSpec
    lifecycle: Mix = Mix()
    reuse: Reuse = Reuse()
    units: tuple[UnitSpec, ...]
    source_system: str = "mot-cua-tinh"
    former_provinces: tuple[FormerProvince, ...] = ()
    splits: tuple[SplitSpec, ...] = ()
    reorganisation_note: str | None = Field(
        None, description="The decision the changes follow (kept with each change)"
    )


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the file and the problem."""


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ScenarioError(f"{path}: {where}: {first['msg']}") from None
