"""What every command shares: the consoles; the settings and the hub a command runs with, or a
clear message and exit status 2; periods given on the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from hub.bootstrap import Hub
    from hub.read_side import ReadSide
    from hub.settings import HubSettings
    from projections.periods import Period

console = Console(width=max(Console().width, 150))
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error; the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def settings_or_exit() -> HubSettings:
    from pydantic import ValidationError

    from hub.settings import UnknownSettings, load_settings

    try:
        return load_settings()
    except UnknownSettings as error:
        raise fail(f"unknown settings: {error}") from None
    except ValidationError as error:
        raise fail(f"invalid settings (DVCHUB_* variables):\n{error}") from None


def hub_or_exit() -> Hub:
    from eventsourcing.persistence import InterfaceError, OperationalError

    from hub.adapters.calendar_files import CalendarFileError
    from hub.bootstrap import bootstrap

    settings = settings_or_exit()
    try:
        return bootstrap(settings)
    except CalendarFileError as error:
        raise fail(f"invalid calendar file: {error}") from None
    except (OperationalError, InterfaceError) as error:
        raise fail(f"cannot open the event store: {error}") from None


def read_side_or_exit() -> ReadSide:
    """The hub opened for reading figures only (:mod:`hub.read_side`)."""
    from eventsourcing.persistence import InterfaceError, OperationalError

    from hub.read_side import open_read_side

    settings = settings_or_exit()
    try:
        return open_read_side(settings)
    except (OperationalError, InterfaceError) as error:
        raise fail(f"cannot open the event store: {error}") from None


def period_of(text: str) -> Period:
    from projections.periods import Period, PeriodError

    try:
        return Period.parse(text)
    except PeriodError as error:
        raise fail(str(error)) from None


#: ``--json`` on a command that prints a table: the same rows as JSON instead.
JsonOption = Annotated[bool, typer.Option("--json", help="Print the rows as JSON")]


def print_rows(
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[tuple[str, str]],
    title: str,
    as_json: bool,
) -> None:
    """``rows`` as a table of ``columns`` (key, heading), or as a JSON array of objects."""
    if as_json:
        import orjson

        typer.echo(orjson.dumps(list(rows), option=orjson.OPT_INDENT_2, default=str).decode())
        return
    from rich.table import Table

    table = Table(*(heading for _, heading in columns), title=title)
    for row in rows:
        table.add_row(*("" if row.get(key) is None else str(row[key]) for key, _ in columns))
    console.print(table)
