"""An upgrade while agencies keep posting: a hub of the previous release serving HTTP and
Kafka is stopped, its tables upgraded, and this release started in its place; agencies
retry what the pause refused, as they must. Every event is stored once, published once, and
the read models equal a rebuild: nothing lost, nothing doubled. Afterwards Kafka's own
``kafka-consumer-groups`` and the hub's ``/metrics`` show every consumer caught up."""

from __future__ import annotations

import subprocess
import threading
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hub.adapters.sql import ReadModelDatabase
from hub.bootstrap import bootstrap
from hub.log_reader import read_log
from hub.settings import HubSettings
from hub.simulation.workload import Workload
from projections.rebuild import rebuild
from tests.integration.test_kafka_pipeline import _assert_each_once, _publish, _publisher_key
from tests.integration.test_projection_workers import _caught_up, _snapshot
from tests.processes import CliProcess, alive, cli_result
from tests.releases import PREVIOUS_RELEASE, ReleaseProcess, extract
from tests.services import SCRIPTS, free_port
from tests.topics import read_committed
from tests.waiting import eventually

pytestmark = pytest.mark.postgres


class Agency:
    """An agency system posting its dossiers' events one request at a time, in order; a
    request that fails (refused connection, 5xx) is sent again until the hub answers it."""

    def __init__(self, url: str, key: str, events: list[dict[str, Any]]) -> None:
        self.url, self.key, self.events = url, key, events
        self.sent = 0
        self.retries = 0
        self.outcomes: list[str] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with httpx.Client(timeout=10) as client:
                for event in self.events:
                    self.outcomes.append(self._post(client, event))
                    self.sent += 1
        except BaseException as error:
            self.error = error

    def _post(self, client: httpx.Client, event: dict[str, Any]) -> str:
        stop = threading.Event()
        while True:
            try:
                answer = client.post(
                    f"{self.url}/v1/events",
                    content=orjson.dumps([event]),
                    headers={"Authorization": f"Bearer {self.key}"},
                )
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code < 500:
                assert answer.status_code == 200, answer.text
                return str(answer.json()["results"][0]["status"])
            self.retries += 1
            stop.wait(0.05)  # an agency's back-off before it sends again


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_an_upgrade_under_traffic_loses_and_doubles_nothing(
    bus_settings: HubSettings, tmp_path: Path
) -> None:
    settings = bus_settings
    key = _publisher_key(settings)
    events = Workload(date(2021, 3, 1), 10, 16, seed=11).events()
    # Each dossier's events all go one way: half over HTTP, half over Kafka.
    by_http = [e for e in events if zlib.crc32(e["dossier_code"].encode()) % 2 == 0]
    by_kafka = [e for e in events if zlib.crc32(e["dossier_code"].encode()) % 2 == 1]
    assert by_http
    assert by_kafka
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    old_code = extract(PREVIOUS_RELEASE, tmp_path / "previous")
    old = ReleaseProcess(old_code, settings, tmp_path / "old.log", "serve", "--port", str(port))
    new = CliProcess(settings, tmp_path / "new.log", "serve", "--port", str(port))
    agency = Agency(url, key, by_http)
    try:
        old.start()
        eventually(lambda: _ready(url), timeout=90, what="the old release", alive=alive(old))
        agency.thread.start()
        _publish(settings, key, by_kafka[: len(by_kafka) // 2])
        eventually(
            lambda: agency.sent >= len(by_http) // 3,
            timeout=120,
            what="a third of the agency's events",
            alive=alive(old),
        )
        old.stop()  # SIGTERM, as an orchestrator stops a container
        assert old.process is not None
        assert old.process.returncode == 0, old.log.read_text()[-3000:]
        sent_before = agency.sent
        _publish(settings, key, by_kafka[len(by_kafka) // 2 :])  # a backlog while it is down
        upgraded = cli_result(settings, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        new.start()
        eventually(lambda: _ready(url), timeout=90, what="the new release", alive=alive(new))
        agency.thread.join(timeout=240)
        assert agency.error is None, agency.error
        assert agency.sent == len(by_http)
        assert sent_before < len(by_http), "the agency had finished before the upgrade"
        assert agency.retries, "no request met the pause: the upgrade was not under traffic"

        published = read_committed(
            settings, settings.kafka_events_topic, until=len(events), timeout=180
        )
        db = ReadModelDatabase(settings)
        eventually(
            lambda: _caught_up(settings, db, len(events), ("unit_progress", "reuse_index")),
            timeout=180,
            what="the projections to catch up",
            alive=alive(new),
        )
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
        new.stop()
    finally:
        old.stop()
        new.stop()
    # Read once more after everything stopped: nothing beyond the expected may appear.
    published = read_committed(
        settings, settings.kafka_events_topic, until=len(events) + 1, timeout=10
    )
    _assert_each_once(published, events, new.log)
    assert set(agency.outcomes) <= {"accepted", "duplicate"}
    hub = bootstrap(settings, configure_logs=False)
    try:
        stored = [str(e.record["event_id"]) for e in read_log(hub.store)]
        # Positions may skip numbers (a write refused mid-shutdown uses one up): count them.
        assert len(stored) == len(set(stored)), "an event was stored twice"
        assert set(stored) == {e["event_id"] for e in events}, "an event was lost"
        live = _snapshot(db)
        rebuild(settings, hub.store, shards=1)
    finally:
        hub.close()
    assert _snapshot(db) == live, "the live read models differ from a rebuild"
    db.close()

    # Lag as operators see it: each consumer group's offsets on the broker, read by Kafka's
    # own tool, and the hub's gauges.
    groups = {
        settings.kafka_inbound_group: settings.kafka_actions_topic,
        settings.kafka_projections_group: settings.kafka_events_topic,
        settings.kafka_projections_group + ".reuse_index": settings.kafka_events_topic,
    }
    for group, topic in groups.items():
        rows = _consumer_group(settings, group)
        assert rows, f"kafka-consumer-groups shows no offsets of {group}"
        for row in rows:
            assert row["TOPIC"] == topic
            assert row["LAG"] == "0", (group, row)
    for gauge in (
        'dvchub_projection_lag_records{projection="unit_progress"} 0.0',
        'dvchub_projection_lag_records{projection="reuse_index"} 0.0',
        "dvchub_inbound_consumer_lag_records 0.0",
        "dvchub_relay_lag_events 0.0",
    ):
        assert gauge in metrics, gauge


def _consumer_group(settings: HubSettings, group: str) -> list[dict[str, str]]:
    """``kafka-consumer-groups --describe --group GROUP``: a row per partition."""
    done = subprocess.run(
        [
            str(SCRIPTS / "kafka.sh"),
            "tool",
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            "--bootstrap-server",
            str(settings.kafka_bootstrap),
            "--describe",
            "--group",
            group,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line.split() for line in done.stdout.splitlines() if line.strip()]
    header = next((line for line in lines if line[:2] == ["GROUP", "TOPIC"]), None)
    if header is None:  # the group has no offsets on the broker
        return []
    return [dict(zip(header, line, strict=False)) for line in lines if line[0] == group]
