"""Choices the read side offers its callers (the CLI's options, the API's parameters), in a
module of their own so that naming one costs nothing."""

from __future__ import annotations

from enum import StrEnum


class RankBy(StrEnum):
    ON_TIME = "on_time"
    ONLINE = "online"
