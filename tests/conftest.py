"""Fixtures: every store test runs on SQLite and on a real PostgreSQL server; Kafka tests on
a real broker. A server that cannot be had is an error, never a skip (tests/services.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub.bootstrap import Hub, bootstrap
from hub.settings import HubSettings
from tests import province_log, services

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.plugins.tiers", "tests.plugins.timing"]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and services.RUN_DIR not in os.environ:
        services.begin_run()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        services.end_run()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """PostgreSQL from, in this order: ``DVCHUB_TEST_DATABASE_URL``; testcontainers where a
    Docker engine answers; otherwise a server of this run's own (tests/services.py)."""
    configured = os.environ.get("DVCHUB_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    yield services.shared("postgres", services.start_postgres)["url"]


@pytest.fixture
def own_postgres() -> Iterator[services.OwnPostgres]:
    """A PostgreSQL server of this test's own, for a test that stops it."""
    server = services.OwnPostgres(Path(tempfile.mkdtemp(dir=services.run_dir())))
    try:
        server.start()
        yield server
    finally:
        server.remove()


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
    """A Kafka broker; one the test may stop and start again when it is the test's own."""

    def __init__(
        self, bootstrap: str, script: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.script = script
        self.env = env

    def stop(self) -> None:
        self._run("stop")

    def start(self) -> None:
        self._run("start")

    def kill(self) -> None:
        self._run("kill")

    def _run(self, command: str) -> None:
        if self.script is None:
            raise RuntimeError("this broker is shared by the run; only a test's own is stopped")
        subprocess.run([self.script, command], check=True, env=self.env)


@pytest.fixture(scope="session")
def kafka() -> Iterator[Broker]:
    """Kafka from, in this order: ``DVCHUB_TEST_KAFKA_BOOTSTRAP``; testcontainers where a
    Docker engine answers; otherwise a broker of this run's own (tests/services.py), so no run
    inherits another's topics or a developer's broker. Shared: tests use topics of their own."""
    configured = os.environ.get("DVCHUB_TEST_KAFKA_BOOTSTRAP")
    if configured:
        yield Broker(configured)
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield Broker(container.get_bootstrap_server())
        return
    yield Broker(services.shared("kafka", services.start_kafka)["bootstrap"])


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own (scripts/services/kafka.sh), for a test that stops it."""
    script = ROOT / "scripts" / "services" / "kafka.sh"
    data = tmp_path / "kafka"
    own = services.kafka_env(data)
    env = {**os.environ, **own}
    bootstrap = subprocess.run(
        [script, "bootstrap"], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()
    broker = Broker(bootstrap, script, env)
    registered = services.register(
        services.run_dir(), f"own-kafka-{own['DVCHUB_KAFKA_PORT']}", [str(script), "kill"], own
    )
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()
        shutil.rmtree(data, ignore_errors=True)
        registered.unlink(missing_ok=True)


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


@pytest.fixture(scope="session")
def camau_original() -> Path:
    """The province-sized log (Cà Mau, first half of 2021: about a million events), made once
    per run beside the tests (tests/province_log.py) and shared by its workers. Read-only:
    tests take ``camau``, a copy."""
    made = os.environ.get("DVCHUB_TEST_PROVINCE_LOG")
    if made:  # made earlier by `python -m tests.province_log DIR`, for iterating on a test
        return province_log.wait_for({"data_dir": made, "pid": 0, "log": f"{made}.log"})
    return province_log.wait_for(services.shared("camau", province_log.start_building))


@pytest.fixture
def camau(camau_original: Path, tmp_path: Path) -> Iterator[HubSettings]:
    """Settings of a hub holding a copy of the Cà Mau log (SQLite, in ``tmp_path / "var"``),
    removed after the test (a gigabyte and a half; the test's logs stay)."""
    target = tmp_path / "var"
    shutil.copytree(camau_original, target, ignore=shutil.ignore_patterns("done.json"))
    yield HubSettings(data_dir=target, log_level="WARNING")
    shutil.rmtree(target, ignore_errors=True)
