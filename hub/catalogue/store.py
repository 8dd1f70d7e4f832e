"""The catalogue's event-sourced store: every load that changes it is a new version."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from events.catalogue import CatalogueContent
from hub.adapters.persistence import HubApplication
from hub.catalogue.versions import CatalogueVersion
from hub.settings import HubSettings

CATALOGUE_ID: UUID = uuid5(NAMESPACE_URL, "urn:dvc-hub:catalogue")


def content_digest(content: CatalogueContent) -> str:
    """SHA-256 of the content's canonical JSON (sorted keys): equal content, equal digest.
    A catalogue with no unit changes is digested without the key, as before changes were
    kept, so reloading an unchanged catalogue records no new version."""
    dumped = content.model_dump(mode="json")
    if not dumped.get("changes"):
        dumped.pop("changes", None)
    canonical = orjson.dumps(dumped, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class Catalogue(Aggregate):
    """The province's reference data; each event is a complete version of it."""

    class Started(Aggregate.Created):
        pass

    class Published(Aggregate.Event):
        content: dict[str, Any]
        digest: str
        source: str

        def apply(self, aggregate: Any) -> None:
            aggregate.digest = self.digest

    def __init__(self) -> None:
        self.digest: str | None = None

    def publish(self, content: CatalogueContent, source: str) -> bool:
        """Record ``content`` as the next version; False (and nothing recorded) if unchanged."""
        digest = content_digest(content)
        if digest == self.digest:
            return False
        self.trigger_event(
            self.Published, content=content.model_dump(mode="json"), digest=digest, source=source
        )
        return True


class CatalogueStore(HubApplication):
    """Loads and reads catalogue versions; its table is ``catalogue_events``."""

    name = "Catalogue"

    def __init__(self, settings: HubSettings) -> None:
        super().__init__(settings.model_copy(update={"aggregate_cache_size": 0}), "catalogue")
        self._parsed: dict[int, CatalogueVersion] = {}
        #: The newest version read, and the store's last notification when it was read.
        self._newest: tuple[int | None, CatalogueVersion | None] | None = None

    def load(self, content: CatalogueContent, source: str) -> tuple[CatalogueVersion, bool]:
        """Store ``content`` as a new version unless it equals the current one."""
        try:
            catalogue: Any = self.repository.get(CATALOGUE_ID)
        except AggregateNotFoundError:
            catalogue = Catalogue._create(Catalogue.Started, id=CATALOGUE_ID)
        changed = catalogue.publish(content, source)
        if changed:
            self.save(catalogue)
        current = self.current()
        assert current is not None
        return current, changed

    def current(self) -> CatalogueVersion | None:
        """The newest version, or None before the first load. The version (megabytes of
        JSON) is read again only when the store has recorded something since: every page
        and figure asks for it, and asking the store's last notification is cheap."""
        head = self.recorder.max_notification_id()
        known = self._newest
        if known is not None and known[0] == head:
            return known[1]
        newest = list(self.events.get(CATALOGUE_ID, desc=True, limit=1))
        version = (
            self._version(newest[0])
            if newest and isinstance(newest[0], Catalogue.Published)
            else None
        )
        self._newest = (head, version)
        return version

    def as_of(self, moment: datetime) -> CatalogueVersion | None:
        """The version in force at ``moment`` (the last loaded at or before it)."""
        chosen = None
        for event in self.events.get(CATALOGUE_ID):
            if isinstance(event, Catalogue.Published) and event.timestamp <= moment:
                chosen = event
        return None if chosen is None else self._version(chosen)

    def versions(self) -> list[tuple[int, datetime, str, str]]:
        """Every version: number, when loaded, digest, source."""
        return [
            (e.originator_version - 1, e.timestamp, e.digest, e.source)
            for e in self.events.get(CATALOGUE_ID)
            if isinstance(e, Catalogue.Published)
        ]

    def _version(self, event: Catalogue.Published) -> CatalogueVersion:
        number = event.originator_version - 1
        cached = self._parsed.get(number)
        if cached is None:
            content = CatalogueContent.model_validate(event.content)
            cached = CatalogueVersion(number, event.timestamp, event.digest, event.source, content)
            self._parsed = {number: cached}
        return cached
