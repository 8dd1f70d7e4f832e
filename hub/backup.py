"""``dvchub backup`` / ``dvchub restore``: everything a deployment cannot make again, in one
directory, and back into an empty deployment.

What is kept:

- the database: on PostgreSQL the store's schema (the event store, the read models, the
  connector's outbox, the seals, the applicants' wrapped keys) as one ``pg_dump`` snapshot,
  so the read models never run ahead of the store they were folded from; on SQLite every
  ``*.sqlite3`` file of the data directory through SQLite's online backup, the read models
  first and the store after them (the read models may lag the store, never lead it: they
  catch up after a restore, without folding anything twice);
- the files: the data directory's (the key wrapping applicants' data keys, the checkpoint
  signing key, the published checkpoints, the rejects of the embedded bus), and the
  checkpoint directory and signing key where settings put them outside it.

Keys given in settings (``DVCHUB_PERSONAL_DATA_KEY``, ``DVCHUB_IDENTITY_KEY``) are not in a
backup: they are kept with the deployment's other secrets. Kafka's topics are not either: the
events topic is published again from the store by the relay, and the rest are described in
docs/operations.md.

``manifest.json`` lists every file with its SHA-256; a restore checks them all before it
writes anything, and refuses a deployment that is not empty.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from hub.settings import HubSettings

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
#: Files of the data directory that are never kept: SQLite's (kept through its own backup,
#: with their journals) and locks.
_NOT_FILES = (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".sqlite3-journal", ".lock")
READ_MODELS_FILE = "projections.sqlite3"


class BackupError(RuntimeError):
    """A backup or a restore that cannot be done, and why."""


Place = Literal["data", "audit", "signing-key"]


class KeptFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    place: Place  # under the data directory, the checkpoint directory, or the signing key
    path: str  # relative to the place ("" for the signing key)
    sha256: str
    mode: int


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int
    made_at: datetime
    dialect: Literal["postgres", "sqlite"]
    database_schema: str | None
    schema_revision: str | None
    database: dict[str, str]  # backup file -> its SHA-256
    files: dict[str, KeptFile]  # backup file (under files/) -> what it is


@dataclass(frozen=True)
class Summary:
    manifest: Manifest
    directory: Path

    @property
    def files(self) -> int:
        return len(self.manifest.files)


def _digest(path: Path) -> str:
    hashed = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hashed.update(block)
    return hashed.hexdigest()


def _places(settings: HubSettings) -> dict[Place, Path]:
    """Where each place is; the checkpoint directory and the signing key only when they are
    outside the data directory (else they are kept with it)."""
    data = settings.data_dir.resolve()
    places: dict[Place, Path] = {"data": data}
    audit = settings.audit_dir.resolve()
    if not audit.is_relative_to(data):
        places["audit"] = audit
    key = settings.audit_key_path.resolve()
    if not key.is_relative_to(data) and not key.is_relative_to(audit):
        places["signing-key"] = key
    return places


def _kept_files(settings: HubSettings) -> list[tuple[Place, Path, str]]:
    """(place, file, path within the place) of every file to keep."""
    found: list[tuple[Place, Path, str]] = []
    for place, root in _places(settings).items():
        if place == "signing-key":
            if root.is_file():
                found.append((place, root, ""))
            continue
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            if place == "data" and (path.name.endswith(_NOT_FILES) or path.name.startswith(".")):
                continue
            found.append((place, path, relative))
    return found


def _pg_env(settings: HubSettings) -> tuple[list[str], dict[str, str]]:
    """The connection arguments of the PostgreSQL tools, the password in their environment
    (never on a command line others can read)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parts = conninfo_to_dict(str(settings.database_url))
    env = {**os.environ}
    password = parts.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return ["--dbname", make_conninfo("", **parts)], env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: the PostgreSQL client tools (of the server's major "
            "version or newer) are needed to back up and restore PostgreSQL"
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    # The tool found on PATH, with arguments this module made (no shell).
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")


def backup(settings: HubSettings, directory: Path) -> Summary:
    """Write a backup of the deployment ``settings`` describe into ``directory`` (new or
    empty). Safe while the hub runs."""
    from hub import migrations

    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: a backup goes into a new directory")
    directory.mkdir(parents=True, exist_ok=True)
    files_dir = directory / "files"
    revision = migrations.state(settings).current
    kept: dict[str, KeptFile] = {}
    # Files first: the database snapshot after them is at least as new as the checkpoints
    # published in them.
    for index, (place, path, relative) in enumerate(_kept_files(settings)):
        name = f"{index:05d}-{path.name}"
        target = files_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        mode = path.stat().st_mode & 0o777
        target.chmod(0o600)
        kept[name] = KeptFile(place=place, path=relative, sha256=_digest(target), mode=mode)
    database: dict[str, str] = {}
    if settings.uses_postgres:
        arguments, env = _pg_env(settings)
        _run(
            [
                _tool("pg_dump"),
                *arguments,
                "--format=custom",
                "--schema",
                settings.database_schema,
                "--no-owner",
                "--no-privileges",
                "--file",
                str(directory / DUMP),
            ],
            env,
        )
        database[DUMP] = _digest(directory / DUMP)
    else:
        # The read models first: they may lag the store, never lead it.
        found = settings.data_dir.glob("*.sqlite3")
        for path in sorted(found, key=lambda p: (p.name != READ_MODELS_FILE, p.name)):
            target = directory / "sqlite" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            source, copy = sqlite3.connect(path), sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
            database[f"sqlite/{path.name}"] = _digest(target)
    manifest = Manifest(
        format=FORMAT,
        made_at=datetime.now(UTC),
        dialect="postgres" if settings.uses_postgres else "sqlite",
        database_schema=settings.database_schema if settings.uses_postgres else None,
        schema_revision=revision,
        database=database,
        files=kept,
    )
    (directory / MANIFEST).write_bytes(
        orjson.dumps(manifest.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
    )
    return Summary(manifest, directory)


def read_manifest(directory: Path) -> Manifest:
    """The backup's manifest, every file it lists checked against its SHA-256."""
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} is not a backup: it has no {MANIFEST}")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValueError as error:
        raise BackupError(f"{path} is not a backup's manifest: {error}") from None
    if manifest.format != FORMAT:
        raise BackupError(f"backup format {manifest.format} is not this release's ({FORMAT})")
    listed = {**manifest.database, **{f"files/{n}": f.sha256 for n, f in manifest.files.items()}}
    for name, digest in listed.items():
        file = directory / name
        if not file.resolve().is_relative_to(directory.resolve()) or "/" in name.removeprefix(
            "files/"
        ).removeprefix("sqlite/"):
            raise BackupError(f"the manifest names a file outside the backup: {name}")
        if not file.is_file():
            raise BackupError(f"the backup lacks {name}")
        if _digest(file) != digest:
            raise BackupError(f"{name} is not the file the backup wrote (its SHA-256 differs)")
    return manifest


def _empty(settings: HubSettings, manifest: Manifest) -> None:
    """Refuse a deployment that holds anything a restore would overwrite."""
    if manifest.dialect != ("postgres" if settings.uses_postgres else "sqlite"):
        raise BackupError(
            f"the backup is of a {manifest.dialect} deployment; this one is not: restore it "
            "into the same kind of database"
        )
    if settings.uses_postgres:
        if manifest.database_schema != settings.database_schema:
            raise BackupError(
                f"the backup is of schema {manifest.database_schema}; this deployment's is "
                f"{settings.database_schema} (DVCHUB_DATABASE_SCHEMA)"
            )
        import psycopg

        with psycopg.connect(str(settings.database_url), autocommit=True) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                (settings.database_schema,),
            ).fetchone()
            if tables is not None and tables[0]:
                raise BackupError(
                    f"schema {settings.database_schema} has tables: a backup is restored "
                    "into an empty deployment"
                )
    else:
        present = sorted(p.name for p in settings.data_dir.glob("*.sqlite3"))
        if present:
            raise BackupError(
                f"{settings.data_dir} has databases ({', '.join(present)}): a backup is "
                "restored into an empty deployment"
            )
    for kept in manifest.files.values():
        target = _target(settings, kept)
        if target.exists():
            raise BackupError(f"{target} exists: a backup is restored into an empty deployment")


def _target(settings: HubSettings, kept: KeptFile) -> Path:
    """Where a kept file goes in the deployment ``settings`` describe."""
    if kept.place == "signing-key":
        return settings.audit_key_path
    root = settings.data_dir if kept.place == "data" else settings.audit_dir
    target = root / kept.path
    if not kept.path or not target.resolve().is_relative_to(root.resolve()):
        raise BackupError(f"the backup names a file outside its place: {kept.path}")
    return target


def restore(settings: HubSettings, directory: Path) -> Summary:
    """Restore the backup in ``directory`` into the empty deployment ``settings`` describe,
    then bring its tables to this release (:func:`hub.migrations.upgrade`)."""
    from hub import migrations

    manifest = read_manifest(directory)
    _empty(settings, manifest)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if manifest.dialect == "postgres":
        import psycopg
        from psycopg import sql

        arguments, env = _pg_env(settings)
        with psycopg.connect(str(settings.database_url), autocommit=True) as connection:
            # An empty schema of that name (made by a first start) gives way to the backup's.
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {}").format(sql.Identifier(settings.database_schema))
            )
        _run(
            [
                _tool("pg_restore"),
                *arguments,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                str(directory / DUMP),
            ],
            env,
        )
    else:
        for name in manifest.database:
            shutil.copyfile(directory / name, settings.data_dir / Path(name).name)
    for name, kept in manifest.files.items():
        target = _target(settings, kept)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / "files" / name, target)
        target.chmod(kept.mode)
    migrations.upgrade(settings)
    return Summary(manifest, directory)
