"""The read models as the HTTP API and the board read them: one database connection per
server thread, the catalogue and the reuse ledger. Tables are made on the first connection:
the projections' own, and those of the composition's other readers (``prepare``: the portal
connector's outbox, for the sync routes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime

from hub.adapters.sql import ReadModelDatabase
from hub.catalogue.store import CatalogueStore
from hub.domain.vietnam import VIETNAM
from hub.reuse.ledger import ReuseLedger
from hub.settings import HubSettings
from projections.registry import prepare_all
from projections.report_cache import Kept
from projections.reports import ProvinceReport

Prepare = Callable[[ReadModelDatabase], None]
Clock = Callable[[], datetime]


def vietnam_now() -> datetime:
    return datetime.now(VIETNAM)


class ReadModels:
    """One read-model connection per server thread, the catalogue store and the ledger, and
    the clock the figures are counted as of (:mod:`projections.as_of`)."""

    def __init__(
        self, settings: HubSettings, prepare: Sequence[Prepare] = (), clock: Clock = vietnam_now
    ) -> None:
        self.settings = settings
        self.now = clock
        #: Reports kept a short while for the board and the figure routes.
        self.reports: Kept[ProvinceReport] = Kept()
        self.catalogue = CatalogueStore(settings)
        self.ledger = ReuseLedger(settings)
        self._prepare: tuple[Prepare, ...] = (prepare_all, *prepare)
        self._local = threading.local()
        self._prepared = False

    def today(self) -> date:
        """The day in Vietnam of the clock: the units a restated figure is restated onto."""
        return self.now().astimezone(VIETNAM).date()

    def require(self, prepare: Prepare) -> None:
        """Make ``prepare``'s tables too, before the first connection is used."""
        if self._prepared:
            raise RuntimeError("tables are required before the read models are first used")
        self._prepare = (*self._prepare, prepare)

    def db(self) -> ReadModelDatabase:
        db: ReadModelDatabase | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = ReadModelDatabase(self.settings)
            if not self._prepared:
                for make in self._prepare:
                    make(db)
                self._prepared = True
        return db

    def close(self) -> None:
        self.catalogue.close()
        self.ledger.close()
