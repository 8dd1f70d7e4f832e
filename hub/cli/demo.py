"""``dvchub demo``: the hub embedded on a demo workload ending now, then its board."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, hub_or_exit
from hub.cli.events import print_ingest_report
from hub.cli.reports import build_report, render_text
from hub.cli.root import app


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, help="Days of history")] = 45,
    per_day: Annotated[int, typer.Option(min=1, help="Dossiers per working day")] = 30,
    serve_board: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Then serve the board and the API")
    ] = True,
    port: Annotated[int | None, typer.Option(help="Board and API port (default: settings)")] = None,
) -> None:
    """Run the hub embedded on a demo workload ending now, print the figures, then serve the
    board while the rest of today's dossiers arrive as their time comes."""
    from hub.catalogue.store import CatalogueStore
    from hub.domain.vietnam import VIETNAM
    from hub.file_ingest import IngestReport
    from hub.simulation.workload import Workload, demo_catalogue
    from hub.supervisor import Service

    hub = hub_or_exit()
    now = datetime.now(VIETNAM)
    try:
        workload = Workload(now.date() - timedelta(days=days), days + 2, per_day, now.toordinal())
        events = workload.events()
        past = [e for e in events if datetime.fromisoformat(e["occurred_at"]) <= now]
        coming = events[len(past) :]
        where = hub.settings.database_url or hub.settings.data_dir
        console.print(f"DVC Hub, embedded: {len(past)} demo events of {days} days into {where}")
        report = IngestReport(lines=len(past))
        size = hub.settings.ingest_batch_size
        for offset in range(0, len(past), size):
            for outcome in hub.ingestor.submit_json(past[offset : offset + size]):
                report.add(outcome)
        print_ingest_report(report, Path("-"))
        catalogue = CatalogueStore(hub.settings)
        try:
            catalogue.load(demo_catalogue(), "demo")
        finally:
            catalogue.close()
        render_text(build_report(hub, None, [], catch=True))  # what the board opens on
        _print_demo_examples(past)
    except BaseException:
        hub.close()
        raise
    if not serve_board:
        hub.close()
        return
    from hub.cli.serve import schema_or_exit
    from hub.serve import Parts
    from hub.serve import serve as run_services

    schema_or_exit(hub)
    host, chosen = hub.settings.api_host, hub.settings.api_port if port is None else port
    console.print(f"[bold]Board: http://{host}:{chosen}/[/]  (API: http://{host}:{chosen}/docs)")
    console.print(f"{len(coming)} more demo events arrive as their time comes; Ctrl-C stops.")

    def feed(stop: threading.Event) -> None:
        pending = list(coming)
        while pending and not stop.wait(5.0):
            moment = datetime.now(VIETNAM)
            due = [e for e in pending if datetime.fromisoformat(e["occurred_at"]) <= moment]
            if due:
                hub.ingestor.submit_json(due)
                pending = pending[len(due) :]

    run_services(
        hub, Parts(inbound=False, relay=False), host, chosen, [Service("demo-feed", feed, True)]
    )


def _print_demo_examples(events: list[dict[str, object]]) -> None:
    """Commands to try on the demo's own data, with codes and a period that exist in it."""
    if not events:
        return
    chosen = events[len(events) // 2]
    dossier = str(chosen["dossier_code"])
    unit = dossier.split("-", 1)[0]
    month = str(chosen["occurred_at"])[:7]
    console.print("Try, from the repository in another terminal:")
    for line in (
        f".venv/bin/dvchub dossier {dossier}",
        f".venv/bin/dvchub audit dossier {dossier}",
        f".venv/bin/dvchub report --period {month} --unit {unit}",
        f".venv/bin/dvchub ranking --period {month} --by on_time",
        ".venv/bin/dvchub projections status",
    ):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
