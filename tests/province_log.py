"""The province-sized event log the slow tests share: the Cà Mau scenario (first half of
2021, about a million events) through the embedded ingest into a SQLite store.

It takes minutes, so the run starts making it as soon as it knows a selected test needs it
(at collection), in a process of its own beside the tests, and a test that needs it waits
only for what is left. ``python -m tests.province_log DIR`` makes it in DIR and writes
DIR/done.json at the end; its output goes to DIR.log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.waiting import eventually

ROOT = Path(__file__).resolve().parent.parent
CA_MAU = ROOT / "scenarios" / "camau-2021h1.yaml"


def start_building(directory: Path) -> dict[str, Any]:
    """Start making the log in ``directory`` in a child process; how to wait for it."""
    log = directory.with_suffix(".log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVCHUB_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.province_log", str(directory)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return {
        "data_dir": str(directory),
        "pid": process.pid,
        "log": str(log),
        "started": time.time(),
        "stop": ["kill", str(process.pid)],
        "env": {},
    }


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)  # reaps it if it is our child
    except ChildProcessError:  # another worker's child
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
        return stat.split(") ", 1)[-1][:1] != "Z"
    return finished == 0


def wait_for(build: dict[str, Any], timeout: float = 3_600) -> Path:
    """The finished log's directory, once its maker has written done.json."""
    directory = Path(build["data_dir"])
    done = directory / "done.json"

    def still_making() -> None:
        if not done.exists() and not _running(int(build["pid"])):
            log = Path(build["log"])
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            raise AssertionError(f"making the province's log failed:\n{tail}")

    eventually(done.exists, timeout=timeout, what="the province's log", alive=still_making)
    return directory


def main(directory: Path) -> None:
    from hub.bootstrap import bootstrap
    from hub.cli.simulate import Via, simulate_scenario
    from hub.settings import HubSettings

    started = time.monotonic()
    settings = HubSettings(data_dir=directory, log_level="WARNING")
    hub = bootstrap(settings, configure_logs=False)
    try:
        simulate_scenario(hub, CA_MAU, Via.STORE, None, None, 5_000, True)
    finally:
        hub.close()
    seconds = round(time.monotonic() - started, 1)
    (directory / "done.json").write_text(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
