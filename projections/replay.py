"""``dvchub audit replay``: re-derive a period's report from the raw log and compare it.

The progress projection and the reuse index are rebuilt from the store's log into a scratch
SQLite database of their own (the live read models are not touched), the report is built
from them as ``dvchub report`` builds it, and every figure is compared with the report the
live read models give and, if one is given, with a report published earlier (its JSON).
Figures are compared by their path in the report's JSON; the time it was generated and the
log position it reflects are not figures.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hub.adapters.sql import ReadModelDatabase
from hub.application import DossierStore
from hub.catalogue.store import CatalogueStore
from hub.log_reader import last_position
from hub.reuse.ledger import ReuseLedger
from hub.settings import HubSettings
from projections.choices import View
from projections.periods import Period
from projections.read_models import vietnam_now
from projections.rebuild import rebuild
from projections.reports import province_report, report_json
from projections.reuse.lookups import project as project_lookups
from projections.reuse.worker import rebuild as rebuild_reuse_index

NOT_FIGURES = frozenset({"generated_at", "position"})


class Difference(BaseModel):
    path: str
    replayed: Any
    other: Any


class Comparison(BaseModel):
    against: str
    figures: int
    differences: list[Difference]


class ReplayReport(BaseModel):
    period: str
    replayed_events: int
    live_position: int
    comparisons: list[Comparison]

    @property
    def ok(self) -> bool:
        return all(not c.differences for c in self.comparisons)


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` as ``{"a.b[0]": 1}``; keys in NOT_FIGURES at the top are left out."""
    flat: dict[str, Any] = {}
    if isinstance(document, dict):
        for key, value in document.items():
            if not prefix and key in NOT_FIGURES:
                continue
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            flat.update(flatten(value, f"{prefix}[{index}]"))
    else:
        flat[prefix] = document
    return flat


def compare(against: str, replayed: dict[str, Any], other: dict[str, Any]) -> Comparison:
    ours, theirs = flatten(replayed), flatten(other)
    differences = [
        Difference(path=path, replayed=ours.get(path), other=theirs.get(path))
        for path in sorted(ours.keys() | theirs.keys())
        if ours.get(path) != theirs.get(path)
    ]
    return Comparison(against=against, figures=len(ours), differences=differences)


def _cards(published: dict[str, Any] | None) -> list[str]:
    if published is None:
        return []
    return [card["code"] for card in published.get("cards", []) if "code" in card]


def _stated_moment(published: dict[str, Any] | None) -> datetime | None:
    """The moment a published report's figures are true at (the end of its last day
    counted: the same day counts the same days), if it states one."""
    moment = ((published or {}).get("as_of") or {}).get("moment")
    if not isinstance(moment, str):
        return None
    try:
        return datetime.fromisoformat(moment)
    except ValueError:
        return None


def _restated_onto(published: dict[str, Any] | None) -> date | None:
    """The day whose units a published restated report was restated onto, if it says."""
    day = (published or {}).get("restated_onto")
    if not isinstance(day, str):
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        raise ValueError(
            f"the published report's restated_onto {day[:40]!r} is not a day"
        ) from None


def replay(
    settings: HubSettings,
    store: DossierStore,
    period: Period,
    published: dict[str, Any] | None = None,
    published_name: str = "the published report",
    scratch: Path | None = None,
) -> ReplayReport:
    """Rebuild the read models from the log into ``scratch`` (a temporary directory by
    default) and compare the period's report there with the live one and ``published``,
    all counted as of the same moment: the one ``published`` states, else now."""
    if published is not None and published.get("period", {}).get("label") != period.label:
        raise ValueError(
            f"the published report is of period {published.get('period', {}).get('label')!r}, "
            f"not {period.label!r}"
        )
    cards = _cards(published)
    now = _stated_moment(published) or vietnam_now()
    stated = (published or {}).get("view") or View.THEN
    if stated not in set(View):
        raise ValueError(f"the published report's view {stated!r} is not one of then, restated")
    view = View(stated)
    onto = _restated_onto(published)
    catalogues = CatalogueStore(settings)
    ledger = ReuseLedger(settings)
    try:
        catalogue = catalogues.current()
        with tempfile.TemporaryDirectory(prefix="dvchub-replay-", dir=scratch) as directory:
            scratch_settings = settings.model_copy(
                update={"data_dir": Path(directory), "database_url": None}
            )
            result = rebuild(scratch_settings, store, shards=1)
            db = ReadModelDatabase(scratch_settings)
            try:
                rebuild_reuse_index(db, store)
                project_lookups(db, ledger)
                replayed = report_json(
                    province_report(db, catalogue, period, cards, now=now, view=view, onto=onto)
                )
            finally:
                db.close()
        live_db = ReadModelDatabase(settings)
        try:
            project_lookups(live_db, ledger)
            live = report_json(
                province_report(live_db, catalogue, period, cards, now=now, view=view, onto=onto)
            )
        finally:
            live_db.close()
    finally:
        ledger.close()
        catalogues.close()
    comparisons = [compare("the live read models", replayed, live)]
    if published is not None:
        comparisons.append(compare(published_name, replayed, published))
    return ReplayReport(
        period=period.label,
        replayed_events=result.events,
        live_position=int(live.get("position") or last_position(store)),
        comparisons=comparisons,
    )
