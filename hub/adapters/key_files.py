"""Key files made on first use, once, by whichever process gets there first."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def create_once(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (mode 0600) unless the file exists. Processes starting
    at once each write a scratch file and link it into place; the first link wins and every
    process then reads the winner's complete file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    scratch = Path(name)  # mkstemp makes it readable by its owner only
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        with contextlib.suppress(FileExistsError):
            path.hardlink_to(scratch)
    finally:
        scratch.unlink()
