"""The servers of one test run: PostgreSQL and Kafka of its own, on free ports with empty
storage, started the first time a test needs them, shared by the run's workers, stopped
and removed when the run ends. No run uses, restarts or leaves behind a developer's server,
and none inherits another run's tables or topics.

The run's directory is made by the main pytest process (``DVCHUB_TEST_RUN_DIR``, inherited
by pytest-xdist's workers); the first worker to need a server starts it under a file lock
and writes how to reach and stop it; the main process stops everything at the end. A
reaper process does it instead if the main process is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "services"
RUN_DIR = "DVCHUB_TEST_RUN_DIR"


_reaper: subprocess.Popen[bytes] | None = None


def begin_run() -> Path:
    """The main process: a directory for this run's servers (a worker inherits it), and a
    reaper that removes them if the main process dies without doing it (a SIGKILL)."""
    global _reaper
    run = Path(tempfile.mkdtemp(prefix="dvchub-test-"))
    run.chmod(0o755)  # PostgreSQL runs as its own user when the tests run as root
    os.environ[RUN_DIR] = str(run)
    _reaper = start_reaper(run)
    return run


def end_run() -> None:
    """The main process: stop every server the run started and remove their storage."""
    run = os.environ.pop(RUN_DIR, None)
    if run is not None:
        remove_run(Path(run))
    if _reaper is not None and _reaper.stdin is not None:
        _reaper.stdin.close()  # nothing left to reap: it exits
        _reaper.wait(timeout=30)


def remove_run(run: Path) -> None:
    """Stop every server registered in ``run`` and remove the directory."""
    for info in sorted(run.glob("*.json")):
        server = json.loads(info.read_text())
        if "stop" in server:  # quietly: a maker that finished is gone already
            subprocess.run(
                server["stop"],
                env={**os.environ, **server["env"]},
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    shutil.rmtree(run, ignore_errors=True)


def start_reaper(run: Path) -> subprocess.Popen[bytes]:
    """A process that waits for the end of its standard input, which comes when whoever
    started it closes it or dies however it dies, then removes ``run`` if it is still there."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.services", "reap", str(run)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C to the run is not the reaper's
    )


def register(run: Path, name: str, stop: list[str], env: dict[str, str]) -> Path:
    """Record a server a test started itself, so that the run's end (or its reaper) stops it
    if the test cannot; the returned file is removed once the test has."""
    info = run / f"{name}.json"
    info.write_text(json.dumps({"stop": stop, "env": env}))
    return info


def run_dir() -> Path:
    run = os.environ.get(RUN_DIR)
    if run is None:
        raise RuntimeError(f"{RUN_DIR} is not set: the tests' conftest begins a run")
    return Path(run)


def shared(name: str, start: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """The server (or data set) ``name`` of this run, made by ``start(its directory)`` if no
    worker has made it yet. A server's answer has ``{"stop": argv, "env": {...}}``."""
    run = run_dir()
    with FileLock(run / f"{name}.lock"):
        info = run / f"{name}.json"
        if info.exists():
            found: dict[str, Any] = json.loads(info.read_text())
            return found
        server = start(run / name)
        info.write_text(json.dumps(server))
        return server


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port free on 127.0.0.1 now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_pair() -> int:
    """A free port whose next one is free too (Kafka listens on both)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port < 65535 and _port_is_free(port + 1):
            return port
    raise RuntimeError("no two adjacent free ports on 127.0.0.1 for a test server")


def _script(name: str, command: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(SCRIPTS / name), command],
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return done.stdout.strip()


def start_postgres(data: Path) -> dict[str, Any]:
    server = OwnPostgres(data)
    server.registered.unlink()  # registered as the run's shared server instead
    server.start()
    return {"url": server.url, "env": server.env, "stop": [str(SCRIPTS / "postgres.sh"), "stop"]}


def kafka_env(data: Path) -> dict[str, str]:
    """What ``kafka.sh`` needs for a broker on free ports with its storage in ``data``."""
    return {"DVCHUB_KAFKA_PORT": str(free_port_pair()), "DVCHUB_KAFKA_DATA": str(data)}


def start_kafka(data: Path) -> dict[str, Any]:
    env = kafka_env(data)
    _script("kafka.sh", "start", env)
    return {
        "bootstrap": _script("kafka.sh", "bootstrap", env),
        "env": env,
        "stop": [str(SCRIPTS / "kafka.sh"), "kill"],
    }


class OwnPostgres:
    """A PostgreSQL server of one test's own, which it may stop and start again."""

    def __init__(self, data: Path) -> None:
        port = free_port_pair()
        self.env = {"DVCHUB_PG_PORT": str(port), "DVCHUB_PG_DATA": str(data)}
        self.data = data
        self.url = _script("postgres.sh", "url", self.env)
        stop = [str(SCRIPTS / "postgres.sh"), "stop"]
        self.registered = register(run_dir(), f"own-postgres-{port}", stop, self.env)

    def start(self) -> None:
        _script("postgres.sh", "start", self.env)

    def stop(self) -> None:
        _script("postgres.sh", "stop", self.env)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)
        self.registered.unlink(missing_ok=True)


def _reap(run: Path) -> None:
    sys.stdin.buffer.read()
    if run.exists():
        remove_run(run)


if __name__ == "__main__":
    if sys.argv[1:2] == ["reap"] and len(sys.argv) == 3:
        _reap(Path(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.services reap RUN_DIR")
