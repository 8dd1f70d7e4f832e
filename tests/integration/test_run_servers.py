"""The test run's servers do not outlive it: a run killed outright (SIGKILL, a CI timeout) has
its servers stopped and its directory removed by its reaper (tests/services.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests import services
from tests.waiting import eventually

STAND_IN = """
import sys, time
from pathlib import Path
from tests.services import start_reaper
start_reaper(Path(sys.argv[1]))
print("ready", flush=True)
time.sleep(600)  # until the test kills it
"""


def _fake_server(tmp_path: Path) -> tuple[Path, Path]:
    """A run directory with one registered server whose stop command leaves a mark."""
    run, mark = tmp_path / "run", tmp_path / "stopped"
    run.mkdir()
    stop = [sys.executable, "-c", f"open({str(mark)!r}, 'w').write('stopped')"]
    services.register(run, "fake", stop, {})
    return run, mark


def test_a_killed_run_leaves_no_server_behind(tmp_path: Path) -> None:
    run, mark = _fake_server(tmp_path)
    main = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(run)], cwd=services.ROOT, stdout=subprocess.PIPE
    )
    assert main.stdout is not None
    assert main.stdout.readline().strip() == b"ready"
    assert not mark.exists()
    main.kill()  # no chance to clean up
    main.wait()
    eventually(lambda: mark.exists() and not run.exists(), timeout=30, what="the reaper's clean-up")


def test_a_run_that_ended_leaves_its_reaper_nothing_to_do(tmp_path: Path) -> None:
    run, mark = _fake_server(tmp_path)
    reaper = services.start_reaper(run)
    services.remove_run(run)  # the run's own end
    assert mark.exists()
    assert not run.exists()
    mark.unlink()
    assert reaper.stdin is not None
    reaper.stdin.close()
    assert reaper.wait(timeout=30) == 0
    assert not mark.exists(), "the reaper stopped a server a second time"
