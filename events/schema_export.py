"""JSON Schema of every event type, for agency systems that do not use Python."""

from __future__ import annotations

from typing import Any

from events.parsing import CURRENT_VERSIONS, EVENT_TYPES


def event_schemas() -> dict[str, dict[str, Any]]:
    """Map each event type to its JSON Schema (draft 2020-12, as pydantic writes it)."""
    schemas: dict[str, dict[str, Any]] = {}
    for event_type, cls in sorted(EVENT_TYPES.items()):
        schema = cls.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"urn:dvc-hub:event:{event_type}:v{CURRENT_VERSIONS[event_type]}"
        schemas[event_type] = schema
    return schemas
