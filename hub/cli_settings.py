"""The settings and the hub a command runs with, or a clear message and exit status 2."""

from __future__ import annotations

import typer
from eventsourcing.persistence import InterfaceError, OperationalError
from pydantic import ValidationError
from rich.console import Console

from hub.adapters.calendar_files import CalendarFileError
from hub.bootstrap import Hub, bootstrap
from hub.settings import HubSettings, UnknownSettings, load_settings

err_console = Console(stderr=True, soft_wrap=True)


def _exit(problem: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {problem}")
    return typer.Exit(2)


def settings_or_exit() -> HubSettings:
    try:
        return load_settings()
    except UnknownSettings as error:
        raise _exit(f"unknown settings: {error}") from None
    except ValidationError as error:
        raise _exit(f"invalid settings (DVCHUB_* variables):\n{error}") from None


def hub_or_exit() -> Hub:
    settings = settings_or_exit()
    try:
        return bootstrap(settings)
    except CalendarFileError as error:
        raise _exit(f"invalid calendar file: {error}") from None
    except (OperationalError, InterfaceError) as error:
        raise _exit(f"cannot open the event store: {error}") from None
