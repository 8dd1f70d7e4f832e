"""The ``dvchub`` command line, as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.settings import HubSettings
from tests.processes import table_rows

runner = CliRunner()


@pytest.fixture
def env(settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    monkeypatch.setenv("DVCHUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DVCHUB_LOG_LEVEL", "WARNING")
    if settings.database_url is not None:
        monkeypatch.setenv("DVCHUB_DATABASE_URL", str(settings.database_url))
        monkeypatch.setenv("DVCHUB_DATABASE_SCHEMA", settings.database_schema)
    return settings


def test_demo_ingests_a_workload_and_prints_figures_and_is_idempotent(env: HubSettings) -> None:
    first = runner.invoke(app, ["demo", "--days", "10", "--per-day", "5", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "rejected  │ 0" in first.output
    assert "Per unit" in first.output
    assert "Online dossiers by level" in first.output
    assert "Sở Tư pháp" in first.output
    again = runner.invoke(app, ["demo", "--days", "10", "--per-day", "5", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "accepted  │ 0" in again.output
    assert "rejected  │ 0" in again.output


def test_workload_file_ingests_cleanly_and_the_report_reads_it(
    env: HubSettings, tmp_path: Path
) -> None:
    path, lines = _workload_file(tmp_path, days=20, per_day=6)
    result = runner.invoke(app, ["ingest", str(path), "--json", "--strict"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["accepted"] == lines
    assert 0 < summary["seconds"] < 60  # the ingest's own time, for rates in benchmarks
    report = runner.invoke(app, ["report", "--period", "2021-01"])
    assert report.exit_code == 0, report.output
    assert "Report 2021-01 (2021-01-01 – 2021-01-31)" in report.output
    assert "no catalogue loaded" in report.output


def test_bad_settings_exit_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVCHUB_SUPPLEMENT_RULE", "sometimes")
    result = runner.invoke(app, ["report", "--period", "2021"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output
    assert "supplement_rule" in result.output


def test_a_bad_calendar_file_exits_with_its_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "2025.yaml").write_text("year: 2025\ndays_off: [{date: 2024-12-31}]\n")
    (tmp_path / "events.jsonl").write_text("")
    monkeypatch.setenv("DVCHUB_CALENDAR_DIR", str(tmp_path))
    monkeypatch.setenv("DVCHUB_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["ingest", str(tmp_path / "events.jsonl")])
    assert result.exit_code == 2
    assert "2025.yaml" in result.output


def test_figures_are_read_without_the_calendar_the_ingest_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Reading figures opens only the read side: a calendar file the ingest would refuse
    does not stop a report (the due dates were counted when the events were accepted)."""
    (tmp_path / "2025.yaml").write_text("year: 2025\ndays_off: [{date: 2024-12-31}]\n")
    monkeypatch.setenv("DVCHUB_CALENDAR_DIR", str(tmp_path))
    monkeypatch.setenv("DVCHUB_DATA_DIR", str(tmp_path / "var"))
    result = runner.invoke(app, ["report", "--period", "2021", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"period"' in result.output


def test_an_unknown_dossier_is_reported(env: HubSettings) -> None:
    result = runner.invoke(app, ["dossier", "000.00.01.H12-210315-0077"])
    assert result.exit_code == 1
    assert "not in the store" in result.output


def test_credentials_are_created_listed_and_revoked(env: HubSettings) -> None:
    created = runner.invoke(
        app, ["credentials", "create", "--name", "so-tu-phap", "--unit", "000.00.01.H12"]
    )
    assert created.exit_code == 0, created.output
    api_key = created.stdout.strip().splitlines()[-1]
    assert api_key.startswith("dvc_")
    key_id = api_key.split("_")[1]
    listed = runner.invoke(app, ["credentials", "list"])
    assert key_id in listed.output
    assert "active" in listed.output
    assert api_key.split("_", 2)[2] not in listed.output
    revoked = runner.invoke(app, ["credentials", "revoke", key_id])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(app, ["credentials", "list"]).output
    bad = runner.invoke(app, ["credentials", "create", "--name", "x", "--unit", "H12"])
    assert bad.exit_code == 2
    assert "not a unit code" in bad.output


def _workload_file(tmp_path: Path, days: int, per_day: int) -> tuple[Path, int]:
    """A generated workload file and its number of events."""
    path = tmp_path / "w.jsonl"
    made = runner.invoke(
        app, ["workload", "generate", str(path), "--days", str(days), "--per-day", str(per_day)]
    )
    assert made.exit_code == 0, made.output
    return path, len(path.read_bytes().splitlines())


def test_projections_status_shows_each_projections_position_and_lag(
    env: HubSettings, tmp_path: Path
) -> None:
    path, events = _workload_file(tmp_path, days=6, per_day=4)
    assert runner.invoke(app, ["ingest", str(path), "--strict"]).exit_code == 0

    before = runner.invoke(app, ["projections", "status"])
    assert before.exit_code == 0, before.output
    assert f"store: last position {events}" in before.output
    assert f"behind the store by at most {events} events" in before.output
    assert table_rows(before.output, 7) == []

    assert runner.invoke(app, ["report", "--period", "2021-01"]).exit_code == 0  # catches up
    after = runner.invoke(app, ["projections", "status"])
    assert after.exit_code == 0, after.output
    rows = table_rows(after.output, 7)
    assert sorted(row[0] for row in rows) == ["reuse_index", "unit_progress"]
    for projection, source, part, position, _offset, lag, _updated in rows:
        assert (source, part, position, lag) == ("log", "0", str(events), "0 events"), projection
    assert "behind the store by at most 0 events" in after.output


SPAN = "2021-01-01..2040-12-31"


@pytest.mark.parametrize(
    ("command", "columns", "some"),
    [
        pytest.param(["credentials", "list"], 5, True, id="credentials-list"),
        pytest.param(["catalogue", "show"], 4, True, id="catalogue-show"),
        pytest.param(["ranking", "--period", SPAN, "--minimum", "1"], 6, True, id="ranking"),
        # Empty here; their rows are shown by the connector's and the projections' tests.
        pytest.param(["projections", "parked"], 6, False, id="projections-parked"),
        pytest.param(["connector", "status", "--period", SPAN], 6, False, id="connector-status"),
        pytest.param(["connector", "parked"], 7, False, id="connector-parked"),
    ],
)
def test_every_command_that_prints_a_table_gives_its_rows_as_json(
    env: HubSettings, command: list[str], columns: int, some: bool
) -> None:

    demo = runner.invoke(app, ["demo", "--days", "20", "--per-day", "5", "--no-serve"])
    assert demo.exit_code == 0, demo.output  # a workload ending now, and its catalogue
    made = runner.invoke(app, ["credentials", "create", "--name", "mot-cua", "--unit", "*"])
    assert made.exit_code == 0, made.output
    table = runner.invoke(app, command)
    assert table.exit_code in (0, 1), table.output
    as_json = runner.invoke(app, [*command, "--json"])
    assert as_json.exit_code == table.exit_code, as_json.output
    rows = orjson.loads(as_json.stdout)
    assert isinstance(rows, list)
    assert len(rows) == len(table_rows(table.output, columns))
    assert bool(rows) is some
    assert all(isinstance(row, dict) and len(row) == columns for row in rows)


def test_projections_status_as_json_says_what_its_table_says(
    env: HubSettings, tmp_path: Path
) -> None:

    path, events = _workload_file(tmp_path, days=4, per_day=3)
    assert runner.invoke(app, ["ingest", str(path), "--strict"]).exit_code == 0
    assert runner.invoke(app, ["report", "--period", "2021-01"]).exit_code == 0
    status = orjson.loads(runner.invoke(app, ["projections", "status", "--json"]).stdout)
    assert status["store_position"] == events
    assert status["behind_by_at_most"] == 0
    assert {row["projection"] for row in status["checkpoints"]} == {"unit_progress", "reuse_index"}
    assert all(
        row["lag"] == {"count": 0, "of": "events", "complete": True}
        for row in status["checkpoints"]
    )


def test_unit_changes_are_loaded_and_the_units_of_a_day_listed(
    env: HubSettings, tmp_path: Path
) -> None:

    units = tmp_path / "units.yaml"
    units.write_text(
        "units:\n"
        "  - {code: '000.00.00.H12', name: 'UBND tỉnh', level: province}\n"
        "  - {code: '000.00.60.H12', name: 'UBND huyện Một', level: district, "
        "parent: '000.00.00.H12'}\n"
        "  - {code: '000.60.01.H12', name: 'UBND xã A', level: commune, "
        "parent: '000.00.60.H12'}\n"
        "  - {code: '000.60.02.H12', name: 'UBND xã B', level: commune, "
        "parent: '000.00.60.H12'}\n",
        encoding="utf-8",
    )
    changes = tmp_path / "2025.yaml"
    changes.write_text(
        "changes:\n"
        "  - {kind: merged, units: ['000.60.01.H12', '000.60.02.H12'], "
        "into: '000.60.01.H12', effective: 2025-07-01}\n"
        "  - {kind: moved, unit: '000.60.01.H12', parent: '000.00.00.H12', "
        "effective: 2025-07-01}\n"
        "  - {kind: dissolved, unit: '000.00.60.H12', effective: 2025-07-01}\n",
        encoding="utf-8",
    )
    for files in ([units], [changes], [changes]):
        loaded = runner.invoke(app, ["catalogue", "load", *map(str, files)])
        assert loaded.exit_code == 0, loaded.output
    assert "unchanged" in loaded.output  # the same changes again record nothing

    def units_on(day: str) -> dict[str, str | None]:
        listed = runner.invoke(app, ["catalogue", "units", "--on", day, "--json"])
        assert listed.exit_code == 0, listed.output
        return {row["code"]: row["parent"] for row in orjson.loads(listed.stdout)}

    assert units_on("2025-06-30") == {
        "000.00.00.H12": None,
        "000.00.60.H12": "000.00.00.H12",
        "000.60.01.H12": "000.00.60.H12",
        "000.60.02.H12": "000.00.60.H12",
    }
    assert units_on("2025-07-01") == {"000.00.00.H12": None, "000.60.01.H12": "000.00.00.H12"}
    bad = runner.invoke(app, ["catalogue", "units", "--on", "1 July"])
    assert bad.exit_code == 2
    assert "expected a day" in bad.output


def test_a_simulation_into_the_store_logs_its_progress_and_needs_no_kafka_client(
    tmp_path: Path,
) -> None:
    """Run as an operator's job: progress lines in the JSON log, and the Kafka client never
    imported on the store's path (``-X importtime`` lists every module the run imported)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("DVCHUB_")}
    env.update(DVCHUB_DATA_DIR=str(tmp_path / "var"), DVCHUB_LOG_FORMAT="json")
    scenario = str(ROOT / "tests" / "scenarios" / "small.yaml")
    command = ["simulate", "--scenario", scenario, "--log-every", "0"]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hub.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    output = done.stdout + done.stderr
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    progress = [line for line in lines if line.get("event") == "simulate.progress"]
    assert progress
    assert all(line["dossiers"] == 1_520 for line in progress)
    finished = next(line for line in lines if line.get("event") == "simulate.done")
    assert finished["published"] == 5_275
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "hub.simulation.publish" in imported
    assert not [name for name in imported if name.split(".")[0] == "kafka"]
