"""``dvchub serve``: the hub as a service (API, bus, projections, connector)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import err_console, hub_or_exit
from hub.cli.root import app


@app.command()
def serve(
    api: Annotated[bool, typer.Option(help="Run the HTTP API")] = True,
    inbound: Annotated[bool, typer.Option(help="Consume the actions topic (Kafka)")] = True,
    relay: Annotated[bool, typer.Option(help="Publish accepted events (Kafka)")] = True,
    projections: Annotated[bool, typer.Option(help="Keep the read models up to date")] = True,
    connector: Annotated[
        bool, typer.Option(help="Sync to the national portal (DVCHUB_DVCQG_URL)")
    ] = True,
    host: Annotated[str | None, typer.Option(help="API address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="API port (default: settings)")] = None,
) -> None:
    """Run the hub: the API and the projections, and with Kafka configured, the inbound
    consumer and the relay."""
    hub = hub_or_exit()
    settings = hub.settings
    if hub.bus.embedded and not api and not projections:
        hub.close()
        err_console.print(
            "[bold red]error:[/] without DVCHUB_KAFKA_BOOTSTRAP only the API and the "
            "projections run"
        )
        raise typer.Exit(2)
    from hub.serve import Parts
    from hub.serve import serve as run_services

    run_services(
        hub,
        Parts(api=api, inbound=inbound, relay=relay, projections=projections, connector=connector),
        host or settings.api_host,
        settings.api_port if port is None else port,
    )
