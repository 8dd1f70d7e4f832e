"""The hostile corpus on the Kafka actions topic: each record stored once or rejected once
with its reason in valid UTF-8 headers, the credential read as over HTTP, records keyed by
anything but their dossier code refused, and no unit touching another's dossiers."""

from __future__ import annotations

import threading
from typing import Any

import jsonschema_rs
import orjson
from kafka import KafkaProducer

from events.asyncapi import asyncapi_document, resolved_schema
from events.bus import REJECT_MESSAGE_HEADER, REJECT_REASON_HEADER
from hub.adapters.sql import ReadModelDatabase
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import bootstrap
from hub.bus.inbound import InboundConsumer
from hub.bus.relay import Relay
from hub.bus.sources import LogSource
from hub.bus.topics import ensure_topics
from hub.log_reader import read_log
from hub.settings import HubSettings
from projections.rebuild import rebuild
from projections.runner import ProgressWorker
from tests.factories import OTHER_UNIT, UNIT, event
from tests.hostile import code, corpus, expected_counts
from tests.topics import read_committed
from tests.waiting import eventually, thread_alive

Record = tuple[bytes | None, bytes, list[tuple[str, bytes]], str]  # key, value, headers, answer


def _key(raw: bytes) -> bytes:
    try:
        return str(orjson.loads(raw)["dossier_code"]).encode()
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return b"unreadable"


def _records(keys: dict[str, str]) -> list[Record]:
    def auth(unit: str = UNIT) -> list[tuple[str, bytes]]:
        return [("authorization", f"Bearer {keys[unit]}".encode())]

    records: list[Record] = []
    for line in corpus():
        try:
            unit = orjson.loads(line.raw).get("unit_code", UNIT)
        except (orjson.JSONDecodeError, AttributeError):
            unit = UNIT
        sender = OTHER_UNIT if unit == OTHER_UNIT else UNIT
        answer = line.reason if line.status == "rejected" else line.status
        records.append((_key(line.raw), line.raw, auth(sender), answer or ""))
    mismatched = orjson.dumps(event("dossier.received", code=code(90)))
    unkeyed = orjson.dumps(event("dossier.received", code=code(91)))
    bare = orjson.dumps(event("dossier.received", code=code(92)))
    twice = orjson.dumps(event("dossier.received", code=code(93)))
    lower = orjson.dumps(event("dossier.received", code=code(94)))
    strange = orjson.dumps(event("dossier.received", code=code(95)))
    long_type = orjson.dumps(event("dossier.received", code=code(96)) | {"event_type": "ồ" * 3000})
    return [
        *records,
        (code(91).encode(), mismatched, auth(), "key_not_dossier_code"),
        (None, unkeyed, auth(), "key_not_dossier_code"),
        (code(92).encode(), bare, [("authorization", keys[UNIT].encode())], "unauthenticated"),
        (code(93).encode(), twice, auth() + auth(), "unauthenticated"),
        (
            code(94).encode(),
            lower,
            [("Authorization", f"bearer {keys[UNIT]}".encode())],
            "accepted",
        ),
        (code(95).encode(), strange, [("authorization", "Bearer ồ".encode())], "unauthenticated"),
        (code(96).encode(), long_type, auth(), "unknown_event_type"),
    ]


def test_the_corpus_on_the_actions_topic(bus_settings: HubSettings) -> None:
    settings = bus_settings
    ensure_topics(settings)
    credentials = CredentialStore(settings)
    keys = {
        UNIT: credentials.issue("so-tu-phap", Role.PUBLISHER, [UNIT])[1],
        OTHER_UNIT: credentials.issue("so-xay-dung", Role.PUBLISHER, [OTHER_UNIT])[1],
    }
    records = _records(keys)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for key, value, headers, _ in records:
        producer.send(settings.kafka_actions_topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()

    hub = bootstrap(settings, configure_logs=False)
    consumer = InboundConsumer(settings, hub.ingestor, credentials, "hostile")
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,))
    worker.start()
    relay = threading.Thread(target=Relay(settings, hub.store).run, args=(stop,))
    relay.start()
    rejected = [r for r in records if r[3] not in ("accepted", "duplicate")]
    accepted = sum(r[3] == "accepted" for r in records)
    try:
        rejects = _read(settings, settings.kafka_rejects_topic, len(rejected), timeout=90)
        eventually(
            lambda: sum(1 for _ in read_log(hub.store)) >= accepted,
            timeout=60,
            what="the accepted events stored",
            alive=lambda: thread_alive(worker, "the inbound consumer died"),
        )
        assert worker.is_alive()
        published = _read(settings, settings.kafka_events_topic, accepted, timeout=60)
    finally:
        stop.set()
        worker.join(timeout=30)
        relay.join(timeout=30)
    assert sum(1 for _ in read_log(hub.store)) == accepted
    assert accepted == expected_counts(corpus())["accepted"] + 1

    wanted: dict[bytes, str] = {value: answer for _, value, _, answer in rejected}
    got: dict[bytes, str] = {}
    for record in rejects:
        received = dict(record.headers)
        for value in received.values():
            value.decode("utf-8")  # every header is valid UTF-8, cut or not
        assert len(received[REJECT_MESSAGE_HEADER]) <= 4_000
        got[record.value] = received[REJECT_REASON_HEADER].decode()
    assert got == wanted

    _conforms_to_the_asyncapi_document(settings, published, rejects)

    # The read side follows the log to its end.
    db = ReadModelDatabase(settings)
    try:
        assert ProgressWorker(db, LogSource(hub.store)).catch_up() == accepted
    finally:
        db.close()
    assert rebuild(settings, hub.store).events == accepted
    hub.close()
    credentials.close()


def _read(settings: HubSettings, topic: str, until: int, timeout: float) -> list[Any]:
    records = read_committed(settings, topic, until, timeout)
    assert len(records) == until, f"{len(records)} of {until} records arrived on {topic}"
    return records


def _conforms_to_the_asyncapi_document(
    settings: HubSettings, published: list[Any], rejects: list[Any]
) -> None:
    """What the hub really wrote, checked against the topics' published contract."""
    document = asyncapi_document(
        settings.kafka_actions_topic, settings.kafka_events_topic, settings.kafka_rejects_topic
    )
    messages = document["components"]["messages"]

    def validator(schema: dict[str, Any]) -> Any:
        return jsonschema_rs.Draft202012Validator(
            resolved_schema(document, schema), validate_formats=True
        )

    for name, records, value_is_json in (
        ("published", published, True),
        ("rejected", rejects, False),
    ):
        message = messages[name]
        headers = validator(message["headers"])
        payload = validator(message["payload"])
        key = validator(message["bindings"]["kafka"]["key"])
        for record in records:
            as_text = {k: v.decode() for k, v in record.headers}
            headers.validate(as_text)
            if value_is_json:
                payload.validate(orjson.loads(record.value))
                key.validate(record.key.decode())
    assert document["channels"]["events"]["address"] == settings.kafka_events_topic
