"""Baseline: the plain eventsourcing way, one ``repository.get`` and one ``save()`` per event.

Run as a separate process by ``benchmarks.ingest_postgres`` so that its memory is measured
apart. Same events, same aggregate, same rules as ``dvchub ingest``; no batching, no cache.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError

from events.errors import EventRejected
from events.parsing import parse_event_bytes
from hub.bootstrap import bootstrap
from hub.domain.dossier import Dossier, DuplicateEvent, dossier_id
from hub.domain.vietnam import VIETNAM
from hub.settings import HubSettings


def main(path: Path) -> None:
    hub = bootstrap(HubSettings(aggregate_cache_size=0), configure_logs=False)
    accepted = 0
    with path.open("rb") as lines:
        for raw in lines:
            event = parse_event_bytes(raw)
            dossier: Dossier | None
            try:
                dossier = hub.store.repository.get(dossier_id(event.dossier_code))
            except AggregateNotFoundError:
                dossier = None
            try:
                if dossier is None:
                    dossier = Dossier.open(event, hub.rules, datetime.now(VIETNAM))
                else:
                    assert isinstance(dossier, Dossier)
                    dossier.record(event, hub.rules, datetime.now(VIETNAM))
            except (EventRejected, DuplicateEvent):
                continue
            hub.store.save(dossier)
            accepted += 1
    hub.close()
    print(accepted)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
