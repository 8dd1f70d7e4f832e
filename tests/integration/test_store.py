"""The event store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import orjson
import pytest

from events import DossierStatus, RejectReason
from events.parsing import load_stored_event
from hub.bootstrap import Hub, bootstrap
from hub.domain.dossier import dossier_id
from hub.ingest import Ingestor
from hub.log_reader import dossier_history, read_log
from hub.settings import HubSettings
from tests.factories import CODE, at, event, received


def statuses(outcomes: list) -> list[str]:  # type: ignore[type-arg]
    return [o.status for o in outcomes]


def test_events_are_stored_and_read_back_exactly(hub: Hub) -> None:
    sent = [
        event("dossier.received", received(days="2.5"), when="2021-03-15 09:00"),
        event("dossier.financial_obligation_requested", when="2021-03-15 10:00"),
        event("dossier.fee_paid", when="2021-03-15 11:00"),
    ]
    assert statuses(hub.ingestor.submit_json(sent)) == ["accepted"] * 3
    history = dossier_history(hub.store, CODE)
    assert [h.position for h in history] == [1, 2, 3]
    for original, stored in zip(sent, history, strict=True):
        loaded = load_stored_event(stored.record)
        assert loaded.model_dump(mode="json", exclude={"recorded_at"}) == {
            **load_stored_event(original).model_dump(mode="json", exclude={"recorded_at"})
        }
        assert loaded.recorded_at is not None
    fee = load_stored_event(history[2].record)
    assert str(fee.payload.amount) == "150000.50"  # type: ignore[union-attr]
    dossier = hub.store.dossier(CODE)
    assert dossier is not None
    assert dossier.state is not None
    assert dossier.state.status is DossierStatus.PROCESSING
    # 2.5 working days (20 office hours) from Monday 09:00 end Wednesday 15:00;
    # the hour spent waiting for the fee is added.
    assert dossier.state.due_at == at("2021-03-17 16:00")


def test_resending_is_a_duplicate_and_stores_nothing(hub: Hub) -> None:
    sent = [event("dossier.received"), event("dossier.transferred", when="2021-03-15 10:00")]
    hub.ingestor.submit_json(sent)
    before = sum(1 for _ in read_log(hub.store))
    again = hub.ingestor.submit_json([*sent, sent[0]])
    assert statuses(again) == ["duplicate"] * 3
    assert sum(1 for _ in read_log(hub.store)) == before == 2


def test_a_batch_mixes_accepted_duplicate_and_rejected_and_keeps_the_good(hub: Hub) -> None:
    first = event("dossier.received")
    outcomes = hub.ingestor.submit_bytes(
        [
            orjson.dumps(first),
            orjson.dumps(first),
            b"{not json",
            orjson.dumps(event("dossier.result_returned", when="2021-03-15 10:00")),
            orjson.dumps(event("dossier.resolved", when="2021-03-15 11:00")),
        ]
    )
    assert statuses(outcomes) == ["accepted", "duplicate", "rejected", "rejected", "accepted"]
    assert outcomes[2].reason is RejectReason.MALFORMED_JSON
    assert outcomes[3].reason is RejectReason.RESULT_BEFORE_RESOLUTION
    assert [h.record["event_type"] for h in dossier_history(hub.store, CODE)] == [
        "dossier.received",
        "dossier.resolved",
    ]


def test_the_log_keeps_store_order_across_dossiers(hub: Hub) -> None:
    codes = [f"000.00.01.H12-210315-{n:04d}" for n in range(1, 6)]
    batch = [event("dossier.received", code=c) for c in codes]
    batch += [event("dossier.resolved", code=c, when="2021-03-16 09:00") for c in codes]
    hub.ingestor.submit_json(batch)
    log = list(read_log(hub.store, page=3))
    assert [e.position for e in log] == sorted(e.position for e in log)
    assert len(log) == 10
    per_dossier = Counter(e.record["dossier_code"] for e in log)
    assert set(per_dossier.values()) == {2}


def test_a_stale_cached_dossier_is_reloaded_and_the_batch_retried(settings: HubSettings) -> None:
    """Optimistic concurrency: two writers on one store never lose or double an event."""
    first = bootstrap(settings, configure_logs=False)
    second = bootstrap(settings, configure_logs=False)
    try:
        first.ingestor.submit_json([event("dossier.received")])
        # The second writer caches the dossier at version 1 ...
        second.ingestor.submit_json([event("dossier.received")])
        # ... the first appends version 2 ...
        first.ingestor.submit_json([event("dossier.transferred", when="2021-03-15 10:00")])
        # ... so the second's cached copy is stale: its save conflicts, it reloads, retries.
        outcome = second.ingestor.submit_json([event("dossier.resolved", when="2021-03-15 11:00")])
        assert statuses(outcome) == ["accepted"]
        history = dossier_history(first.store, CODE)
        assert [h.record["event_type"] for h in history] == [
            "dossier.received",
            "dossier.transferred",
            "dossier.resolved",
        ]
        assert history[2].transition["status_before"] == DossierStatus.PROCESSING
    finally:
        first.close()
        second.close()


def test_the_store_survives_a_restart(settings: HubSettings) -> None:
    hub = bootstrap(settings, configure_logs=False)
    hub.ingestor.submit_json([event("dossier.received")])
    hub.close()
    reopened = bootstrap(settings, configure_logs=False)
    try:
        dossier = reopened.store.dossier(CODE)
        assert dossier is not None
        assert dossier.id == dossier_id(CODE)
        assert statuses(reopened.ingestor.submit_json([event("dossier.received")])) == ["rejected"]
    finally:
        reopened.close()


def test_the_recorded_time_comes_from_the_hub_clock(hub: Hub) -> None:
    fixed = at("2021-03-15 09:00:05")
    ingestor = Ingestor(hub.store, hub.rules, clock=lambda: fixed)
    ingestor.submit_json([event("dossier.received") | {"recorded_at": "1999-01-01T00:00:00Z"}])
    (stored,) = dossier_history(hub.store, CODE)
    assert stored.record["recorded_at"] == fixed.isoformat()
    assert fixed - at("2021-03-15 09:00") == timedelta(seconds=5)


@pytest.mark.postgres
def test_postgres_stores_events_as_json_readable_in_sql(
    postgres_url: str, postgres_schema: str, tmp_path: object
) -> None:
    import psycopg

    settings = HubSettings(database_url=postgres_url, database_schema=postgres_schema)
    hub = bootstrap(settings, configure_logs=False)
    try:
        hub.ingestor.submit_json([event("dossier.received", received(days="1.5"))])
    finally:
        hub.close()
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "SELECT doc #>> '{record,payload,processing_time,value}',"
            " doc #>> '{record,dossier_code}'"
            " FROM (SELECT convert_from(state, 'UTF8')::jsonb AS doc"
            f" FROM {postgres_schema}.dossiers_events) AS stored"
        ).fetchone()
    assert row == ("1.5", CODE)


def test_an_opening_event_for_an_uncached_stored_dossier_is_still_a_duplicate(
    settings: HubSettings,
) -> None:
    """A fresh writer guesses a 'received' opens a new dossier; the store proves it wrong,
    and the batch is decided again from the store at once: no retry is scheduled, no wait
    (a file sent again is made of such batches)."""
    from stamina.instrumentation import RetryDetails, get_on_retry_hooks, set_on_retry_hooks

    sent = event("dossier.received")
    first = bootstrap(settings, configure_logs=False)
    first.ingestor.submit_json([sent, event("dossier.resolved", when="2021-03-16 09:00")])
    first.close()
    fresh = bootstrap(settings, configure_logs=False)
    scheduled: list[RetryDetails] = []
    hooks = get_on_retry_hooks()

    def record(details: RetryDetails) -> None:
        scheduled.append(details)

    set_on_retry_hooks([record])
    try:
        other = event("dossier.received", code="000.00.01.H12-210315-0002")
        outcomes = fresh.ingestor.submit_json([other, sent])
        assert statuses(outcomes) == ["accepted", "duplicate"]
        assert scheduled == []
        assert len(dossier_history(fresh.store, CODE)) == 2
        assert len(dossier_history(fresh.store, other["dossier_code"])) == 1
    finally:
        set_on_retry_hooks(hooks)
        fresh.close()


@pytest.mark.postgres
def test_processes_starting_at_once_all_get_the_store(
    postgres_url: str, postgres_schema: str
) -> None:
    """Several hub processes starting together on an empty database race to create tables."""
    import threading

    settings = HubSettings(database_url=postgres_url, database_schema=postgres_schema)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    hubs: list[Hub] = []

    def start() -> None:
        barrier.wait()
        try:
            hubs.append(bootstrap(settings, configure_logs=False))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(hubs) == 4
        assert statuses(hubs[0].ingestor.submit_json([event("dossier.received")])) == ["accepted"]
        assert hubs[3].store.dossier(CODE) is not None
    finally:
        for hub in hubs:
            hub.close()
