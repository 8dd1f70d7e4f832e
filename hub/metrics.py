"""Prometheus metrics of the hub (exposed at /metrics by the API, or on their own port)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from hub.ingest import Outcome

EVENTS = Counter(
    "dvchub_events_total",
    "Events submitted to the hub, by source and outcome",
    ["source", "status"],
)
REJECTED = Counter(
    "dvchub_events_rejected_total", "Events refused, by source and reason", ["source", "reason"]
)
RELAY_POSITION = Gauge("dvchub_relay_position", "Last log position published by the relay")
RELAY_LAG = Gauge("dvchub_relay_lag_events", "Accepted events not yet published by the relay")
INBOUND_LAG = Gauge(
    "dvchub_inbound_consumer_lag_records",
    "Records on the actions topic not yet consumed by this instance",
)
STORE_POSITION = Gauge("dvchub_store_position", "Position of the newest accepted event")
GROUP_REQUESTS = Histogram(
    "dvchub_ingest_group_requests",
    "HTTP requests written together in one group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)


def count(source: str, outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        EVENTS.labels(source, outcome.status).inc()
        if outcome.reason is not None:
            REJECTED.labels(source, outcome.reason.value).inc()
