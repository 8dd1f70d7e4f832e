"""Decision 766/QĐ-TTg (2022) scores provinces and units out of 100 in five groups. Its
official formulas were not found (domain.md), so the hub gives, for each group, the rates
its data supports, each with the formula it is computed by, and says plainly what it cannot
compute and why. No points are given: turning a rate into points needs the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from projections.progress.queries import Totals
from projections.rates import Rate
from projections.reports import ProvinceReport

Group = Literal["transparency", "progress", "online", "satisfaction", "digitisation"]

#: The groups and their weight in Decision 766 (points out of 100).
GROUPS: dict[Group, int] = {
    "transparency": 18,
    "progress": 20,
    "online": 22,
    "satisfaction": 18,
    "digitisation": 22,
}


@dataclass(frozen=True)
class Indicator:
    group: Group
    key: str  # names the indicator's words on the board
    rate: Rate | None  # None: the hub cannot compute it (see ``missing``)
    formula: str  # how it is computed, in the hub's own terms
    missing: str | None = None  # why it cannot be computed


def indicators(report: ProvinceReport, units: list[str] | None = None) -> list[Indicator]:
    """The indicators of the report's period, for ``units`` (None: the whole province)."""
    totals = Totals.summed(row.totals for row in report.units if units is None or row.code in units)
    reuse = [u for u in report.reuse.units if units is None or u.code in units]
    reusing = sum(u.reusing for u in reuse)
    figures = report.figures
    return [
        Indicator(
            "transparency",
            "transparency",
            None,
            "—",
            "needs what each unit publishes (procedures, fees, results) and the portal's "
            "own records; the hub holds neither",
        ),
        Indicator(
            "progress",
            "on_time",
            totals.early_or_on_time_rate,
            "(resolved early + resolved on time) / resolved, in the period",
        ),
        Indicator(
            "progress",
            "not_overdue",
            totals.within_deadline_rate,
            "pending within the deadline / pending, at the end of the last day counted",
        ),
        Indicator(
            "online",
            "online_received",
            totals.online_rate,
            "dossiers received online / dossiers received, in the period",
        ),
        Indicator(
            "online",
            "online_procedures",
            None if figures is None else Rate(figures.online, figures.procedures),
            "procedures offered online (service level 3 or 4) / procedures in the catalogue",
            "no catalogue is loaded" if figures is None else None,
        ),
        Indicator(
            "online",
            "online_payment",
            None,
            "—",
            "the events say that a fee was paid, not how: online payment cannot be told apart",
        ),
        Indicator(
            "satisfaction",
            "satisfaction",
            None,
            "(dossiers − dossiers with a complaint about reception, processing or lateness) "
            "/ dossiers",
            "complaints are recorded (dossier.complaint_received) but no read model counts "
            "them by unit and period yet",
        ),
        Indicator(
            "digitisation",
            "reuse",
            Rate(reusing, totals.received),
            "dossiers received that reused an earlier dossier's results or documents / "
            "dossiers received, in the period",
        ),
        Indicator(
            "digitisation",
            "digitised_results",
            None,
            "—",
            "whether each result was issued as a digitised document is not in the events",
        ),
    ]
