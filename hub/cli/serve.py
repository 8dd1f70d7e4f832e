"""``dvchub serve``: the hub as a service (API, bus, projections, connector)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import err_console, hub_or_exit
from hub.cli.root import app
from hub.service_roles import ServiceRole

if TYPE_CHECKING:
    from hub.bootstrap import Hub


@app.command()
def serve(
    api: Annotated[bool, typer.Option(help="Run the HTTP API")] = True,
    inbound: Annotated[bool, typer.Option(help="Consume the actions topic (Kafka)")] = True,
    relay: Annotated[bool, typer.Option(help="Publish accepted events (Kafka)")] = True,
    projections: Annotated[
        bool, typer.Option(help="Keep the read models up to date and seal the log")
    ] = True,
    connector: Annotated[
        bool, typer.Option(help="Sync to the national portal (DVCHUB_DVCQG_URL)")
    ] = True,
    host: Annotated[str | None, typer.Option(help="API address (default: settings)")] = None,
    port: Annotated[int | None, typer.Option(help="API port (default: settings)")] = None,
    role: Annotated[
        list[ServiceRole] | None,
        typer.Option(
            help="Run this role alone (repeat for several); the --no-… switches are then unused"
        ),
    ] = None,
    probe_port: Annotated[
        int | None,
        typer.Option(
            help="Without the API: answer /healthz, /readyz and /metrics on this port "
            "(default: settings)",
            min=1,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run the hub: the API and the projections, and with Kafka configured, the inbound
    consumer and the relay."""
    from hub.serve import Parts

    parts = (
        Parts.only(role)
        if role
        else Parts(
            api=api,
            inbound=inbound,
            relay=relay,
            projections=projections,
            sealer=projections,
            connector=connector,
        )
    )
    hub = hub_or_exit()
    settings = hub.settings
    if role and ServiceRole.CONNECTOR in role and not settings.dvcqg_url:
        hub.close()
        err_console.print("[bold red]error:[/] the connector needs DVCHUB_DVCQG_URL")
        raise typer.Exit(2)
    connector_runs = parts.connector and bool(settings.dvcqg_url)
    if hub.bus.embedded and not (parts.api or parts.projections or parts.sealer or connector_runs):
        hub.close()
        err_console.print(
            "[bold red]error:[/] without DVCHUB_KAFKA_BOOTSTRAP there is no inbound consumer "
            "or relay: run the API, the projections, the sealer or the connector (with "
            "DVCHUB_DVCQG_URL)"
        )
        raise typer.Exit(2)
    schema_or_exit(hub)
    from hub.serve import serve as run_services

    run_services(
        hub,
        parts,
        host or settings.api_host,
        settings.api_port if port is None else port,
        probe_port=settings.probe_port if probe_port is None else probe_port,
    )


def schema_or_exit(hub: Hub) -> None:
    """The hub's tables at this release's revision (:func:`hub.migrations.ensure`), or exit."""
    import sqlalchemy.exc

    from hub import migrations

    try:
        migrations.ensure(hub.settings)
    except (migrations.SchemaBehind, sqlalchemy.exc.SQLAlchemyError) as error:
        hub.close()
        err_console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
