"""``dvchub schema export|docs``: the published event contract, as files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, fail, settings_or_exit
from hub.cli.root import app

schema_app = typer.Typer(help="The published event contract.")
app.add_typer(schema_app, name="schema")


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write the JSON Schema of every event type, and the AsyncAPI document of the topics
    (asyncapi.json), into DIRECTORY."""
    import orjson

    from events.asyncapi import asyncapi_document
    from events.schema_export import event_schemas

    directory.mkdir(parents=True, exist_ok=True)
    for event_type, schema in event_schemas().items():
        path = directory / f"{event_type}.schema.json"
        path.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n")
        console.print(f"wrote {path}")
    settings = settings_or_exit()
    document = asyncapi_document(
        settings.kafka_actions_topic, settings.kafka_events_topic, settings.kafka_rejects_topic
    )
    path = directory / "asyncapi.json"
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    console.print(f"wrote {path}")


@schema_app.command("docs")
def schema_docs(
    out: Annotated[Path, typer.Option(help="Where to write")] = Path("docs/events.md"),
    readme: Annotated[
        Path, typer.Option(help="The README whose table of settings to rewrite")
    ] = Path("README.md"),
) -> None:
    """Write the table of event types, fields and lifecycle transitions, and the README's
    table of settings."""
    from hub.contract_docs import render
    from hub.settings_docs import with_table

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(), encoding="utf-8")
    console.print(f"wrote {out}")
    try:
        readme.write_text(with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    except (OSError, ValueError) as error:
        raise fail(str(error)) from None
    console.print(f"wrote the table of settings in {readme}")
