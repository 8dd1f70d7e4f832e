"""Hub commands as an operator runs them: in child processes for the tests that kill or stop
them, in this process (typer's runner) for commands run to the end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings, settings_env
from tests.conftest import ROOT
from tests.services import RUN_DIR


def child_env(settings: HubSettings) -> dict[str, str]:
    """This process's environment without its ``DVCHUB_*`` variables, plus ``settings``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DVCHUB_")}
    return {**inherited, **settings_env(settings)}


class CliProcess:
    """``python -m hub.cli ARGS`` in a child process, its output appended to ``log``."""

    def __init__(self, settings: HubSettings, log: Path, *args: str) -> None:
        self.settings, self.log, self.args = settings, log, args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *self.args],
            env=child_env(self.settings),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def alive(process: CliProcess) -> Callable[[], None]:
    """For ``eventually(alive=...)``: fail at once, with its log's end, when ``process`` died."""

    def check() -> None:
        if not process.running:
            raise AssertionError(f"{process.args} died:\n{process.log.read_text()[-3000:]}")

    return check


def cli_result(settings: HubSettings, *args: str) -> CompletedProcess[str]:
    """Run a command to the end, whatever its exit status, in this process (typer's runner,
    with ``settings`` as its only ``DVCHUB_*`` variables): what a separate process would show
    on its standard output and error, without paying the interpreter's start-up each time."""
    own = {name: None for name in os.environ if name.startswith("DVCHUB_") and name != RUN_DIR}
    result = CliRunner().invoke(app, list(args), env={**own, **settings_env(settings)})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CompletedProcess(
        ["dvchub", *args], result.exit_code, stdout=result.stdout, stderr=result.stderr
    )


def run_cli(settings: HubSettings, *args: str) -> str:
    """Run a command to the end (in this process); its standard output (raises if it fails)."""
    done = cli_result(settings, *args)
    if done.returncode != 0:
        raise AssertionError(f"dvchub {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def table_rows(output: str, columns: int) -> list[list[str]]:
    """The body rows of the tables a command printed (rich's box drawing), ``columns`` wide."""
    rows = [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]
    return [row for row in rows if len(row) == columns]
