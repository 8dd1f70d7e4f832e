"""The composition root: build the hub's parts from one settings object."""

from __future__ import annotations

from dataclasses import dataclass

from hub.adapters.calendar_files import build_calendar
from hub.application import DossierStore
from hub.bus.choice import Bus, bus_of
from hub.catalogue.successions import CatalogueSuccessors
from hub.domain.lifecycle import Rules
from hub.ingest import Ingestor
from hub.logging import configure_logging
from hub.personal.protect import Protector
from hub.settings import HubSettings


@dataclass
class Hub:
    settings: HubSettings
    store: DossierStore
    rules: Rules
    ingestor: Ingestor
    protector: Protector
    #: Kafka or the embedded log, chosen once from the settings.
    bus: Bus
    #: The catalogue's unit history, opened on the first question (see Rules.successors).
    successors: CatalogueSuccessors

    def close(self) -> None:
        self.successors.close()
        self.protector.close()
        self.store.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def bootstrap(settings: HubSettings, *, configure_logs: bool = True) -> Hub:
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    calendar = build_calendar(settings.calendar_dir, settings.office_hours)
    successors = CatalogueSuccessors(settings)
    rules = Rules(
        calendar=calendar,
        supplement_rule=settings.supplement_rule,
        window=settings.time_window,
        successors=successors,
    )
    store = DossierStore(settings)
    protector = Protector(settings)
    ingestor = Ingestor(store, rules, protect=protector.protect)
    return Hub(settings, store, rules, ingestor, protector, bus_of(settings, store), successors)
