"""``dvchub db``: the hub's own tables against this release (:mod:`hub.migrations`)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import console, fail, settings_or_exit
from hub.cli.root import app

db_app = typer.Typer(help="The hub's tables: upgrade to this release, where they stand.")
app.add_typer(db_app, name="db")


def _database_errors() -> tuple[type[BaseException], ...]:
    import sqlalchemy.exc

    from hub.migrations import SchemaBehind

    return (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, SchemaBehind)


@db_app.command("upgrade")
def upgrade(
    to: Annotated[str, typer.Option(help="The revision to reach (default: this release's)")] = (
        "head"
    ),
) -> None:
    """Bring the hub's tables to this release (run before starting a newer release; each
    process also does it at start unless DVCHUB_DB_AUTO_UPGRADE=false)."""
    from hub import migrations

    settings = settings_or_exit()
    try:
        before = migrations.upgrade(settings, to)
        after = migrations.state(settings)
    except _database_errors() as error:
        raise fail(f"cannot upgrade the database: {error}") from None
    if before.current == after.current:
        console.print(f"the database is already {after.describe()}")
    else:
        was = before.current or "no revision"
        console.print(f"upgraded the database from {was} to {after.current}")


@db_app.command("current")
def current() -> None:
    """Where the database stands: exit status 0 at this release's revision, 1 if it is
    behind (dvchub db upgrade), 3 if a newer release's."""
    from hub import migrations

    settings = settings_or_exit()
    try:
        found = migrations.state(settings)
    except _database_errors() as error:
        raise fail(f"cannot read the database: {error}") from None
    console.print(f"the database is {found.describe()}")
    if not found.up_to_date:
        raise typer.Exit(1 if found.behind else 3)


@db_app.command("history")
def history() -> None:
    """This release's revisions, oldest first."""
    from hub import migrations

    for revision, title in migrations.history():
        console.print(f"{revision}  {title}")
