"""Fixtures: every store test runs on SQLite and on a real PostgreSQL server.

PostgreSQL comes from, in this order: ``DVCHUB_TEST_DATABASE_URL``; testcontainers when a
Docker engine answers; otherwise ``scripts/services/postgres.sh start`` (Debian's package).
A PostgreSQL that cannot be had is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub.bootstrap import Hub, bootstrap
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parent.parent


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    configured = os.environ.get("DVCHUB_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    script = ROOT / "scripts" / "services" / "postgres.sh"
    subprocess.run([script, "start"], check=True)
    yield subprocess.run([script, "url"], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> HubSettings:
    if request.param == "sqlite":
        return HubSettings(data_dir=tmp_path / "var")
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("postgres_schema")
    return HubSettings(data_dir=tmp_path / "var", database_url=url, database_schema=schema)


@pytest.fixture
def hub(settings: HubSettings) -> Iterator[Hub]:
    built = bootstrap(settings, configure_logs=False)
    yield built
    built.close()


class Broker:
    """A Kafka broker the tests may restart (when it is the repository's own)."""

    def __init__(
        self, bootstrap: str, script: Path | None, env: dict[str, str] | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.script = script
        self.env = env

    @property
    def restartable(self) -> bool:
        return self.script is not None

    def stop(self) -> None:
        self._run("stop")

    def start(self) -> None:
        self._run("start")

    def _run(self, command: str) -> None:
        assert self.script is not None
        subprocess.run([self.script, command], check=True, env=self.env)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair() -> int:
    """A free port whose next one is free too: the broker listens on both."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and _port_is_free(port + 1):
            return port
    raise RuntimeError("no two adjacent free ports on 127.0.0.1 for the test broker")


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Kafka from, in this order: DVCHUB_TEST_KAFKA_BOOTSTRAP; testcontainers where a Docker
    engine answers; otherwise a broker of this session's own from ``scripts/services/kafka.sh``
    (jars from Maven Central), on free ports with empty storage, stopped and removed at the
    end, so no run inherits another's topics or a developer's broker."""
    configured = os.environ.get("DVCHUB_TEST_KAFKA_BOOTSTRAP")
    if configured:
        yield Broker(configured, None)
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield Broker(container.get_bootstrap_server(), None)
        return
    script = ROOT / "scripts" / "services" / "kafka.sh"
    data = tmp_path_factory.mktemp("kafka")
    env = {
        **os.environ,
        "DVCHUB_KAFKA_PORT": str(_free_port_pair()),
        "DVCHUB_KAFKA_DATA": str(data),
    }
    broker = Broker(
        subprocess.run(
            [script, "bootstrap"], check=True, capture_output=True, text=True, env=env
        ).stdout.strip(),
        script,
        env,
    )
    try:
        broker.start()
        yield broker
    finally:
        subprocess.run([script, "kill"], check=False, env=env)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def bus_settings(
    kafka: Broker, postgres_url: str, postgres_schema: str, tmp_path: Path
) -> HubSettings:
    """Settings of a hub on Kafka and PostgreSQL, with topics and groups of its own."""
    suffix = uuid.uuid4().hex[:8]
    return HubSettings(
        data_dir=tmp_path / "var",
        database_url=postgres_url,
        database_schema=postgres_schema,
        kafka_bootstrap=kafka.bootstrap,
        kafka_actions_topic=f"test.actions.{suffix}",
        kafka_events_topic=f"test.events.{suffix}",
        kafka_rejects_topic=f"test.rejects.{suffix}",
        kafka_checkpoints_topic=f"test.checkpoints.{suffix}",
        kafka_inbound_group=f"test-ingest-{suffix}",
        kafka_projections_group=f"test-projections-{suffix}",
        kafka_relay_transactional_id=f"test-relay-{suffix}",
        kafka_poll_records=200,
    )
