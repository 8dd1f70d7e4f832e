"""Stored events as plain JSON, encoded by orjson.

Every state the store holds is JSON-native already (the contract record and the transition)
except the event's ``timestamp``, which is written as an RFC 3339 string and read back as an
aware ``datetime``. Unlike eventsourcing's default transcoder there are no ``_type_`` wrappers,
so the stored JSON reads the same in psql as on the bus.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Transcoder


class OrjsonTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        obj = orjson.loads(data)
        timestamp = obj.get("timestamp") if isinstance(obj, dict) else None
        if isinstance(timestamp, str):
            obj["timestamp"] = datetime.fromisoformat(timestamp)
        return obj
