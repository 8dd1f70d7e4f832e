"""``dvchub catalogue load|show``: the unit and procedure catalogue, kept as events."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import JsonOption, console, fail, hub_or_exit, print_rows
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.bootstrap import Hub

catalogue_app = typer.Typer(help="The unit and procedure catalogue, kept as events.")
app.add_typer(catalogue_app, name="catalogue")


def _catalogue_load(hub: Hub, files: list[Path]) -> None:
    from hub.adapters.catalogue_files import CatalogueFileError, read_catalogue
    from hub.catalogue.store import CatalogueStore

    store = CatalogueStore(hub.settings)
    try:
        current = store.current()
        try:
            content = read_catalogue(files, None if current is None else current.content)
        except CatalogueFileError as error:
            raise fail(str(error)) from None
        version, changed = store.load(content, ", ".join(f.name for f in files))
        state = "loaded as" if changed else "unchanged: still"
        console.print(f"catalogue {state} version {version.version}: {version.describe()}")
    finally:
        store.close()


def _catalogue_show(hub: Hub, as_json: bool) -> None:
    from hub.catalogue.store import CatalogueStore

    with CatalogueStore(hub.settings) as store:
        rows = [
            {
                "version": number,
                "loaded_at": at.isoformat() if as_json else f"{at:%Y-%m-%d %H:%M:%S}",
                "sha256": digest if as_json else digest[:16],
                "source": source,
            }
            for number, at, digest, source in store.versions()
        ]
    columns = [("version", "version"), ("loaded_at", "loaded at (UTC)"), ("sha256", "sha256")]
    print_rows(rows, [*columns, ("source", "source")], "Catalogue versions", as_json)


@catalogue_app.command("load")
def catalogue_load(
    files: Annotated[list[Path], typer.Argument(help="YAML or CSV files of units and procedures")],
) -> None:
    """Load the catalogue; a new version is recorded only if it changed."""
    with hub_or_exit() as hub:
        _catalogue_load(hub, files)


@catalogue_app.command("show")
def catalogue_show(as_json: JsonOption = False) -> None:
    """List the catalogue's versions."""
    with hub_or_exit() as hub:
        _catalogue_show(hub, as_json)
