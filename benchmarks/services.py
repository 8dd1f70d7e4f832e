"""The servers a benchmark needs: configured, or started by the repository's scripts."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _service(variable: str, script: str, address_verb: str) -> str:
    configured = os.environ.get(variable)
    if configured:
        return configured
    path = ROOT / "scripts" / "services" / script
    subprocess.run([path, "start"], check=True)
    return subprocess.run(
        [path, address_verb], check=True, capture_output=True, text=True
    ).stdout.strip()


def postgres_url() -> str:
    """``DVCHUB_BENCH_DATABASE_URL``, or the PostgreSQL of ``scripts/services/postgres.sh``."""
    return _service("DVCHUB_BENCH_DATABASE_URL", "postgres.sh", "url")


def kafka_bootstrap() -> str:
    """``DVCHUB_BENCH_KAFKA_BOOTSTRAP``, or the broker of ``scripts/services/kafka.sh``."""
    return _service("DVCHUB_BENCH_KAFKA_BOOTSTRAP", "kafka.sh", "bootstrap")


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without its ``DVCHUB_*`` variables, plus ``extra``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DVCHUB_")}
    return {**inherited, **extra}


def wait_until_ready(base: str, seconds: float = 60.0) -> None:
    """Wait for the hub at ``base`` to answer ``/readyz`` with 200."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.3)


@dataclass(frozen=True)
class Finished:
    """A child process run to its end: its standard output, wall time and resource usage."""

    output: bytes
    seconds: float
    usage: resource.struct_rusage

    @property
    def cpu_seconds(self) -> float:
        return self.usage.ru_utime + self.usage.ru_stime

    @property
    def peak_mib(self) -> float:
        return self.usage.ru_maxrss / 1024


def run_measured(name: str, command: list[str], env: dict[str, str]) -> Finished:
    """Run ``command`` from the repository's root; exit with its output if it fails.

    Its own resource usage (``wait4``): a phase's peak memory is that of its process alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{name} failed with status {status}: {output.decode()}")
    return Finished(output, seconds, usage)


def peak_mib(pid: int) -> float:
    """A running process's peak resident memory (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
