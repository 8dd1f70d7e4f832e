"""The catalogue's unit history, as the lifecycle asks it: who carries a unit's dossiers.

The lifecycle (:func:`hub.domain.lifecycle.decide`) asks only when an event comes from a unit
its dossier does not involve, which is rare; so the catalogue is opened on the first
question, not when the hub starts, and read again only when a new version was loaded.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from threading import Lock

from hub.catalogue.store import CatalogueStore
from hub.settings import HubSettings


class CatalogueSuccessors:
    """``successors(unit, day)`` from the newest catalogue version (none loaded: the unit
    carries itself)."""

    def __init__(self, settings: HubSettings) -> None:
        self._settings = settings
        self._store: CatalogueStore | None = None
        self._lock = Lock()

    def __call__(self, unit: str, day: date) -> dict[str, Fraction]:
        with self._lock:
            if self._store is None:
                self._store = CatalogueStore(self._settings)
            catalogue = self._store.current()
        if catalogue is None:
            return {unit: Fraction(1)}
        return catalogue.tree.successors(unit, day)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
