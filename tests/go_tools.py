"""The test suite's small Go programs (reading the deployment as Docker's tools do, checking
proofs with independent implementations), built with this machine's Go toolchain."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def build(source: Path, factory: pytest.TempPathFactory) -> Path:
    """The program in ``source`` built into a temporary directory; fails, never skips,
    without Go."""
    go = shutil.which("go")
    assert go is not None, f"the Go toolchain is needed to build {source.name}"
    binary = factory.mktemp(source.name) / source.name
    subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=source,
        env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"},
        check=True,
        timeout=600,
    )
    return binary
