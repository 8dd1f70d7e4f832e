"""A dossier history as CSV, or as a printable HTML report."""

from __future__ import annotations

import io
from datetime import datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from hub.adapters.csv_cells import SafeWriter
from hub.audit.history import DossierHistory, TimelineEntry

COLUMNS = list(TimelineEntry.model_fields)

_templates = Environment(
    loader=PackageLoader("hub.audit", "templates"), autoescape=select_autoescape()
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def to_csv(history: DossierHistory) -> str:
    """One row per event, columns as in the JSON timeline."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(COLUMNS)
    for entry in history.timeline:
        writer.writerow([_cell(getattr(entry, column)) for column in COLUMNS])
    return out.getvalue()


def to_html(history: DossierHistory, generated_at: datetime) -> str:
    """A self-contained page, laid out for printing (or saving as PDF from a browser)."""
    return _templates.get_template("dossier.html").render(
        history=history, generated_at=generated_at
    )
