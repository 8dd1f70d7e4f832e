"""Backup and restore (hub/backup.py): a deployment restored into an empty one gives the same
report, verifies clean against checkpoints kept from before the backup, and its projections
carry on without folding anything twice; a restore refuses a deployment that is not empty
and a backup that is not the one written."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.adapters.sql import ReadModelDatabase
from hub.settings import HubSettings
from tests.processes import cli_result
from tests.workload_files import REPORT, figures, halves


def _ok(settings: HubSettings, *args: str) -> str:
    done = cli_result(settings, *args)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    return done.stdout


def _figures(settings: HubSettings, catch_up: bool = True) -> Any:
    return figures(_ok(settings, *REPORT, *([] if catch_up else ["--no-catch-up"])))


def _backed_up(settings: HubSettings, tmp_path: Path) -> Path:
    """A deployment holding the first half of a workload, sealed, and its backup."""
    first, _ = halves(tmp_path)
    _ok(settings, "ingest", str(first), "--strict")
    _ok(settings, "audit", "seal")
    backup = tmp_path / "backup"
    _ok(settings, "backup", str(backup))
    return backup


def _wipe(settings: HubSettings) -> None:
    """The deployment lost: its database and its data directory."""
    if settings.uses_postgres:
        with ReadModelDatabase(settings) as db:
            db.execute(f"DROP SCHEMA {settings.database_schema} CASCADE")
            db.execute(f"CREATE SCHEMA {settings.database_schema}")  # as a new one starts
    shutil.rmtree(settings.data_dir)


def _other(settings: HubSettings, tmp_path: Path, name: str) -> HubSettings:
    update: dict[str, Any] = {"data_dir": tmp_path / name}
    if settings.uses_postgres:
        update["database_schema"] = f"{settings.database_schema}_{name}"
    return settings.model_copy(update=update)


def test_a_backup_restored_into_an_empty_deployment_gives_the_same_hub(
    settings: HubSettings, tmp_path: Path
) -> None:
    first, second = halves(tmp_path)
    _ok(settings, "ingest", str(first), "--strict")
    before = _figures(settings)
    _ok(settings, "audit", "seal")
    kept = tmp_path / "kept"  # an auditor's copy of the checkpoints published so far
    published = [p for p in settings.audit_dir.iterdir() if p.suffix != ".pem"]
    assert published, "the seal published no checkpoint"
    kept.mkdir()
    for path in published:
        shutil.copy(path, kept / path.name)
    backup = tmp_path / "backup"
    assert "backed up the" in _ok(settings, "backup", str(backup))

    _wipe(settings)
    assert "restored the backup" in _ok(settings, "restore", str(backup))
    assert _figures(settings, catch_up=False) == before
    checkpoints = [f"--checkpoint={p}" for p in sorted(kept.iterdir())]
    verified = _ok(settings, "audit", "verify", *checkpoints)
    assert "verified: no finding" in verified
    assert "0 checkpoints checked" not in verified

    # The restored deployment carries on: equal to one that never stopped.
    _ok(settings, "ingest", str(second), "--strict")
    fresh = _other(settings, tmp_path, "fresh")
    try:
        _ok(fresh, "db", "upgrade")
        _ok(fresh, "ingest", str(first), "--strict")
        _ok(fresh, "ingest", str(second), "--strict")
        assert _figures(settings) == _figures(fresh)
    finally:
        if fresh.uses_postgres:
            with ReadModelDatabase(fresh) as db:
                db.execute(f"DROP SCHEMA IF EXISTS {fresh.database_schema} CASCADE")

    # Once more into the same deployment: refused, nothing touched.
    again = cli_result(settings, "restore", str(backup))
    assert again.returncode == 2
    assert "restored into an empty deployment" in again.stderr


def test_a_restore_checks_the_backup_before_it_writes_anything(
    settings: HubSettings, tmp_path: Path
) -> None:
    backup = _backed_up(settings, tmp_path)
    assert cli_result(settings, "backup", str(backup)).returncode == 2  # never over a backup

    empty = _other(settings, tmp_path, "empty")
    key = next((backup / "files").glob("*signing-key.pem"))
    key.write_bytes(key.read_bytes()[:-2] + b"x\n")
    done = cli_result(empty, "restore", str(backup))
    assert done.returncode == 2
    assert "signing-key.pem is not the file the backup wrote" in done.stderr
    assert not empty.data_dir.exists() or not any(empty.data_dir.iterdir())
    (backup / "manifest.json").unlink()
    assert "has no manifest.json" in cli_result(empty, "restore", str(backup)).stderr
    if settings.uses_postgres:
        with ReadModelDatabase(empty) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {empty.database_schema} CASCADE")


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_backup_of_one_kind_of_database_is_not_restored_into_another(
    settings: HubSettings, tmp_path: Path, postgres_url: str, postgres_schema: str
) -> None:
    first, _ = halves(tmp_path)
    _ok(settings, "ingest", str(first), "--strict")
    _ok(settings, "backup", str(tmp_path / "backup"))
    other = HubSettings(
        data_dir=tmp_path / "pg", database_url=postgres_url, database_schema=postgres_schema
    )
    done = cli_result(other, "restore", str(tmp_path / "backup"))
    assert done.returncode == 2
    assert "the backup is of a sqlite deployment" in done.stderr


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_manifest_naming_a_file_outside_the_deployment_is_refused(
    settings: HubSettings, tmp_path: Path
) -> None:
    backup = _backed_up(settings, tmp_path)
    manifest = orjson.loads((backup / "manifest.json").read_bytes())
    name = next(iter(manifest["files"]))
    manifest["files"][name]["path"] = "../../escaped"
    (backup / "manifest.json").write_bytes(orjson.dumps(manifest))
    empty = _other(settings, tmp_path, "empty")
    done = cli_result(empty, "restore", str(backup))
    assert done.returncode == 2
    assert "names a file outside its place: ../../escaped" in done.stderr
    assert not (tmp_path / "escaped").exists()
    manifest["files"][name]["path"] = "escaped"
    manifest["database"]["sqlite/../../outside.sqlite3"] = "0" * 64
    (backup / "manifest.json").write_bytes(orjson.dumps(manifest))
    done = cli_result(empty, "restore", str(backup))
    assert done.returncode == 2
    assert "the manifest names a file outside the backup: sqlite/../../outside" in done.stderr
