"""The embedded rejects file: private, rotated without loss, purged of an erased applicant;
reject headers valid UTF-8 however they are cut."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import orjson
import pytest

from events import EventRejected, RejectReason
from hub.bus.rejects import FileRejectSink, Reject, purge_applicant, utf8_prefix
from hub.ingest import Outcome
from hub.personal.erasure import erase_applicant
from hub.settings import HubSettings
from tests.factories import event

HASH = event("dossier.received")["payload"]["applicant_id_hash"]


def _reject(raw: bytes, message: str = "sai") -> Reject:
    outcome = Outcome.rejected(EventRejected(RejectReason.SCHEMA_VIOLATION, message))
    return Reject(raw, outcome, "http:0123456789abcdef0123456789abcdef/0")


@pytest.mark.parametrize("limit", range(1, 12))
def test_a_cut_header_is_valid_utf8(limit: int) -> None:
    cut = utf8_prefix("Hồ sơ đã tồn tại", limit)
    assert len(cut) <= limit
    assert "Hồ sơ đã tồn tại".startswith(cut.decode("utf-8"))


def test_a_lone_surrogate_becomes_a_replacement_character() -> None:
    assert utf8_prefix("a\udc80b", 100).decode("utf-8") == "a?b"


def test_long_messages_are_cut_to_4000_bytes() -> None:
    headers = dict(_reject(b"{}", "ồ" * 3_000).headers())
    assert len(headers["dvc-message"]) <= 4_000
    headers["dvc-message"].decode("utf-8")


def test_the_file_is_private_and_rotated_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "rejects" / "http.jsonl"
    sink = FileRejectSink(path, rotate_bytes=500)
    for n in range(10):
        sink.publish([_reject(b'{"n": %d, "padding": "%s"}' % (n, b"x" * 100))])
    files = sorted(path.parent.glob("*.jsonl"))
    assert len(files) > 1
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    kept = [orjson.loads(line) for file in files for line in file.read_bytes().splitlines()]
    numbers = sorted(orjson.loads(base64.b64decode(r["original_base64"]))["n"] for r in kept)
    assert numbers == list(range(10))


def test_an_erased_applicants_rejects_are_blanked(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path / "var")
    sink = FileRejectSink(settings.data_dir / "rejects" / "http.jsonl")
    theirs = orjson.dumps(event("dossier.received") | {"colour": "red"})
    other = b'{"event_type": "x"}'
    sink.publish([_reject(theirs), _reject(other)])
    assert HASH.encode() in theirs

    erase_applicant(settings, HASH, "operator", "đơn yêu cầu xóa")

    rows = [orjson.loads(line) for line in sink.path.read_bytes().splitlines()]
    assert [row.get("erased", False) for row in rows] == [True, False]
    assert rows[0]["original_base64"] == ""
    assert base64.b64decode(rows[1]["original_base64"]) == other
    assert rows[0]["headers"]["dvc-reason"] == "schema_violation"
    assert purge_applicant(sink.path.parent, HASH) == 0  # nothing left to blank
