"""Choose and configure the eventsourcing persistence module from the hub's settings."""

from __future__ import annotations

from typing import Self
from urllib.parse import unquote
from uuid import UUID

import stamina
from eventsourcing.application import Application
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    InternalError,
    ProgrammingError,
    Transcoder,
)

from hub.adapters.transcoder import OrjsonTranscoder
from hub.settings import HubSettings


def eventsourcing_env(settings: HubSettings, sqlite_name: str = "events") -> dict[str, str]:
    """The eventsourcing environment for ``settings``: PostgreSQL if a URL is set, else SQLite.

    In PostgreSQL each application has its own table (named after it); eventsourcing's SQLite
    recorder has one table name, so each application gets its own file, ``sqlite_name``.

    The aggregate cache is not fast-forwarded: the ingest path relies on optimistic
    concurrency instead (a stale cached dossier makes ``save()`` fail, the dossier is
    evicted and the batch retried), which saves one query per event.
    """
    env = {
        "CREATE_TABLE": "y",
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    if settings.aggregate_cache_size == 0:
        del env["AGGREGATE_CACHE_MAXSIZE"]
    url = settings.database_url
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=str(settings.data_dir / f"{sqlite_name}.sqlite3"),
            SQLITE_LOCK_TIMEOUT="30",
        )
        return env
    host = url.hosts()[0]
    env.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=(url.path or "/").lstrip("/") or "postgres",
        POSTGRES_HOST=host["host"] or "127.0.0.1",
        POSTGRES_PORT=str(host["port"] or 5432),
        POSTGRES_USER=unquote(host["username"] or "postgres"),
        POSTGRES_PASSWORD=unquote(host["password"] or ""),
        POSTGRES_SCHEMA=settings.database_schema,
        POSTGRES_POOL_SIZE="2",
        POSTGRES_CONNECT_TIMEOUT="10",
        APPLICATION_RECORDER_TOPIC=(
            "hub.adapters.postgres_recorder:BinaryInsertApplicationRecorder"
        ),
    )
    return env


class HubApplication(Application[UUID]):
    """An eventsourcing application configured from the hub's settings.

    Its stored events are plain JSON (orjson), and its tables may be created by several
    processes starting at once: PostgreSQL's ``CREATE ... IF NOT EXISTS`` can still collide
    on the catalogue when two sessions race, so table creation is retried.
    """

    def __init__(self, settings: HubSettings, sqlite_name: str = "events") -> None:
        super().__init__(env=eventsourcing_env(settings, sqlite_name))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def construct_transcoder(self) -> Transcoder:
        return OrjsonTranscoder()

    def construct_recorder(self) -> ApplicationRecorder:
        # A losing session sees a unique violation on the catalogue (IntegrityError),
        # "relation already exists" (ProgrammingError) or "tuple concurrently updated"
        # (InternalError); the next attempt finds the tables.
        for attempt in stamina.retry_context(
            on=(IntegrityError, InternalError, ProgrammingError), attempts=5, wait_initial=0.05
        ):
            with attempt:
                return super().construct_recorder()
        raise AssertionError("unreachable: stamina re-raises after the last attempt")
