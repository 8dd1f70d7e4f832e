"""The hub's one settings object.

Read from environment variables prefixed ``DVCHUB_`` and, when ``DVCHUB_ENV_FILE`` names
one, from that dotenv file (the environment wins). The defaults give the embedded mode:
SQLite files under ``./var``, no external service.
"""

from __future__ import annotations

import os
import socket
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, PostgresDsn, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.domain.bounds import TimeWindow
from hub.domain.calendar import OfficeHours
from hub.domain.lifecycle import SupplementRule


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DVCHUB_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("var"), description="Where embedded-mode files live")
    database_url: PostgresDsn | None = Field(
        None,
        description="postgresql://user:password@host:port/dbname; unset: SQLite in data_dir",
    )
    database_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
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
    office_hours: str = "07:00-11:30,13:30-17:00"
    supplement_rule: SupplementRule = SupplementRule.RECOMPUTE
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"

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
    kafka_actions_topic: str = "dvc.dossier-actions.v1"
    kafka_events_topic: str = "dvc.dossier-events.v1"
    kafka_rejects_topic: str = "dvc.dossier-actions.rejected.v1"
    kafka_partitions: int = Field(6, ge=1, description="Partitions of topics the hub creates")
    kafka_inbound_group: str = "dvchub-ingest"
    kafka_projections_group: str = "dvchub-projections"
    instance_id: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Names this process among the group's members (its transactional id)",
    )
    kafka_relay_transactional_id: str = "dvchub-relay"
    kafka_poll_records: int = Field(5_000, ge=1, le=50_000)

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
    kafka_checkpoints_topic: str = "dvc.audit-checkpoints.v1"

    # The national portal (DVCQG) connector. Unset URL: the connector does not run.
    dvcqg_url: str | None = Field(None, description="Base URL of the portal's sync interface")
    dvcqg_username: str = "dvchub"
    dvcqg_password: SecretStr = SecretStr("")
    dvcqg_dstcode: str = Field("000.00.00.H12", description="The province's code at the portal")
    dvcqg_madonvi: str = Field("000.00.00.H12", description="madonvi sent with every call")
    dvcqg_timeout_seconds: float = Field(10.0, gt=0)
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
    kafka_connector_group: str = "dvchub-dvcqg"

    service_stuck_seconds: float = Field(
        120.0,
        gt=0,
        description="A background service that shows no sign of life this long is stuck: "
        "the process is then not ready (/readyz)",
    )

    # The HTTP API.
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65_535)
    api_max_request_bytes: int = Field(5 * 2**20, ge=1_024)
    api_max_batch_events: int = Field(5_000, ge=1)

    @field_validator("office_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        OfficeHours.parse(value)
        return value

    @property
    def time_window(self) -> TimeWindow:
        """The window of instants events may carry."""
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


def load_settings() -> HubSettings:
    """Settings from the environment and the optional ``DVCHUB_ENV_FILE``."""
    return HubSettings(_env_file=os.environ.get("DVCHUB_ENV_FILE"))
