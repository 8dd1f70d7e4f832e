"""The previous release of the hub, from the repository's history, run as an operator would
run it before upgrading: for the tests of migrations and of a rolling upgrade."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

from hub.settings import HubSettings
from tests.conftest import ROOT
from tests.processes import CliProcess, child_env

#: The last release that made its tables itself, without a recorded revision.
PREVIOUS_RELEASE = "084bda8acd53badb19a6041bd6ff58d4b658f33f"
#: Settings this release has and the previous one had not (it refuses unknown ones).
NEW_SETTINGS = {"DVCHUB_DB_AUTO_UPGRADE", "DVCHUB_PROBE_PORT", "DVCHUB_DATABASE_PASSWORD"}
PACKAGES = ("hub", "events", "projections", "connectors", "verifier")


def extract(revision: str, where: Path) -> Path:
    """The code of ``revision`` under ``where``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, *PACKAGES],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def release_env(settings: HubSettings, code: Path) -> dict[str, str]:
    """A child's environment to run the release at ``code`` with ``settings`` (only those
    that release knows)."""
    env = {k: v for k, v in child_env(settings).items() if k not in NEW_SETTINGS}
    return {**env, "PYTHONPATH": str(code)}


def run_release(settings: HubSettings, code: Path, *args: str) -> str:
    """``dvchub ARGS`` of the release at ``code``, to the end; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=code,
        env=release_env(settings, code),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done.stdout


class ReleaseProcess(CliProcess):
    """``dvchub ARGS`` of the release at ``code`` in a child process."""

    def __init__(self, code: Path, settings: HubSettings, log: Path, *args: str) -> None:
        super().__init__(settings, log, *args)
        self.code = code

    def start(self) -> None:
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", *self.args],
            env=release_env(self.settings, self.code),
            cwd=self.code,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
