"""``dvchub ingest``, ``dvchub dossier`` and ``dvchub workload generate``: events in and out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import console, fail, hub_or_exit
from hub.cli.root import app

if TYPE_CHECKING:
    from hub.file_ingest import IngestReport

workload_app = typer.Typer(help="Synthetic workloads.")
app.add_typer(workload_app, name="workload")


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    rejects: Annotated[
        Path | None, typer.Option(help="Rejects file (default: FILE.rejects.jsonl)")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Events per transaction")] = None,
    strict: Annotated[
        bool, typer.Option(help="Exit with status 3 if any line is rejected")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """Append a file of JSON events, one per line, to the store."""
    import time

    import orjson
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from hub.file_ingest import NotAFileError, ingest_file

    if not file.is_file():
        raise fail(f"{file} is not a regular file")
    hub = hub_or_exit()
    rejects_path = rejects or file.with_name(file.name + ".rejects.jsonl")
    try:
        with Progress(
            *Progress.get_default_columns()[:-1],
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("ingesting", total=file.stat().st_size)
            started = time.perf_counter()
            report = ingest_file(
                file,
                hub.ingestor,
                rejects_path,
                batch_size or hub.settings.ingest_batch_size,
                on_progress=lambda n: progress.advance(task, n),
                max_line_bytes=hub.settings.ingest_max_line_bytes,
            )
            seconds = time.perf_counter() - started
    except NotAFileError as error:
        raise fail(f"{error}: give a file of JSON lines") from None
    finally:
        hub.close()
    if as_json:
        summary = {
            **report.as_dict(),
            "seconds": round(seconds, 3),
            "rejects_file": str(rejects_path),
        }
        typer.echo(orjson.dumps(summary).decode())
    else:
        print_ingest_report(report, rejects_path)
        console.print(f"in {seconds:,.1f} s ({report.lines / max(seconds, 1e-9):,.0f} lines/s)")
    if strict and report.rejected:
        raise typer.Exit(3)


def print_ingest_report(report: IngestReport, rejects: Path) -> None:
    from rich.table import Table

    table = Table(title="ingest", show_header=False)
    for name in ("lines", "accepted", "duplicate", "rejected", "blank"):
        table.add_row(name, str(getattr(report, name)))
    for reason, count in sorted(report.reasons.items()):
        table.add_row(f"  rejected: {reason}", str(count))
    console.print(table)
    if report.rejected:
        console.print(f"rejected lines written to {rejects}")


@app.command()
def dossier(code: str) -> None:
    """Print a dossier's current state and its events, as JSON."""
    import orjson

    from hub.log_reader import dossier_history

    with hub_or_exit() as hub:
        history = dossier_history(hub.store, code)
        found = hub.store.dossier(code)
    if found is None or found.state is None:
        console.print(f"dossier {code} is not in the store")
        raise typer.Exit(1)
    state = found.state
    document = {
        "dossier_code": state.code,
        "status": int(state.status),
        "status_name": state.status.name.lower(),
        "due_at": state.due_at,
        "counted_due_at": state.counted_due_at,
        "version": found.version,
        "events": [
            {"record": e.record, "transition": e.transition, "provenance": e.provenance}
            for e in history
        ],
    }
    typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@workload_app.command("generate")
def workload_generate(
    out: Path,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD")] = "2021-01-01",
    days: Annotated[int, typer.Option(min=1)] = 30,
    per_day: Annotated[int, typer.Option(min=1, help="Dossiers per working day")] = 40,
    seed: int = 2021,
) -> None:
    """Write a synthetic workload of realistic dossiers as JSON lines."""
    import orjson

    from hub.simulation.workload import Workload

    workload = Workload(date.fromisoformat(start), days, per_day, seed=seed)
    events = workload.events()
    with out.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event) + b"\n")
    console.print(f"wrote {len(events)} events to {out}")
