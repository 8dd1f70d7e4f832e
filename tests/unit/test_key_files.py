"""Key files made on first use: once, complete, private, whoever races to make them."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from hub.adapters.key_files import create_once


def _make_and_read(path: str, content: bytes) -> bytes:
    create_once(Path(path), content)
    return Path(path).read_bytes()


def test_the_first_writer_wins_and_everyone_reads_its_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    contents = [bytes([65 + i]) * 4096 for i in range(8)]
    with multiprocessing.get_context("fork").Pool(8) as pool:
        seen = pool.starmap(_make_and_read, [(str(path), c) for c in contents])
    assert len(set(seen)) == 1
    assert seen[0] in contents
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["signing-key.pem"]  # no scratch left
    create_once(path, b"later")
    assert path.read_bytes() == seen[0]
