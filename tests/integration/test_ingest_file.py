"""``dvchub ingest``: every line of a bad file is accounted for, and nothing is lost."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.bootstrap import Hub
from hub.cli import app
from hub.file_ingest import ingest_file
from hub.log_reader import read_log
from hub.settings import HubSettings
from tests.factories import CODE, event, received

GOOD_RECEIVED = event("dossier.received", when="2021-03-15 09:00")
OTHER = "000.00.01.H12-210315-0002"

# (line bytes, expected outcome, expected reason or None)
LINES: list[tuple[bytes, str, str | None]] = [
    (orjson.dumps(GOOD_RECEIVED), "accepted", None),
    (b'{"event_type": "dossier.received", ', "rejected", "malformed_json"),
    (b"[1, 2, 3]", "rejected", "not_an_object"),
    (
        orjson.dumps(GOOD_RECEIVED | {"event_type": "dossier.lost"}),
        "rejected",
        "unknown_event_type",
    ),
    (orjson.dumps(GOOD_RECEIVED | {"schema_version": 9}), "rejected", "unsupported_schema_version"),
    (
        orjson.dumps(event("dossier.received", code=OTHER) | {"unit_code": "00.00.01.H12"}),
        "rejected",
        "invalid_unit_code",
    ),
    (
        orjson.dumps(event("dossier.received") | {"dossier_code": "000.00.01.H12-210399-0001"}),
        "rejected",
        "invalid_dossier_code",
    ),
    (
        orjson.dumps(event("dossier.received", received(procedure_code="1.01"), code=OTHER)),
        "rejected",
        "invalid_procedure_code",
    ),
    (b"", "blank", None),
    (
        orjson.dumps(event("dossier.result_returned", when="2021-03-15 10:00")),
        "rejected",
        "result_before_resolution",
    ),
    (
        orjson.dumps(event("dossier.supplement_received", when="2021-03-15 10:00")),
        "rejected",
        "supplement_not_requested",
    ),
    (
        orjson.dumps(event("dossier.resolved", code="000.00.01.H12-210316-0009")),
        "rejected",
        "dossier_not_received",
    ),
    (orjson.dumps(GOOD_RECEIVED), "duplicate", None),
    (b"\xff\xfe not utf-8 \x00", "rejected", "malformed_json"),
    (orjson.dumps(event("dossier.withdrawn", when="2021-03-15 11:00")), "accepted", None),
    (
        orjson.dumps(event("dossier.transferred", when="2021-03-15 12:00")),
        "rejected",
        "dossier_withdrawn",
    ),
    (
        orjson.dumps(event("dossier.received", code=OTHER, when="2021-03-15 13:00")),
        "accepted",
        None,
    ),
]


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(line for line, _, _ in LINES) + b"\n")
    return path


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
def test_every_line_of_a_bad_file_is_accounted_for(
    hub: Hub, bad_file: Path, tmp_path: Path, batch_size: int
) -> None:
    rejects = tmp_path / "rejects.jsonl"
    report = ingest_file(bad_file, hub.ingestor, rejects, batch_size)
    expected = [outcome for _, outcome, _ in LINES]
    assert report.lines == len(LINES)
    assert report.accounted == len(LINES)
    assert report.accepted == expected.count("accepted") == 3
    assert report.duplicate == 1
    assert report.blank == 1
    assert report.rejected == expected.count("rejected")

    rows = [orjson.loads(line) for line in rejects.read_bytes().splitlines()]
    wanted = [(n, reason) for n, (_, o, reason) in enumerate(LINES, 1) if o == "rejected"]
    assert [(row["line"], row["reason"]) for row in rows] == wanted
    for row in rows:
        original = LINES[row["line"] - 1][0]
        assert base64.b64decode(row["original_base64"]) == original
        assert row["message"]
    not_utf8 = next(row for row in rows if row["line"] == 14)
    assert not_utf8["original"] is None

    stored = [e.record["event_id"] for e in read_log(hub.store)]
    assert stored == [
        GOOD_RECEIVED["event_id"],
        orjson.loads(LINES[14][0])["event_id"],
        orjson.loads(LINES[16][0])["event_id"],
    ]


def test_the_cli_reports_counts_and_reasons(
    settings: HubSettings, bad_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVCHUB_DATA_DIR", str(settings.data_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("DVCHUB_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("DVCHUB_DATABASE_SCHEMA", settings.database_schema)
    result = CliRunner().invoke(app, ["ingest", str(bad_file), "--strict", "--json"])
    assert result.exit_code == 3, result.output
    report = orjson.loads(result.stdout)
    expected_reasons: dict[str, int] = {}
    for _, _, reason in LINES:
        if reason:
            expected_reasons[reason] = expected_reasons.get(reason, 0) + 1
    assert report["reasons"] == dict(sorted(expected_reasons.items()))
    assert (report["accepted"], report["duplicate"], report["blank"]) == (3, 1, 1)
    assert report["lines"] == len(LINES)
    table = CliRunner().invoke(app, ["ingest", str(bad_file)])
    assert table.exit_code == 0, table.output
    assert "duplicate" in table.output
    assert "rejected: malformed_json" in table.output
    rejects = bad_file.with_name("events.jsonl.rejects.jsonl")
    assert len(rejects.read_bytes().splitlines()) == sum(o == "rejected" for _, o, _ in LINES)
    dossier = CliRunner().invoke(app, ["dossier", CODE])
    assert dossier.exit_code == 0
    assert orjson.loads(dossier.output)["status_name"] == "withdrawn"


@pytest.mark.parametrize(
    ("content", "ending", "too_long"),
    [
        (64, b"\n", False),
        (64, b"\r\n", False),
        (65, b"\n", True),
        (65, b"\r\n", True),
        (65, b"", True),
        (64, b"", False),
    ],
)
def test_the_line_limit_counts_content_not_line_endings(
    hub: Hub, tmp_path: Path, content: int, ending: bytes, too_long: bool
) -> None:
    source, rejects = tmp_path / "in.jsonl", tmp_path / "in.rejects.jsonl"
    # The line under test last: without an ending, it is the file's unterminated last line.
    source.write_bytes(b"[]\n" + b"{" + b" " * (content - 2) + b"}" + ending)
    report = ingest_file(source, hub.ingestor, rejects, 10, max_line_bytes=64)
    assert report.lines == 2
    assert report.reasons["line_too_long"] == (1 if too_long else 0)
    assert report.rejected == 2  # the first is refused either way: not an event
