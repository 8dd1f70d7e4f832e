"""The embedded bus delivers what Kafka consumers of the events topic would get."""

from __future__ import annotations

import threading

from events.bus import PublishedEvent
from hub.bootstrap import Hub
from hub.bus.inprocess import InProcessBus
from tests.factories import CODE, event


def test_reads_accepted_events_in_store_order_with_their_transitions(hub: Hub) -> None:
    sent = [
        event("dossier.received", when="2021-03-15 09:00"),
        event("dossier.received", code="000.00.01.H12-210315-0002", when="2021-03-15 09:05"),
        event("dossier.resolved", when="2021-03-15 10:00"),
    ]
    hub.ingestor.submit_json([*sent, event("dossier.withdrawn", code="000.00.01.H12-210315-0009")])
    bus = InProcessBus(hub.store)
    published = bus.read(after=0)
    # One batch is one transaction; within it, each dossier's events keep their order.
    assert sorted(str(p.record.event_id) for p in published) == sorted(e["event_id"] for e in sent)
    assert [p.position for p in published] == sorted(p.position for p in published)
    first_dossier = [p for p in published if p.record.dossier_code == CODE]
    assert [p.record.event_type for p in first_dossier] == ["dossier.received", "dossier.resolved"]
    assert first_dossier[1].transition.status_before == 2
    assert first_dossier[1].transition.status_after == 9
    assert bus.read(after=published[0].position, limit=1) == [published[1]]


def test_follow_delivers_new_events_as_they_are_stored(hub: Hub) -> None:
    bus = InProcessBus(hub.store, poll_seconds=0.02)
    stop = threading.Event()
    received: list[PublishedEvent] = []
    done = threading.Event()

    def consume() -> None:
        for published in bus.follow(after=0, stop=stop):
            received.append(published)
            if len(received) == 2:
                done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    hub.ingestor.submit_json([event("dossier.received")])
    hub.ingestor.submit_json([event("dossier.transferred", when="2021-03-15 10:00")])
    assert done.wait(10)
    stop.set()
    consumer.join(5)
    assert [p.record.event_type for p in received] == ["dossier.received", "dossier.transferred"]
    assert {p.record.dossier_code for p in received} == {CODE}
