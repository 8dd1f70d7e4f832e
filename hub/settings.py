"""The hub's one settings object.

Read from environment variables prefixed ``DVCHUB_`` and, when ``DVCHUB_ENV_FILE`` names
one, from that dotenv file (the environment wins), and when ``DVCHUB_SECRETS_DIR`` names a
directory, from the files in it named as the variables (``dvchub_database_password``: the
way Docker and Compose hand secrets to a container, under ``/run/secrets``). The defaults
give the embedded mode: SQLite files under ``./var``, no external service.
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, unquote

from dotenv import dotenv_values
from pydantic import Field, PostgresDsn, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

from hub.domain.supplement import SupplementRule

if TYPE_CHECKING:
    from hub.domain.bounds import TimeWindow


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCHUB_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("var"), description="Where embedded-mode files live")
    database_url: PostgresDsn | None = Field(
        None,
        description="postgresql://user:password@host:port/dbname; unset: SQLite in data_dir",
    )
    database_password: SecretStr | None = Field(
        None,
        description="The password of database_url's user, when the URL has none (e.g. from "
        "a secret file, see DVCHUB_SECRETS_DIR)",
    )
    db_auto_upgrade: bool = Field(
        True,
        description="dvchub serve brings the hub's tables to this release at start (as dvchub "
        "db upgrade does); off: it refuses to start on an older database",
    )
    database_schema: str = Field(
        "public",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema of the store and the read models",
    )
    aggregate_cache_size: int = Field(
        50_000, ge=0, description="Dossiers kept in memory by the ingest path (0: none)"
    )
    ingest_batch_size: int = Field(
        1_000, ge=1, le=50_000, description="Events written in one transaction"
    )
    ingest_max_line_bytes: int = Field(
        1_048_576,
        ge=1_024,
        le=64 * 1_048_576,
        description="A line of an ingested file longer than this is rejected unread",
    )
    calendar_dir: Path | None = Field(
        None, description="Directory of YYYY.yaml files of extra days off and working days"
    )
    office_hours: str = Field(
        "07:00-11:30,13:30-17:00", description="Office periods of a working day"
    )
    supplement_rule: SupplementRule = Field(
        SupplementRule.RECOMPUTE,
        description="recompute the deadline when a supplement is complete, or extend it by "
        "the wait",
    )
    earliest_date: date = Field(
        date(2000, 1, 1),
        description="No instant an event carries may be before this date (sentinels such as "
        "0001-01-01 are refused)",
    )
    max_clock_skew_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description="How far after the hub's receipt an event's occurred_at may be",
    )
    due_horizon_days: int = Field(
        3_660,
        ge=1,
        le=36_600,
        description="How far after its event a due date may be (9999-12-31 is refused)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least level logged (structlog, on standard error)"
    )
    log_format: Literal["json", "console"] = Field(
        "json", description="json: one object per line; console: for a person at a terminal"
    )

    identity_key: SecretStr | None = Field(
        None,
        description="The province's identity key (at least 16 bytes): the hub hashes identity "
        "numbers presented to it, e.g. in reuse look-ups, with it, as agency systems do",
    )

    personal_data_key: SecretStr | None = Field(
        None,
        description="Base64 of 32 bytes that wrap applicants' data keys; unset: "
        "<data_dir>/personal-data.key, made on first use",
    )

    # The bus. Unset bootstrap servers: the embedded in-process bus over the store's log.
    kafka_bootstrap: str | None = Field(None, description="host:port[,host:port...] of Kafka")
    kafka_actions_topic: str = Field(
        "dvc.dossier-actions.v1", description="Agency systems publish dossier actions here"
    )
    kafka_events_topic: str = Field(
        "dvc.dossier-events.v1", description="The relay publishes every stored event here"
    )
    kafka_rejects_topic: str = Field(
        "dvc.dossier-actions.rejected.v1",
        description="Refused actions, as sent, with the reason in headers",
    )
    kafka_partitions: int = Field(6, ge=1, description="Partitions of topics the hub creates")
    kafka_inbound_group: str = Field(
        "dvchub-ingest", description="Consumer group of the inbound consumers"
    )
    kafka_projections_group: str = Field(
        "dvchub-projections", description="Consumer group of the projection workers"
    )
    instance_id: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Names this process among the group's members (its transactional id)",
    )
    kafka_relay_transactional_id: str = Field(
        "dvchub-relay", description="The relay's transactional id (one relay at a time)"
    )
    kafka_poll_records: int = Field(
        5_000, ge=1, le=50_000, description="Records a consumer takes from Kafka per poll"
    )

    # The audit log: seals over every stored event, signed checkpoints of their Merkle tree.
    audit_origin: str = Field(
        "dvchub.local/dossiers",
        pattern=r"^[^\s+]{1,200}$",
        description="The log's name in its checkpoints (and the signing key's name)",
    )
    audit_signing_key_file: Path | None = Field(
        None,
        description="Ed25519 private key (PEM) that signs checkpoints; unset: "
        "<data_dir>/audit/signing-key.pem, made on first use",
    )
    audit_checkpoint_dir: Path | None = Field(
        None, description="Where checkpoints are published as files; unset: <data_dir>/audit"
    )
    audit_checkpoint_seconds: float = Field(
        60.0, gt=0, description="How often the sealer signs a checkpoint when the log grew"
    )
    kafka_checkpoints_topic: str = Field(
        "dvc.audit-checkpoints.v1", description="Signed checkpoints are published here"
    )

    # The national portal (DVCQG) connector. Unset URL: the connector does not run.
    dvcqg_url: str | None = Field(None, description="Base URL of the portal's sync interface")
    dvcqg_username: str = Field("dvchub", description="The connector's user at the portal")
    dvcqg_password: SecretStr = Field(
        SecretStr(""), description="The connector's password at the portal"
    )
    dvcqg_login_path: str = Field(
        "/login", pattern=r"^/", description="Path of the portal's log-in, under its URL"
    )
    dvcqg_service_path: str = Field(
        "/service", pattern=r"^/", description="Path of the portal's service calls, under its URL"
    )
    dvcqg_exists_codes: frozenset[int] = Field(
        frozenset({2}),
        description="Error codes by which the portal says an inserted dossier exists (its "
        'message saying "đã tồn tại" is read as that whatever the code)',
    )
    dvcqg_expired_codes: frozenset[int] = Field(
        frozenset({401}),
        description="Error codes by which the portal says the session expired (HTTP 401 or "
        "403, and messages saying so, are read as that whatever the code)",
    )
    dvcqg_not_found_codes: frozenset[int] = Field(
        frozenset({3}),
        description="Error codes by which a look-up says the dossier is not on the portal "
        "(an empty result, and messages saying so, are read as that whatever the code)",
    )
    dvcqg_dstcode: str = Field("000.00.00.H12", description="The province's code at the portal")
    dvcqg_madonvi: str = Field("000.00.00.H12", description="madonvi sent with every call")
    dvcqg_timeout_seconds: float = Field(
        10.0, gt=0, description="How long a portal call may take before it is unanswered"
    )
    dvcqg_batch_size: int = Field(500, ge=1, le=2_000, description="Dossiers per portal call")
    dvcqg_refusals_before_parking: int = Field(
        3, ge=1, description="Times the portal may refuse an update before it is parked"
    )
    dvcqg_breaker_failures: int = Field(
        5, ge=1, description="Failed rounds in a row that open the circuit breaker"
    )
    dvcqg_breaker_seconds: float = Field(30.0, gt=0, description="How long it stays open")
    dvcqg_settle_seconds: float = Field(
        30.0,
        ge=0,
        description="After an unanswered call, wait this long before asking the portal what "
        "it holds (the call may still be on its way)",
    )
    dvcqg_sole_sync_since: date | None = Field(
        None,
        description="From this day on only the hub syncs the province's dossiers to the "
        "portal: one received since then and never sent is inserted without a look-up first "
        '(an insert answered "đã tồn tại" is still sent again as an update). Unset: every '
        "dossier is looked up before its first send",
    )
    kafka_connector_group: str = Field(
        "dvchub-dvcqg", description="Consumer group of the connector's intake (with Kafka)"
    )

    service_stuck_seconds: float = Field(
        120.0,
        gt=0,
        description="A background service that shows no sign of life this long is stuck: "
        "the process is then not ready (/readyz)",
    )

    # The HTTP API.
    api_host: str = Field("127.0.0.1", description="Where the API listens")
    api_port: int = Field(8000, ge=0, le=65_535, description="The API's port")
    probe_port: int | None = Field(
        None,
        ge=1,
        le=65_535,
        description="A process without the API answers /healthz, /readyz and /metrics on this "
        "port (at api_host); unset: it answers none",
    )
    board_lookup_rate: str = Field(
        "30/minute",
        pattern=r"^\d+ ?(/|per) ?(second|minute|hour|day)$",
        description="Dossier look-ups on the board one client may make (e.g. 30/minute); "
        "more are answered 429",
    )
    api_max_request_bytes: int = Field(
        5 * 2**20, ge=1_024, description="A larger request body is refused (413)"
    )
    api_max_batch_events: int = Field(
        5_000, ge=1, description="A request with more events is refused (413)"
    )
    api_group_commit: bool = Field(
        True,
        description="Concurrent requests' events decided and written together in one "
        "transaction (each answered with its own outcomes once stored); off: one "
        "transaction per request",
    )
    api_group_commit_events: int = Field(
        5_000, ge=1, description="The most events one group commit writes"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, the env file and the secret files."""
        secrets = os.environ.get("DVCHUB_SECRETS_DIR")
        if secrets:
            if not Path(secrets).is_dir():
                raise ValueError(f"DVCHUB_SECRETS_DIR {secrets} is not a directory")
            file_secret_settings = SecretsSettingsSource(settings_cls, secrets_dir=secrets)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _password_in_url(self) -> HubSettings:
        """The password given apart goes into the database URL (which then carries it)."""
        if self.database_password is None or self.database_url is None:
            return self
        password = self.database_password.get_secret_value()
        host = self.database_url.hosts()[0]
        if host["password"] is not None:
            if unquote(host["password"]) != password:
                raise ValueError("database_url has a password and database_password another")
            return self
        netloc = f"{quote(host['username'] or '', safe='')}:{quote(password, safe='')}@"
        netloc += f"{host['host'] or ''}" + (f":{host['port']}" if host["port"] else "")
        url = str(self.database_url).split("://", 1)
        rest = url[1].split("/", 1)
        rebuilt = f"{url[0]}://{netloc}" + (f"/{rest[1]}" if len(rest) == 2 else "")
        object.__setattr__(self, "database_url", PostgresDsn(rebuilt))  # frozen: set once here
        return self

    @field_validator("office_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        from hub.domain.calendar import OfficeHours

        OfficeHours.parse(value)
        return value

    @property
    def time_window(self) -> TimeWindow:
        """The window of instants events may carry."""
        from hub.domain.bounds import TimeWindow

        return TimeWindow(
            earliest=self.earliest_date,
            max_skew=timedelta(seconds=self.max_clock_skew_seconds),
            due_horizon=timedelta(days=self.due_horizon_days),
        )

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def audit_dir(self) -> Path:
        """Where checkpoints are published as files."""
        return self.audit_checkpoint_dir or self.data_dir / "audit"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_signing_key_file or self.data_dir / "audit" / "signing-key.pem"


def settings_env(settings: HubSettings) -> dict[str, str]:
    """``settings`` as the ``DVCHUB_*`` variables that give them to another process."""
    data = settings.model_dump(mode="json")
    for name, value in settings:
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return {
        f"DVCHUB_{name.upper()}": str(value) for name, value in data.items() if value is not None
    }


# ``DVCHUB_`` variables that are not settings of the hub: the env file's name, the service
# scripts' own (scripts/services/), and the test suite's and benchmarks' (by prefix).
NOT_SETTINGS = frozenset(
    {
        "DVCHUB_ENV_FILE",
        "DVCHUB_PG_PORT",
        "DVCHUB_PG_DATA",
        "DVCHUB_KAFKA_PORT",
        "DVCHUB_KAFKA_DATA",
        "DVCHUB_KAFKA_CACHE",
        "DVCHUB_KAFKA_START_SECONDS",
        "DVCHUB_ASYNCAPI_CACHE",
        "DVCHUB_SECRETS_DIR",  # where secret files are read from (HubSettings)
    }
)
NOT_SETTINGS_PREFIXES = ("DVCHUB_TEST_", "DVCHUB_BENCH_")


class UnknownSettings(ValueError):
    """``DVCHUB_`` variables that name no setting: misspelled, or left from another version."""

    def __init__(self, unknown: dict[str, str]) -> None:
        self.unknown = unknown
        lines = []
        for name, source in sorted(unknown.items()):
            near = difflib.get_close_matches(name, known_variables(), n=1, cutoff=0.75)
            hint = f" (did you mean {near[0]}?)" if near else ""
            lines.append(f"{name} in {source} is not a setting{hint}")
        super().__init__("; ".join(lines))


def known_variables() -> list[str]:
    """Every ``DVCHUB_`` variable that sets something."""
    return [f"DVCHUB_{name.upper()}" for name in HubSettings.model_fields]


def unknown_variables(environ: Mapping[str, str], env_file: Path | None = None) -> dict[str, str]:
    """Each ``DVCHUB_`` name in ``environ`` or the env file that no setting reads, and where
    it was found."""
    known = set(known_variables()) | NOT_SETTINGS
    names = dict.fromkeys(environ, "the environment")
    if env_file is not None and env_file.is_file():
        for name in dotenv_values(env_file):
            names.setdefault(name, str(env_file))
    return {
        name: source
        for name, source in names.items()
        if name.upper().startswith("DVCHUB_")
        and name.upper() not in known
        and not name.upper().startswith(NOT_SETTINGS_PREFIXES)
    }


def load_settings() -> HubSettings:
    """Settings from the environment and the optional ``DVCHUB_ENV_FILE``.

    A ``DVCHUB_`` variable that names no setting is an error (:class:`UnknownSettings`): a
    misspelled ``DVCHUB_DATABSE_URL`` must not quietly leave the hub on its embedded store."""
    env_file = os.environ.get("DVCHUB_ENV_FILE")
    unknown = unknown_variables(os.environ, Path(env_file) if env_file else None)
    if unknown:
        raise UnknownSettings(unknown)
    return HubSettings(_env_file=env_file)
