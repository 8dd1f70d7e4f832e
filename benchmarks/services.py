"""The servers a benchmark needs: configured, or started by the repository's scripts."""

from __future__ import annotations

import os
import subprocess
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
