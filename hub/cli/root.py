"""The ``dvchub`` command's root; each module of :mod:`hub.cli` adds its commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(help="DVC Hub: dossier events of the province's one-stop system.")
