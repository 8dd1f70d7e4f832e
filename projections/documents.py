"""The figures' JSON documents as models: what ``/v1/reports``, ``/v1/rankings`` and
``/v1/units/{code}/progress`` answer, described in the OpenAPI document. The builders in
:mod:`projections.reports` make exactly these shapes; a test validates real documents against
them with no field left over or missing."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from projections.choices import RankBy, View


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateDoc(Document):
    """A rate as a fraction and its percentage (two decimals, half up; none of nothing)."""

    part: int
    whole: int
    percent: str | None = Field(description="e.g. '54.36'; null when the whole is 0")


class TotalsDoc(Document):
    """A unit's (or a group's) figures for a period (decisions 0004 and 0008)."""

    received_walk_in: int
    received_online: int
    received_post: int
    resolved_early: int
    resolved_on_time: int
    resolved_late: int
    withdrawn: int
    refused: int
    supplements_requested: int
    returned_direct: int
    returned_post: int
    returned_online: int
    pending_within_deadline: int = Field(description="At the period's end")
    overdue: int = Field(description="At the period's end")
    carried_over: int = Field(description="Pending at the period's start")
    received: int
    resolved: int
    pending: int
    online_rate: RateDoc
    early_or_on_time_rate: RateDoc
    late_rate: RateDoc
    within_deadline_rate: RateDoc
    overdue_rate: RateDoc


class PeriodDoc(Document):
    label: str
    start: date
    end: date


class AsOfDoc(Document):
    """The moment the figures are true at: a period that reaches today is counted to the end
    of yesterday (Vietnam time), as a dossier due today turns overdue only when today ends."""

    moment: str = Field(description="ISO 8601, +07:00: the end of the last day counted")
    through: date | None = Field(description="The last day counted; null: none has ended yet")
    complete: bool = Field(description="True: every day of the requested period has ended")
    requested: PeriodDoc = Field(description="The period asked for; `period` is what is counted")


class CatalogueDoc(Document):
    version: int
    loaded_at: str
    sha256: str
    source: str


class ProceduresDoc(Document):
    total: int
    by_service_level: dict[str, int]
    level_3_share: RateDoc
    level_4_share: RateDoc
    integrated: int
    integrated_share_of_online: RateDoc


class UnitRowDoc(TotalsDoc):
    code: str
    name: str
    level: str = Field(description="The unit's level as it stood on the report's day")
    until: date | None = Field(description="Its last day, when it had ended (merged, split)")


class OnlineProceduresDoc(Document):
    level_3: int
    level_4: int
    total: int
    offered_below: int


class UnitBelowDoc(Document):
    code: str
    name: str
    online_dossiers: int


class CardDoc(Document):
    code: str
    name: str
    level: str
    online_procedures: OnlineProceduresDoc
    online_dossiers_before_period: int
    procedures_with_online_dossiers: int
    online_dossiers: int
    online_rate: RateDoc
    units_below: int
    units_below_with_online_dossiers: list[UnitBelowDoc]


class ReuseUnitDoc(Document):
    code: str
    received: int
    reusing: int
    rate: RateDoc
    lookups_granted: int
    lookups_refused: int


class ReuseDoc(Document):
    received: int
    reusing: int
    rate: RateDoc
    lookups_granted: int
    lookups_refused: int
    units: list[ReuseUnitDoc]


class ReportDoc(Document):
    """The published report of a period."""

    period: PeriodDoc = Field(description="The days counted (see `as_of`)")
    as_of: AsOfDoc | None
    view: View = Field(description="`then`: as organised then; `restated`: onto today's units")
    restated_onto: date | None = Field(description="The day whose units it is restated onto")
    position: int = Field(description="The log position the read models reflect")
    generated_at: str
    catalogue: CatalogueDoc | None
    procedures: ProceduresDoc | None
    online_total: int
    levels: dict[str, TotalsDoc]
    units: list[UnitRowDoc]
    cards: list[CardDoc]
    reuse: ReuseDoc


class RankedDoc(Document):
    rank: int | None = Field(description="Null: too few dossiers to rank")
    code: str
    name: str
    level: str
    rate: RateDoc


class RankingDoc(Document):
    period: str
    as_of: AsOfDoc
    view: View
    by: RankBy
    level: str | None
    minimum: int
    units: list[RankedDoc]


class UnitRefDoc(Document):
    code: str
    name: str
    level: str


class SeriesPointDoc(TotalsDoc):
    label: str
    start: date
    end: date


class FieldRowDoc(TotalsDoc):
    code: str
    name: str


class ProcedureRowDoc(TotalsDoc):
    code: str
    name: str | None


class ProgressDoc(Document):
    """A unit's progress over a period, by bucket, with its fields and procedures."""

    unit: UnitRefDoc
    units: list[str]
    view: View
    carried: dict[str, str] = Field(
        description="The units whose figures are carried into these (restated, or after a "
        "merger): code -> the share carried, as a fraction ('1', '1/3')"
    )
    period: PeriodDoc = Field(description="The days counted (see `as_of`)")
    as_of: AsOfDoc
    by: str
    position: int
    catalogue_version: int
    series: list[SeriesPointDoc]
    fields: list[FieldRowDoc]
    procedures: list[ProcedureRowDoc]
