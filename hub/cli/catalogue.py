"""``dvchub catalogue load|show|units``: the unit and procedure catalogue and the units'
history, kept as events."""

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
    files: Annotated[
        list[Path],
        typer.Argument(help="YAML or CSV files of units, procedures and unit changes"),
    ],
) -> None:
    """Load the catalogue, or changes to its units (merged, split, renamed, moved,
    dissolved, established); a new version is recorded only if it changed."""
    with hub_or_exit() as hub:
        _catalogue_load(hub, files)


@catalogue_app.command("show")
def catalogue_show(as_json: JsonOption = False) -> None:
    """List the catalogue's versions."""
    with hub_or_exit() as hub:
        _catalogue_show(hub, as_json)


@catalogue_app.command("units")
def catalogue_units(
    on: Annotated[str | None, typer.Option(help="The day, YYYY-MM-DD (default: today)")] = None,
    as_json: JsonOption = False,
) -> None:
    """The units as they stood on a day: code, name, level, parent."""
    from datetime import date, datetime

    from hub.catalogue.store import CatalogueStore
    from hub.domain.vietnam import VIETNAM

    try:
        day = datetime.now(VIETNAM).date() if on is None else date.fromisoformat(on)
    except ValueError:
        raise fail(f"--on {on!r}: expected a day, YYYY-MM-DD") from None
    with hub_or_exit() as hub, CatalogueStore(hub.settings) as store:
        current = store.current()
        if current is None:
            raise fail("no catalogue loaded")
        tree = current.tree.on(day)
    rows = [
        {"code": u.code, "name": u.name, "level": u.level.value, "parent": u.parent}
        for u in sorted(tree.values(), key=lambda u: (u.parent or "", u.code))
    ]
    columns = [("code", "code"), ("name", "name"), ("level", "level"), ("parent", "parent")]
    print_rows(rows, columns, f"Units on {day.isoformat()}", as_json)
