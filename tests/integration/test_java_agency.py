"""A Java agency system, played by Apache Kafka's own console producer and consumer (the
``kafka-tools`` artifact of the broker's release): it publishes with its key, reads the
events topic ``read_committed``, and reads its rejects with their headers."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator

import orjson
import pytest

from events.bus import PublishedEvent
from hub.auth.credentials import Role
from hub.auth.store import CredentialStore
from hub.bootstrap import bootstrap
from hub.bus.inbound import InboundConsumer
from hub.bus.relay import Relay
from hub.bus.topics import ensure_topics
from hub.settings import HubSettings
from tests.conftest import ROOT
from tests.factories import UNIT, event
from tests.hostile import code

KAFKA = ROOT / "scripts" / "services" / "kafka.sh"
PRODUCER = "org.apache.kafka.tools.ConsoleProducer"
CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"


def _tool(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(KAFKA), "tool", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _consume(
    settings: HubSettings, topic: str, count: int
) -> list[tuple[dict[str, str], str, str]]:
    """``count`` records of ``topic`` as the console consumer prints them: headers, key,
    value."""
    out = _tool(
        CONSUMER,
        "--bootstrap-server",
        str(settings.kafka_bootstrap),
        "--topic",
        topic,
        "--from-beginning",
        "--isolation-level",
        "read_committed",
        "--max-messages",
        str(count),
        "--timeout-ms",
        "60000",
        "--formatter-property",
        "print.headers=true",
        "--formatter-property",
        "print.key=true",
    )
    records = []
    for line in out.splitlines():
        headers_text, key, value = line.split("\t", 2)
        headers = {}
        if headers_text != "NO_HEADERS":
            for pair in headers_text.split(","):
                name, _, text = pair.partition(":")
                headers[name] = text
        records.append((headers, key, value))
    assert len(records) == count, out
    return records


@pytest.fixture
def running_hub(bus_settings: HubSettings) -> Iterator[HubSettings]:
    settings = bus_settings
    ensure_topics(settings)
    hub = bootstrap(settings, configure_logs=False)
    credentials = CredentialStore(settings)
    stop = threading.Event()
    consumer = InboundConsumer(settings, hub.ingestor, credentials, "java-test")
    threads = [
        threading.Thread(target=consumer.run, args=(stop,)),
        threading.Thread(target=Relay(settings, hub.store).run, args=(stop,)),
    ]
    for thread in threads:
        thread.start()
    yield settings
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    credentials.close()
    hub.close()


def test_a_java_agency_publishes_and_reads_the_events_and_its_rejects(
    running_hub: HubSettings,
) -> None:
    settings = running_hub
    credentials = CredentialStore(settings)
    _, key = credentials.issue("he-thong-java", Role.PUBLISHER, [UNIT])
    credentials.close()
    dossier = code(100)
    received = event("dossier.received", code=dossier)
    resolved = event("dossier.resolved", code=dossier, when="2021-03-16 10:00")
    lax = event("dossier.received", code=code(101))
    lax["payload"]["channel"] = "2"
    header = f"authorization:Bearer {key}"
    lines = [
        f"{header}\t{dossier}\t{orjson.dumps(received).decode()}",
        f"{header}\t{dossier}\t{orjson.dumps(resolved).decode()}",
        f"{header}\t{code(101)}\t{orjson.dumps(lax).decode()}",
    ]
    _tool(
        PRODUCER,
        "--bootstrap-server",
        str(settings.kafka_bootstrap),
        "--topic",
        settings.kafka_actions_topic,
        "--reader-property",
        "parse.key=true",
        "--reader-property",
        "parse.headers=true",
        stdin="\n".join(lines) + "\n",
    )

    published = _consume(settings, settings.kafka_events_topic, 2)
    assert [key for _, key, _ in published] == [dossier, dossier]
    events = [PublishedEvent.model_validate_json(value) for _, _, value in published]
    assert [str(e.record.event_id) for e in events] == [
        received["event_id"],
        resolved["event_id"],
    ]
    assert [int(e.transition.status_after) for e in events] == [2, 9]
    assert all(headers["dvc-position"] for headers, _, _ in published)

    ((headers, reject_key, value),) = _consume(settings, settings.kafka_rejects_topic, 1)
    assert reject_key == code(101)
    assert orjson.loads(value) == lax
    assert headers["dvc-reason"] == "schema_violation"
    assert headers["dvc-field"] == "payload.channel"
    assert headers["dvc-source"].startswith(f"kafka:{settings.kafka_actions_topic}/")
