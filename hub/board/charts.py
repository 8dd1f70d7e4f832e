"""The unit page's charts: SVG drawn on the server by pygal, with no script and no CDN.

Each chart is followed on the page by a table of the same numbers, so the figures are there
for screen readers, keyboards and printers whatever the chart shows. The charts are drawn
small with large type, so that scaled to a phone's width their labels stay readable; late
and overdue are drawn in red, early and on time in green and blue.
"""

from __future__ import annotations

from typing import Any

import pygal
from pygal.style import Style

from projections.progress.queries import SeriesPoint

# Colours with at least 3:1 contrast against white (WCAG 2.1, graphical objects).
BLUE, ORANGE, PURPLE = "#005a9c", "#a34700", "#6a1b9a"
GREEN, RED = "#1b5e20", "#b71c1c"


def _style(*colours: str) -> Style:
    return Style(
        background="white",
        plot_background="white",
        foreground="#1a1a1a",
        foreground_strong="#1a1a1a",
        foreground_subtle="#595959",
        colors=colours,
        font_family="system-ui, sans-serif",
        label_font_size=16,
        major_label_font_size=16,
        legend_font_size=17,
        title_font_size=18,
        value_font_size=14,
    )


def _chart(kind: Any, title: str, labels: list[str], style: Style) -> Any:
    """A chart with no title of its own (its figure's caption names it; ``title`` is its
    accessible description)."""
    chart = kind(
        js=[],  # no script: the SVG stands alone, offline
        disable_xml_declaration=True,
        style=style,
        title=title,
        height=380,
        width=640,
        show_minor_x_labels=False,
        x_label_rotation=0,
        truncate_label=-1,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        print_values=False,
    )
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, -(-len(labels) // 5))]
    return chart


def received_chart(
    points: list[SeriesPoint], labels: list[str], title: str, names: dict[str, str]
) -> str:
    chart = _chart(pygal.StackedBar, title, labels, _style(BLUE, ORANGE, PURPLE))
    chart.add(names["walk_in"], [p.totals.received_walk_in for p in points])
    chart.add(names["online"], [p.totals.received_online for p in points])
    chart.add(names["post"], [p.totals.received_post for p in points])
    return str(chart.render(is_unicode=True))


def resolved_chart(
    points: list[SeriesPoint], labels: list[str], title: str, names: dict[str, str]
) -> str:
    chart = _chart(pygal.StackedBar, title, labels, _style(GREEN, BLUE, RED))
    chart.add(names["early"], [p.totals.resolved_early for p in points])
    chart.add(names["on_time"], [p.totals.resolved_on_time for p in points])
    chart.add(names["late"], [p.totals.resolved_late for p in points])
    return str(chart.render(is_unicode=True))


def pending_chart(
    points: list[SeriesPoint], labels: list[str], title: str, names: dict[str, str]
) -> str:
    chart = _chart(pygal.Line, title, labels, _style(BLUE, RED))
    chart.add(names["pending_within"], [p.totals.pending_within_deadline for p in points])
    chart.add(names["overdue"], [p.totals.overdue for p in points])
    return str(chart.render(is_unicode=True))
