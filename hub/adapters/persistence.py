"""Choose and configure the eventsourcing persistence module from the hub's settings."""

from __future__ import annotations

from urllib.parse import unquote

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
