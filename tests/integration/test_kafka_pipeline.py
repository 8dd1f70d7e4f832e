"""The bus against a real Kafka broker and a real PostgreSQL: nothing lost, nothing doubled,
per-dossier order kept, every bad record rejected with its reason — through a hub killed with
SIGKILL and a broker restarted mid-stream."""

from __future__ import annotations

import threading
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import OperationalError
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from events import EventRejected, RejectReason
from events.bus import (
    REJECT_REASON_HEADER,
    REJECT_SOURCE_HEADER,
    PublishedEvent,
)
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import bootstrap
from hub.bus.inbound import InboundConsumer
from hub.bus.rejects import KafkaRejectSink, Reject
from hub.bus.topics import ensure_topics
from hub.ingest import Outcome
from hub.log_reader import read_log
from hub.settings import HubSettings
from hub.simulation.publish import KafkaSink, NotAcknowledged, PublishReport
from hub.simulation.workload import Workload
from tests.conftest import Broker
from tests.processes import CliProcess, alive, cli_result, run_cli, table_rows
from tests.services import OwnPostgres
from tests.topics import read_committed
from tests.waiting import eventually

pytestmark = pytest.mark.postgres


class HubProcess(CliProcess):
    """``dvchub serve --no-api`` in a child process, as an operator would run it."""

    def __init__(self, settings: HubSettings, log: Path) -> None:
        super().__init__(settings, log, "serve", "--no-api")


@pytest.fixture
def hub_process(bus_settings: HubSettings, tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(bus_settings, tmp_path / "hub.log")
    yield process
    process.stop()


@pytest.fixture
def own_bus_settings(bus_settings: HubSettings, own_kafka: Broker) -> HubSettings:
    """``bus_settings`` on a broker of the test's own, which it may stop and start."""
    return bus_settings.model_copy(update={"kafka_bootstrap": own_kafka.bootstrap})


@pytest.fixture
def own_hub_process(own_bus_settings: HubSettings, tmp_path: Path) -> Iterator[HubProcess]:
    process = HubProcess(own_bus_settings, tmp_path / "hub.log")
    yield process
    process.stop()


def _bad_records(unit_limited_key: str, key: str) -> list[tuple[bytes, dict[str, str], str]]:
    """(value, headers, expected reason) of records the hub must reject."""
    good_shape = orjson.loads(orjson.dumps(_workload()[0]))
    other_unit = {**good_shape, "event_id": str(uuid.uuid4())}
    return [
        (b'{"event_type": "dossier.rec', {"authorization": f"Bearer {key}"}, "malformed_json"),
        (
            orjson.dumps({**good_shape, "event_id": str(uuid.uuid4()), "event_type": "x.y"}),
            {"authorization": f"Bearer {key}"},
            "unknown_event_type",
        ),
        (orjson.dumps({**good_shape, "event_id": str(uuid.uuid4())}), {}, "unauthenticated"),
        (
            orjson.dumps(other_unit),
            {"authorization": f"Bearer {unit_limited_key}"},
            "unit_not_authorised",
        ),
        (
            orjson.dumps(
                {
                    **good_shape,
                    "event_id": str(uuid.uuid4()),
                    "event_type": "dossier.resolved",
                    "schema_version": 1,
                    "dossier_code": "000.00.01.H12-210101-9999",
                    "payload": {"decision": "denied"},
                }
            ),
            {"authorization": f"Bearer {key}"},
            "dossier_not_received",
        ),
    ]


def _key_of(value: bytes, index: int) -> bytes:
    """A record's key as a publisher sets it: its dossier code, when there is one."""
    try:
        return str(orjson.loads(value)["dossier_code"]).encode()
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return b"bad-%d" % index


def _publisher_key(settings: HubSettings) -> str:
    """Create the topics and a publisher key for every unit."""
    ensure_topics(settings)
    credentials = CredentialStore(settings)
    _, key = credentials.issue("mot-cua-tinh", Role.PUBLISHER, ["*"])
    credentials.close()
    return key


def _send_all(
    bootstrap: str | None, topic: str, records: list[tuple[bytes, bytes, dict[str, str]]]
) -> None:
    """Send (key, value, headers) records and wait until the broker has acknowledged each
    one: an event the test failed to send must not pass for one the hub lost."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        futures = [
            producer.send(
                topic,
                key=k,
                value=v,
                headers=[(name, value.encode()) for name, value in h.items()],
            )
            for k, v, h in records
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close()


def _publish(settings: HubSettings, key: str, events: list[dict[str, Any]]) -> None:
    """Put ``events`` on the actions topic, keyed by dossier code, with the key's header."""
    headers = {"authorization": f"Bearer {key}"}
    records = [(e["dossier_code"].encode(), orjson.dumps(e), headers) for e in events]
    _send_all(settings.kafka_bootstrap, settings.kafka_actions_topic, records)


def _hub_warnings(log: Path) -> str:
    """The last lines of a hub's log that are not informational, to explain a failure."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    kept = [line[:400] for line in lines if '"level": "info"' not in line]
    return "\n".join(kept[-40:]) or "(none)"


def _assert_each_once(
    published: list[Any], events: list[dict[str, Any]], log: Path | None = None
) -> None:
    ids = [str(PublishedEvent.model_validate_json(r.value).record.event_id) for r in published]
    assert len(ids) == len(set(ids)), "an event was published twice"
    missing = {e["event_id"] for e in events} - set(ids)
    unexpected = set(ids) - {e["event_id"] for e in events}
    assert not unexpected, f"{len(unexpected)} events published that were never sent"
    assert not missing, (
        f"{len(missing)} of {len(events)} events never reached the events topic, "
        f"e.g. {sorted(missing)[:3]}; the hub's warnings and errors:\n"
        + (_hub_warnings(log) if log is not None else "(no log)")
    )


def _workload() -> list[dict[str, Any]]:
    return Workload(date(2021, 3, 1), 12, 30, seed=7).events()


def test_every_event_once_in_order_through_a_killed_hub_and_a_restarted_broker(
    own_kafka: Broker, own_bus_settings: HubSettings, own_hub_process: HubProcess
) -> None:
    kafka, settings, hub_process = own_kafka, own_bus_settings, own_hub_process
    ensure_topics(settings)
    credentials = CredentialStore(settings)
    _, key = credentials.issue("mot-cua-tinh", Role.PUBLISHER, ["*"])
    _, limited = credentials.issue("xa-an-xuyen", Role.PUBLISHER, ["000.05.22.H12"])
    credentials.close()

    events = _workload()
    bad = _bad_records(limited, key)
    # Three producers; each dossier's events all go through one of them, in order.
    shares: list[list[tuple[bytes, bytes, dict[str, str]]]] = [[], [], []]
    for event in events:
        code = event["dossier_code"].encode()
        shares[zlib.crc32(code) % 3].append(
            (code, orjson.dumps(event), {"authorization": f"Bearer {key}"})
        )
    for index, (bad_value, bad_headers, _) in enumerate(bad):
        share = shares[index % 3]
        share.insert(len(share) // 2, (_key_of(bad_value, index), bad_value, bad_headers))

    def publish_part(part: slice) -> None:
        with ThreadPoolExecutor(len(shares)) as producers:
            sent = [
                producers.submit(
                    _send_all, settings.kafka_bootstrap, settings.kafka_actions_topic, share[part]
                )
                for share in shares
            ]
            for each in sent:
                each.result()

    quarter = max(len(s) for s in shares) // 4
    hub_process.start()
    publish_part(slice(0, quarter))
    # Wait for the hub to be mid-stream, then kill it without warning.
    read_committed(settings, settings.kafka_events_topic, until=quarter, timeout=60)
    hub_process.kill()
    # A backlog builds up while it is dead ...
    publish_part(slice(quarter, 3 * quarter))
    hub_process.start()
    # ... and the broker is restarted while the new hub works through it.
    read_committed(settings, settings.kafka_events_topic, until=quarter + 1, timeout=60)
    kafka.stop()
    kafka.start()
    publish_part(slice(3 * quarter, None))

    published = read_committed(
        settings, settings.kafka_events_topic, until=len(events), timeout=180
    )
    hub_process.stop()
    # Read once more after everything stopped: nothing beyond the expected may appear.
    published = read_committed(
        settings, settings.kafka_events_topic, until=len(events) + 1, timeout=10
    )

    _assert_each_once(published, events, hub_process.log)
    values = [PublishedEvent.model_validate_json(r.value) for r in published]
    assert len({v.position for v in values}) == len(values)
    by_dossier: dict[str, list[PublishedEvent]] = defaultdict(list)
    for record, published_event in zip(published, values, strict=True):
        assert record.key == published_event.record.dossier_code.encode()
        by_dossier[published_event.record.dossier_code].append(published_event)
    sent_order: dict[str, list[str]] = defaultdict(list)
    for event in events:
        sent_order[event["dossier_code"]].append(event["event_id"])
    for code, received in by_dossier.items():
        assert [str(v.record.event_id) for v in received] == sent_order[code], code
        positions = [v.position for v in received]
        assert positions == sorted(positions)

    rejects = read_committed(settings, settings.kafka_rejects_topic, until=len(bad) + 1, timeout=15)
    reasons = sorted(dict(r.headers)[REJECT_REASON_HEADER].decode() for r in rejects)
    assert reasons == sorted(reason for _, _, reason in bad), (
        "each bad record once, with its reason"
    )
    for record in rejects:
        headers = dict(record.headers)
        assert (
            headers[REJECT_SOURCE_HEADER]
            .decode()
            .startswith(f"kafka:{settings.kafka_actions_topic}/")
        )
        assert record.value in {value for value, _, _ in bad}


def test_a_hub_started_while_the_broker_is_away_waits_for_it(
    own_kafka: Broker, own_bus_settings: HubSettings, own_hub_process: HubProcess
) -> None:
    """Restarted while Kafka is away (as after a power cut, or by a process manager in any
    order), the hub waits for the broker, longer than its clients' own 30 s of trying, and
    then takes every action sent meanwhile; ``projections status`` says what it can."""
    kafka, settings, hub_process = own_kafka, own_bus_settings, own_hub_process
    key = _publisher_key(settings)
    events = Workload(date(2021, 6, 1), 4, 15, seed=3).events()
    half = len(events) // 2
    hub_process.start()
    _publish(settings, key, events[:half])
    read_committed(settings, settings.kafka_events_topic, until=half, timeout=120)
    _wait_until_caught_up(settings)
    hub_process.stop()

    kafka.stop()
    try:
        hub_process.start()
        # Meanwhile an operator asks for the lag: answered once the client gives up.
        away = cli_result(settings, "projections", "status")
        # The outage outlasts the hub's own clients' trying (30 s): they give up, the hub
        # says so and carries on waiting.
        eventually(
            lambda: "kafka.unavailable" in hub_process.log.read_text(errors="replace"),
            timeout=120,
            what="the hub's clients to give up on the broker once",
            alive=alive(hub_process),
        )
        assert hub_process.running, "the hub gave up on the broker:\n" + _hub_warnings(
            hub_process.log
        )
    finally:
        kafka.start()
    assert away.returncode == 0, away.stderr
    assert f"Kafka at {settings.kafka_bootstrap} does not answer" in away.stderr
    assert "lag is unknown" in away.stdout + away.stderr
    assert f"store: last position {half}" in away.stdout

    _publish(settings, key, events[half:])
    read_committed(settings, settings.kafka_events_topic, until=len(events), timeout=120)
    # After the outage each consumer first waits out its client's reconnect backoff (up to
    # 30 s, kafka-python's reconnect_backoff_max_ms) and then joins its group again.
    _wait_until_caught_up(settings, timeout=120)
    hub_process.stop()
    published = read_committed(
        settings, settings.kafka_events_topic, until=len(events) + 1, timeout=10
    )
    _assert_each_once(published, events, hub_process.log)
    assert "kafka.unavailable" in hub_process.log.read_text()


def _wait_until_caught_up(settings: HubSettings, timeout: float = 60) -> None:
    """Until ``dvchub projections status`` says both projections have read every partition."""

    def caught_up() -> str | None:
        status = run_cli(settings, "projections", "status")
        topic = settings.kafka_events_topic
        kafka_rows = [row for row in table_rows(status, 7) if row[1] == topic]
        done = (
            {row[0] for row in kafka_rows} == {"unit_progress", "reuse_index"}
            and all(row[5] == "0 records" for row in kafka_rows)
            and "behind the store by at most 0 events" in status
        )
        return None if done else status

    eventually(lambda: caught_up() is None, timeout=timeout, what="the projections catching up")


def test_http_rejects_reach_the_rejects_topic_with_their_reason(bus_settings: HubSettings) -> None:
    settings = bus_settings
    ensure_topics(settings)
    assert settings.kafka_bootstrap is not None
    sink = KafkaRejectSink(settings.kafka_bootstrap, settings.kafka_rejects_topic)
    outcome = Outcome.rejected(
        EventRejected(RejectReason.UNIT_NOT_AUTHORISED, "not yours", field="unit_code")
    )
    sink.publish([Reject(b'{"original": true}', outcome, "http:req-1/0")])
    sink.close()
    (record,) = read_committed(settings, settings.kafka_rejects_topic, until=1, timeout=30)
    headers = {name: value.decode() for name, value in record.headers}
    assert record.value == b'{"original": true}'
    assert headers[REJECT_REASON_HEADER] == "unit_not_authorised"
    assert headers[REJECT_SOURCE_HEADER] == "http:req-1/0"
    assert headers["dvc-field"] == "unit_code"


def test_nothing_lost_or_doubled_through_a_database_restart(
    bus_settings: HubSettings, own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    """PostgreSQL (the test's own) stops while actions keep arriving, and comes back 12 s later.

    (The store's own retries, and then the inbound consumer's rewind, bridge the gap.)
    """
    settings = HubSettings(
        **{**dict(bus_settings), "database_url": own_postgres.url, "database_schema": "public"}
    )
    hub_process = HubProcess(settings, tmp_path / "hub.log")
    key = _publisher_key(settings)
    events = Workload(date(2021, 4, 1), 8, 25, seed=11).events()
    half = len(events) // 2
    hub_process.start()
    _publish(settings, key, events[:half])
    read_committed(settings, settings.kafka_events_topic, until=half // 2, timeout=60)
    try:
        own_postgres.stop()
        _publish(settings, key, events[half:])
        time.sleep(12)  # longer than the connect timeout (10 s): the hub meets a database away
        own_postgres.start()
        read_committed(settings, settings.kafka_events_topic, until=len(events), timeout=180)
    finally:
        hub_process.stop()
    published = read_committed(
        settings, settings.kafka_events_topic, until=len(events) + 1, timeout=10
    )
    _assert_each_once(published, events, hub_process.log)


def test_a_batch_the_store_refuses_is_taken_again_not_skipped(bus_settings: HubSettings) -> None:
    """The inbound consumer's own recovery: no offset moves past events the store did not take."""
    settings = bus_settings
    key = _publisher_key(settings)
    hub = bootstrap(settings, configure_logs=False)
    credentials = CredentialStore(settings)
    events = Workload(date(2021, 5, 3), 3, 10, seed=5).events()
    _publish(settings, key, events)

    failures = {"left": 2}
    real_submit = hub.ingestor.submit_items

    def flaky_submit(items: Any, by: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("the database is away")
        return real_submit(items, by)

    hub.ingestor.submit_items = flaky_submit  # type: ignore[method-assign,assignment]
    consumer = InboundConsumer(settings, hub.ingestor, credentials, "flaky")
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,))
    worker.start()
    try:
        eventually(
            lambda: sum(1 for _ in read_log(hub.store)) >= len(events),
            timeout=60,
            what="the refused batches taken again",
        )
    finally:
        stop.set()
        worker.join(30)
    stored = [e.record["event_id"] for e in read_log(hub.store)]
    assert failures["left"] == 0
    assert sorted(stored) == sorted(e["event_id"] for e in events)
    credentials.close()
    hub.close()


def test_the_simulators_kafka_sink_reports_records_the_broker_refused(kafka: Broker) -> None:
    """Sends are not waited for one by one, but none may be lost unseen: closing the sink
    names those the broker did not acknowledge."""
    topic = f"test.small.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "4096"})])
    finally:
        admin.close()
    events = Workload(date(2021, 5, 3), 2, 5, seed=9).events()
    oversized = {**events[0], "note": "x" * 10_000}
    report = PublishReport()
    sink = KafkaSink(kafka.bootstrap, topic, "a-key")
    sink.send([oversized], report)
    with pytest.raises(NotAcknowledged) as refused:
        sink.close()
    assert refused.value.failed == 1
    assert "TooLarge" in repr(refused.value.first)

    fits = KafkaSink(kafka.bootstrap, topic, "a-key")
    fits.send(events[1:3], report)
    fits.close()
    kept = _read_all_topic(kafka.bootstrap, topic, until=2)
    assert [r.value for r in kept] == [orjson.dumps(e) for e in events[1:3]]


def _read_all_topic(bootstrap: str, topic: str, until: int) -> list[Any]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5_000
    )
    try:
        records: list[Any] = []
        for record in consumer:
            records.append(record)
            if len(records) >= until:
                break
        return records
    finally:
        consumer.close()
