"""Prometheus metrics of the projection workers (on the API's /metrics when in the same
process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS = Counter(
    "dvchub_projection_events_total",
    "Events read by projection workers: applied, skipped (already applied), unknown dossier, "
    "or parked (could not be folded)",
    ["projection", "outcome"],
)
POSITION = Gauge(
    "dvchub_projection_position", "Newest log position applied by this worker", ["projection"]
)
LAG = Gauge(
    "dvchub_projection_lag_records",
    "Records of the events topic's assigned partitions this worker has not read yet",
    ["projection"],
)
PARKED = Gauge(
    "dvchub_projection_parked_events",
    "Events this projection could not fold and parked (dvchub projections parked lists them)",
    ["projection"],
)
