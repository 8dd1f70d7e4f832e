"""Settings: a variable that names no setting is reported, with the one it was meant to be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.settings import HubSettings, UnknownSettings, load_settings, unknown_variables


def test_a_misspelled_variable_is_an_error_naming_the_setting_meant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DVCHUB_DATABSE_URL", "postgresql://x@h/db")
    with pytest.raises(UnknownSettings) as raised:
        load_settings()
    message = str(raised.value)
    assert "DVCHUB_DATABSE_URL in the environment is not a setting" in message
    assert "did you mean DVCHUB_DATABASE_URL?" in message


def test_the_env_file_is_checked_too_and_other_tools_variables_are_not_settings(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "hub.env"
    env_file.write_text("DVCHUB_LOG_LEVEL=INFO\nDVCHUB_KAFKA_BOOTSTRAPS=k:9092\n")
    environ = {
        "DVCHUB_DATA_DIR": "var",
        "DVCHUB_ENV_FILE": str(env_file),
        "DVCHUB_PG_PORT": "54329",  # scripts/services/postgres.sh's own
        "DVCHUB_KAFKA_DATA": "/tmp/k",  # scripts/services/kafka.sh's own
        "DVCHUB_TEST_DATABASE_URL": "postgresql://x@h/db",  # the test suite's
        "DVCHUB_BENCH_KAFKA_BOOTSTRAP": "k:9092",  # the benchmarks'
        "PATH": "/usr/bin",
    }
    assert unknown_variables(environ, env_file) == {"DVCHUB_KAFKA_BOOTSTRAPS": str(env_file)}


def test_every_setting_is_a_known_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HubSettings.model_fields:
        monkeypatch.setenv(f"DVCHUB_{name.upper()}", "x")
    assert unknown_variables(dict(os.environ)) == {}


def test_secrets_are_read_from_files_named_as_their_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "dvchub_database_password").write_text("s3cr:t/@pass\n")  # as Compose mounts it
    (tmp_path / "dvchub_dvcqg_password").write_text("portal")
    monkeypatch.setenv("DVCHUB_SECRETS_DIR", str(tmp_path))
    settings = HubSettings(database_url="postgresql://dvchub@postgres:5432/dvchub")
    import psycopg.conninfo

    parts = psycopg.conninfo.conninfo_to_dict(str(settings.database_url))
    assert (parts["user"], parts["host"]) == ("dvchub", "postgres")
    assert parts["password"] == "s3cr:t/@pass"
    assert settings.dvcqg_password.get_secret_value() == "portal"
    monkeypatch.setenv("DVCHUB_DVCQG_PASSWORD", "from-env")  # the environment wins
    assert HubSettings().dvcqg_password.get_secret_value() == "from-env"


def test_a_password_given_twice_differently_or_a_missing_secrets_dir_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="database_url has a password and database_password"):
        HubSettings(database_url="postgresql://u:one@h/db", database_password="two")
    same = HubSettings(database_url="postgresql://u:one@h/db", database_password="one")
    assert str(same.database_url) == "postgresql://u:one@h/db"
    monkeypatch.setenv("DVCHUB_SECRETS_DIR", str(tmp_path / "absent"))
    with pytest.raises(ValueError, match=r"DVCHUB_SECRETS_DIR .*absent is not a directory"):
        HubSettings()
