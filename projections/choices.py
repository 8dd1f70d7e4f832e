"""Choices the read side offers its callers (the CLI's options, the API's parameters), in a
module of their own so that naming one costs nothing."""

from __future__ import annotations

from enum import StrEnum


class RankBy(StrEnum):
    ON_TIME = "on_time"
    ONLINE = "online"


class View(StrEnum):
    """How figures are placed across a reorganisation of the units (projections.views)."""

    THEN = "then"  # as organised then
    RESTATED = "restated"  # onto today's units
