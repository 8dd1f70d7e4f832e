"""The deployment as Docker's own tools read it: compose.yaml loaded by the loader Docker
Compose uses (compose-go), and the image's build context as BuildKit sends it (moby's
pattern matcher over .dockerignore). Both through ``tests/deploy/deploycheck``, a small Go
program built here with the machine's Go toolchain."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.service_roles import ServiceRole
from hub.settings import NOT_SETTINGS, HubSettings, known_variables
from tests.conftest import ROOT
from tests.go_tools import build
from tests.processes import CliProcess, alive, cli_result
from tests.services import free_port
from tests.waiting import eventually

pytestmark = pytest.mark.process

CHECKER = ROOT / "tests" / "deploy" / "deploycheck"
HUB_ROLES = {role.value for role in ServiceRole}
DATA_SERVICES = {"postgres", "kafka"}
PROBE_PORT = 8000  # every hub container answers /readyz there (compose.yaml)


@pytest.fixture(scope="module")
def deploycheck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(CHECKER, tmp_path_factory)


def _load(deploycheck: Path, *profiles: str, env: dict[str, str] | None = None) -> Any:
    own = {k: v for k, v in os.environ.items() if not k.startswith("DVCHUB_")}
    done = subprocess.run(
        [str(deploycheck), "compose", str(ROOT / "compose.yaml"), *profiles],
        env={**own, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def project(deploycheck: Path) -> Any:
    """Every service, whatever its profile."""
    return _load(deploycheck, "*")


def _hub_services(project: Any) -> dict[str, Any]:
    return {name: s for name, s in project["services"].items() if name not in DATA_SERVICES}


def test_there_is_a_service_per_role_and_each_runs_its_role_alone(project: Any) -> None:
    services = project["services"]
    assert set(services) == DATA_SERVICES | HUB_ROLES | {"cli", "migrate"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for role in HUB_ROLES:
        command = services[role]["command"]
        assert command[:3] == ["serve", "--role", role], (role, command)
        assert command.count("--role") == 1, f"{role} runs more than its role"
        if role != "api":
            assert command[command.index("--probe-port") + 1] == str(PROBE_PORT), role
    assert services["connector"]["profiles"] == ["portal"]
    assert services["cli"]["profiles"] == ["cli"]


def test_every_hub_service_runs_the_one_image(project: Any) -> None:
    hub = _hub_services(project)
    assert {s["image"] for s in hub.values()} == {"dvchub:local"}
    builds = {json.dumps(s["build"], sort_keys=True) for s in hub.values()}
    assert len(builds) == 1, builds
    build = json.loads(builds.pop())
    assert Path(build["context"]) == ROOT
    assert build["dockerfile"] == "Dockerfile"


def test_every_long_running_service_has_a_health_check_on_readyz(project: Any) -> None:
    for name, service in project["services"].items():
        check = service.get("healthcheck")
        if name in ("cli", "migrate"):  # commands run to their end
            assert check == {"disable": True}
            continue
        assert check, f"{name} has no health check"
        assert check.get("test"), f"{name} has no health check"
        if name in DATA_SERVICES:
            continue
        probe = " ".join(check["test"])
        assert f"http://127.0.0.1:{PROBE_PORT}/readyz" in probe, (name, probe)
        assert service["restart"] == "unless-stopped"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        # The tables are at this release's revision before any role starts, and no role
        # upgrades them itself (two releases at once during an upgrade).
        migrated = service["depends_on"]["migrate"]["condition"]
        assert migrated == "service_completed_successfully", name
        assert service["environment"]["DVCHUB_DB_AUTO_UPGRADE"] == "false", name


def _mounts(service: Any) -> dict[str, str]:
    """Where each named volume is mounted in ``service``."""
    return {v["target"]: v["source"] for v in service.get("volumes", []) if v["type"] == "volume"}


def _on_volume(service: Any, path: str) -> str | None:
    for target, source in _mounts(service).items():
        if path == target or path.startswith(target.rstrip("/") + "/"):
            return source
    return None


def test_kafka_keeps_its_logs_and_metadata_on_its_volume(project: Any) -> None:
    kafka = project["services"]["kafka"]
    env = kafka["environment"]
    for setting in ("KAFKA_LOG_DIRS", "KAFKA_METADATA_LOG_DIR"):
        directories = env[setting].split(",")
        for directory in directories:
            assert _on_volume(kafka, directory) == "kafka-data", (setting, directory)
    # The cluster's id is fixed, so a recreated container finds its formatted volume.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert env["KAFKA_LOG_RETENTION_HOURS"] == "-1"
    assert _on_volume(project["services"]["postgres"], "/var/lib/postgresql/data") == (
        "postgres-data"
    )
    for name, service in _hub_services(project).items():
        assert _on_volume(service, service["environment"]["DVCHUB_DATA_DIR"]) == "hub-data", name
    assert set(project["volumes"]) == {"hub-data", "postgres-data", "kafka-data"}


def test_no_password_is_in_the_file_and_each_comes_from_a_secret(project: Any) -> None:
    text = (ROOT / "compose.yaml").read_text()
    assert "POSTGRES_PASSWORD:" not in text
    postgres = project["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert [s["source"] for s in postgres["secrets"]] == ["postgres_password"]
    for name, service in _hub_services(project).items():
        env = service["environment"]
        url = HubSettings(database_url=env["DVCHUB_DATABASE_URL"]).database_url
        assert url is not None
        assert url.hosts()[0]["password"] is None, name
        assert env["DVCHUB_SECRETS_DIR"] == "/run/secrets"
        targets = {s["source"]: s["target"] for s in service["secrets"]}
        assert targets["postgres_password"] == "dvchub_database_password", name
        unknown = {v for v in env if v.startswith("DVCHUB_")} - set(known_variables())
        assert unknown <= NOT_SETTINGS, f"{name}: {unknown} are not settings"
    connector = project["services"]["connector"]
    assert {s["target"] for s in connector["secrets"]} >= {"dvchub_dvcqg_password"}
    for secret in project["secrets"].values():
        assert Path(secret["file"]).parent == ROOT / "secrets"
    assert "secrets/" in (ROOT / ".gitignore").read_text().split()


def test_only_the_api_is_published_and_on_loopback_unless_told(deploycheck: Path) -> None:
    def published(project: Any) -> dict[str, list[Any]]:
        return {n: s["ports"] for n, s in project["services"].items() if s.get("ports")}

    default = published(_load(deploycheck, "*"))
    assert list(default) == ["api"]
    (port,) = default["api"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "8000", 8000)
    told = _load(deploycheck, env={"DVCHUB_API_BIND": "0.0.0.0", "DVCHUB_API_PORT": "8080"})
    (port,) = published(told)["api"]
    assert (port["host_ip"], port["published"]) == ("0.0.0.0", "8080")
    assert "connector" not in told["services"], "the portal profile is off unless asked for"


def _context(deploycheck: Path, directory: Path) -> list[str]:
    done = subprocess.run(
        [str(deploycheck), "context", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.split()


#: Files a developer's checkout or a running hub leaves about: none may reach an image.
DECOYS = (
    ".venv/bin/python",
    ".git/config",
    ".env",
    "var/events.sqlite3",
    "var/personal-data.key",
    "var/audit/signing-key.pem",
    "secrets/postgres_password",
    "build/screenshots/board.png",
    "tests/conftest.py",
    "hub/__pycache__/app.cpython-311.pyc",
    "hub/audit/signing-key.pem",
    "events/.env",
    "scenarios/local.sqlite3",
    "dvc_hub.egg-info/PKG-INFO",
)


def test_the_build_context_holds_no_key_store_secret_or_venv(
    deploycheck: Path, tmp_path: Path
) -> None:
    for name in (".dockerignore", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    wanted = ("pyproject.toml", "README.md", "requirements/runtime.txt", "hub/app.py")
    for relative in (*DECOYS, *wanted, "requirements/dev.txt"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    assert sorted(_context(deploycheck, tmp_path)) == sorted(wanted)


def test_the_repository_gives_the_image_what_its_dockerfile_copies(deploycheck: Path) -> None:
    sent = _context(deploycheck, ROOT)
    forbidden = re.compile(r"(^|/)(\.venv|\.git|var|secrets|tests|build)/|\.(key|pem|sqlite3)$")
    assert not [f for f in sent if forbidden.search(f)]
    copied = re.findall(r"^COPY (?!--from)(\S+) ", (ROOT / "Dockerfile").read_text(), re.M)
    assert copied, "the Dockerfile copies nothing"
    for source in (s for line in copied for s in line.split()):
        assert any(f == source or f.startswith(source.rstrip("/") + "/") for f in sent), source


def test_the_image_is_built_in_stages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+(?: AS (\S+))?$", dockerfile, re.M)
    assert len(stages) >= 2, "one stage: build tools would ship in the image"
    final = dockerfile[dockerfile.rindex("\nFROM ") :]
    users = re.findall(r"^USER (\S+)", final, re.M)
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0"), users
    assert "COPY --from=build /opt/dvchub /opt/dvchub" in final
    assert "--require-hashes" in dockerfile


def _ready(url: str) -> Callable[[], dict[str, Any] | None]:
    def check() -> dict[str, Any] | None:
        try:
            answer = httpx.get(url, timeout=5)
        except httpx.TransportError:
            return None
        body: dict[str, Any] = answer.json()
        return body if answer.status_code == 200 else None

    return check


def test_a_role_alone_answers_its_probes_with_its_own_services(
    tmp_path: Path, settings: HubSettings
) -> None:
    port = free_port()
    sealer = CliProcess(
        settings, tmp_path / "sealer.log", "serve", "--role", "sealer", "--probe-port", str(port)
    )
    sealer.start()
    try:
        base = f"http://127.0.0.1:{port}"
        body = eventually(
            _ready(f"{base}/readyz"), timeout=60, what="the sealer's probes", alive=alive(sealer)
        )
        assert body is not None
        assert set(body["services"]) == {"audit-sealer", "probes"}
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert "dvchub_service_up" in httpx.get(f"{base}/metrics").text
        assert httpx.get(f"{base}/v1/reports/2026-11").status_code == 404, "the API is not here"
    finally:
        sealer.stop()


def test_roles_that_cannot_run_are_refused_at_once(settings: HubSettings) -> None:
    done = cli_result(settings, "serve", "--role", "connector")
    assert done.returncode == 2
    assert "the connector needs DVCHUB_DVCQG_URL" in done.stderr
    done = cli_result(settings, "serve", "--role", "inbound", "--role", "relay")
    assert done.returncode == 2
    assert "no inbound consumer or relay" in done.stderr
    done = cli_result(settings, "serve", "--role", "everything")
    assert done.returncode == 2
    assert "everything" in done.stderr


#: The PostgreSQL client each Debian release of the hub image's base ships.
DEBIAN_POSTGRES_CLIENT = {"bookworm": 15, "trixie": 17}


def test_the_image_can_back_up_the_compose_files_database(project: Any) -> None:
    """pg_dump refuses a server newer than itself: the image's client is not older than the
    PostgreSQL compose.yaml runs."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=\S+-slim-(\w+)$", dockerfile, re.M)
    assert base is not None, "the base image names no Debian release"
    assert "postgresql-client" in dockerfile[dockerfile.rindex("\nFROM ") :]
    server = re.fullmatch(r"postgres:(\d+)(\..*)?", project["services"]["postgres"]["image"])
    assert server is not None
    assert int(server.group(1)) <= DEBIAN_POSTGRES_CLIENT[base.group(1)]
