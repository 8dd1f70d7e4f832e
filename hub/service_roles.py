"""The roles a hub process runs: each alone (one container per role) or several together."""

from __future__ import annotations

from enum import StrEnum


class ServiceRole(StrEnum):
    API = "api"  # the HTTP API and the board
    INBOUND = "inbound"  # consumes agencies' actions from Kafka
    RELAY = "relay"  # publishes accepted events to Kafka
    PROJECTIONS = "projections"  # keeps the read models up to date
    SEALER = "sealer"  # signs checkpoints of the log
    CONNECTOR = "connector"  # syncs with the national portal (DVCHUB_DVCQG_URL)
