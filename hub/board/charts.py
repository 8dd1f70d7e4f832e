"""The unit page's charts: SVG drawn on the server by pygal, with no script and no CDN.

Each chart is followed on the page by a table of the same numbers, so the figures are there
for screen readers, keyboards and printers whatever the chart shows.
"""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

from projections.progress.queries import SeriesPoint

# Colours with at least 3:1 contrast against white (WCAG 2.1, graphical objects).
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#595959",
    colors=("#005a9c", "#b35900", "#2e7d32", "#8e24aa", "#c62828"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
)


def _chart(kind: Any, title: str, labels: list[str]) -> Any:
    chart = kind(
        js=[],  # no script: the SVG stands alone, offline
        disable_xml_declaration=True,
        style=_STYLE,
        title=title,
        height=320,
        width=900,
        show_minor_x_labels=False,
        x_label_rotation=0,
        truncate_label=-1,
        legend_at_bottom=True,
        print_values=False,
    )
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 8)]
    return chart


def received_chart(points: list[SeriesPoint], title: str, names: dict[str, str]) -> str:
    chart = _chart(pygal.StackedBar, title, [p.period.label for p in points])
    chart.add(names["walk_in"], [p.totals.received_walk_in for p in points])
    chart.add(names["online"], [p.totals.received_online for p in points])
    chart.add(names["post"], [p.totals.received_post for p in points])
    return str(chart.render(is_unicode=True))


def resolved_chart(points: list[SeriesPoint], title: str, names: dict[str, str]) -> str:
    chart = _chart(pygal.StackedBar, title, [p.period.label for p in points])
    chart.add(names["early"], [p.totals.resolved_early for p in points])
    chart.add(names["on_time"], [p.totals.resolved_on_time for p in points])
    chart.add(names["late"], [p.totals.resolved_late for p in points])
    return str(chart.render(is_unicode=True))


def pending_chart(points: list[SeriesPoint], title: str, names: dict[str, str]) -> str:
    chart = _chart(pygal.Line, title, [p.period.label for p in points])
    chart.add(names["pending_within"], [p.totals.pending_within_deadline for p in points])
    chart.add(names["overdue"], [p.totals.overdue for p in points])
    return str(chart.render(is_unicode=True))
