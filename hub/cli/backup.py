"""``dvchub backup`` and ``dvchub restore`` (:mod:`hub.backup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, fail, settings_or_exit
from hub.cli.root import app


@app.command("backup")
def backup_command(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) directory to write")],
) -> None:
    """Back up the store, the hub's tables, the keys and the published checkpoints (safe
    while the hub runs); restore with dvchub restore."""
    from hub.backup import BackupError, backup

    settings = settings_or_exit()
    try:
        made = backup(settings, directory)
    except BackupError as error:
        raise fail(f"cannot back up: {error}") from None
    manifest = made.manifest
    console.print(
        f"backed up the {manifest.dialect} database (tables at revision "
        f"{manifest.schema_revision or 'none'}) and {made.files} files into {directory}"
    )
    if settings.personal_data_key is not None or settings.identity_key is not None:
        console.print(
            "keys given in settings (DVCHUB_PERSONAL_DATA_KEY, DVCHUB_IDENTITY_KEY) are not "
            "in the backup: keep them with the deployment's secrets"
        )


@app.command("restore")
def restore_command(
    directory: Annotated[Path, typer.Argument(help="A directory dvchub backup wrote")],
) -> None:
    """Restore a backup into an empty deployment (every file is checked first), then bring
    its tables to this release."""
    from hub.backup import BackupError, restore

    settings = settings_or_exit()
    try:
        done = restore(settings, directory)
    except BackupError as error:
        raise fail(f"cannot restore: {error}") from None
    console.print(
        f"restored the backup of {done.manifest.made_at:%Y-%m-%d %H:%M:%S} UTC "
        f"({done.files} files); the projections catch up from where it stood"
    )
