"""Upcasters: bring an event written against an older schema version up to the current one.

An upcaster takes the JSON object of version ``n`` and returns the object of version
``n + 1``; :func:`upcast` chains them. Upcasters work on plain JSON values (never on
models) so that they keep working when the models move on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JsonObject = dict[str, Any]
Upcaster = Callable[[JsonObject], JsonObject]

_V1_CHANNELS = {"truc_tiep": 1, "truc_tuyen": 2, "buu_chinh": 3}


def _received_v1_to_v2(event: JsonObject) -> JsonObject:
    """v1 named the channel in Vietnamese and counted processing time in working days only.

    v2 uses the portal's channel code (``KenhThucHien``) and a processing time with a unit.
    """
    payload = dict(event.get("payload") or {})
    channel = payload.get("channel")
    if isinstance(channel, str) and channel in _V1_CHANNELS:
        payload["channel"] = _V1_CHANNELS[channel]
    if "processing_days" in payload:
        days = payload.pop("processing_days")
        payload["processing_time"] = {"value": days, "unit": "working_days"}
    return {**event, "payload": payload, "schema_version": 2}


UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("dossier.received", 1): _received_v1_to_v2,
}


def upcast(event_type: str, version: int, event: JsonObject, current: int) -> JsonObject:
    """Apply the upcasters from ``version`` up to ``current``."""
    while version < current:
        event = UPCASTERS[(event_type, version)](event)
        version += 1
    return event
